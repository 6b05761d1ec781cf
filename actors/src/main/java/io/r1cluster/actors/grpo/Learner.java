package io.r1cluster.actors.grpo;

import io.r1cluster.actors.metrics.Metrics;
import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.actors.serialization.KryoProtocol;
import io.r1cluster.actors.transport.ResendRequest;
import io.r1cluster.actors.transport.WeightPublisher;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.grpo.Advantages;
import io.r1cluster.core.grpo.CompletionLog;
import io.r1cluster.core.grpo.GrpoLearner;
import io.r1cluster.core.recipe.ClusterSettings;
import io.r1cluster.core.recipe.GrpoSettings;
import io.r1cluster.core.recipe.IntervalStrategy;
import io.r1cluster.core.recipe.TrainingSettings;
import io.r1cluster.core.train.MetricsLog;
import io.r1cluster.core.train.ReportTo;
import io.r1cluster.core.train.RunFolder;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GRPO learner: a cluster singleton on the {@code learner} role. It pulls batches from its
 * {@link PromptDispatcher}, runs {@link GrpoLearner#step} on its own learner thread, exports the new
 * weights there (the policy is never read while a step writes it) and publishes them over Aeron
 * on the io dispatcher, then announces the version to every {@link NodeAgent}. Resend requests from
 * nodes are served from the publisher's retained snapshot. Metrics go to {@code metrics.jsonl}; at
 * the end the final checkpoint is saved and the job's {@code done} future completes.
 *
 * <p>Every {@code save_steps} it writes {@code checkpoint-N} on the learner thread between two steps
 * ({@link LearnerCheckpoint}: weights, optimizer, step, version and the prompts consumed); a job
 * prepared on an output folder with a checkpoint starts from it (its version is published first and
 * its consumed prompts are never dispatched again). {@link Stop} ends a run after the step in flight
 * without the final save.
 */
public final class Learner extends AbstractBehavior<Learner.Command> {
  private static final Logger LOG = LoggerFactory.getLogger(Learner.class);

  /** Protocol. */
  public interface Command {}

  static final java.time.Duration REANNOUNCE_EVERY = java.time.Duration.ofSeconds(1);

  /** A node misses parts of a weight version: publish them again. */
  public record Resend(ResendRequest request) implements Command, KryoMessage {}

  /** This protocol's wire ids (see {@code KryoRegistry}). */
  public static final class KryoIds implements KryoProtocol {
    @Override
    public void register(KryoProtocol.Ids ids) {
      ids.add(1009, Resend.class);
    }
  }

  private record Agents(Set<ActorRef<NodeAgent.Command>> agents) implements Command, NoSerializationVerificationNeeded {}

  private record StepDone(GrpoLearner.StepResult result, long stepNanos, long pushNanos, boolean published,
      Throwable error) implements Command, NoSerializationVerificationNeeded {}

  private record Published(long version, long pushNanos, Throwable error) implements Command, NoSerializationVerificationNeeded {}

  private record Saved(Throwable error) implements Command, NoSerializationVerificationNeeded {}

  private record Checkpointed(int step, Throwable error) implements Command, NoSerializationVerificationNeeded {}

  /**
   * Stop cooperatively (a cancelled pipeline stage): the step in flight ends, nothing more is
   * trained, no final save; {@code done} completes with {@code completed = false} and the run
   * resumes from its last {@code checkpoint-N}. Local only.
   */
  public enum Stop implements Command, NoSerializationVerificationNeeded { INSTANCE }

  /** Announce the published version again (timer). */
  private enum Reannounce implements Command, NoSerializationVerificationNeeded { INSTANCE }

  public static Behavior<Command> create(GrpoJob job, GrpoActorSettings settings, PrintStream progress) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      // the published version again, every second: a node that missed an announcement (its Artery
      // connection restarted) would otherwise never use that version, and its requests would wait for it
      timers.startTimerWithFixedDelay(Reannounce.INSTANCE, REANNOUNCE_EVERY);
      return new Learner(ctx, job, settings, progress);
    }));
  }

  private final GrpoJob job;
  private final CompletableFuture<TrainerBackend> learner;
  private final ActorRef<PromptDispatcher.Command> dispatcher;
  private final java.util.concurrent.ExecutorService learnerExec;
  private final Executor io;
  private final MetricsLog metrics;
  private final LearnerMetrics progressLine;
  private final Set<ActorRef<NodeAgent.Command>> agents = new HashSet<>();
  private final int weightSyncSteps;
  private final int maxSteps;
  private final int saveEvery;
  private final LearnerCheckpoint checkpoint;
  private boolean stepInFlight;
  private int stopReceivedAfter = -1; // steps done when Stop arrived; -1 while not stopping
  private boolean ended; // done is (being) completed
  private long version;
  private long published = -1;
  private int steps;
  private boolean finishing;
  private PromptDispatcher.Batch current;
  private Map<String, Double> lastMetrics = Map.of();
  private long idleSince = System.nanoTime();
  private long idleNanos;
  private long lastStepEnd = System.nanoTime();
  private final CompletionLog completions;
  private final StepLog stepLog;
  private final int logEvery;
  private final boolean logFirst;

  private Learner(ActorContext<Command> ctx, GrpoJob job, GrpoActorSettings settings, PrintStream progress) {
    super(ctx);
    this.job = job;
    GrpoSettings g = job.settings.grpo();
    ClusterSettings c = job.settings.cluster();
    this.weightSyncSteps = c.weightSyncSteps();
    TrainingSettings t = job.settings.training();
    this.maxSteps = t.maxSteps();
    this.saveEvery = t.saveStrategy() == IntervalStrategy.NO ? Integer.MAX_VALUE
        : RunFolder.interval(t.saveSteps(), job.totalSteps);
    this.checkpoint = new LearnerCheckpoint(job.resume);
    if (job.resume != null) {
      this.steps = job.resume.step();
      this.version = job.resume.version();
    }
    // One thread for the run's whole life, not a Pekko dispatcher: a dispatcher with no actor on it
    // shuts its pool down after 1 s idle, so at max_staleness 0 (idle while rollouts run) every step got
    // a fresh thread, and with it a fresh PyTorch OpenMP team and malloc arena (measured: learner step
    // 4.5-6.3 s against 1.5-2.8 s on a thread that stays).
    this.learnerExec = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread th = new Thread(r, "r1-learner-" + job.runId);
      th.setDaemon(true);
      return th;
    });
    // built on the learner thread: its constructor runs a backward pass (AdamW defines the gradients)
    this.learner = CompletableFuture.supplyAsync(job.trainer::create, learnerExec);
    this.io = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(GrpoActorSettings.IO_DISPATCHER));
    ReportTo report = ReportTo.of(job.settings);
    report.notes().forEach(progress::println);
    this.metrics = new MetricsLog(job.outputDir.resolve(RunFolder.METRICS_FILE), steps, report.sinks(job.outputDir, steps));
    this.progressLine = new LearnerMetrics(progress, settings.progressInterval());
    this.completions = g.logCompletions() ? new CompletionLog(job.outputDir, steps) : null;
    this.stepLog = new StepLog(job.outputDir, job.runId); // steps.jsonl: the prompts each step trained
    this.logEvery = RunFolder.interval(t.loggingSteps(), job.totalSteps);
    this.logFirst = t.loggingFirstStep();
    int budget = (c.maxStaleness() + 1) * job.promptsPerStep;
    PromptLedger ledger = new PromptLedger(job.prompts, job.epochs, t.seed(), g.shuffleDataset(), budget);
    if (job.resume != null) {
      ledger.restore(job.resume.trainedKeys(), job.resume.filteredKeys());
      ctx.getLog().info("GRPO run {} resumes from {}: step {}, policy version {}, {} prompts consumed",
          job.runId, job.resume.dir(), steps, version, job.resume.trainedKeys().length + job.resume.filteredKeys().length);
    }
    this.dispatcher = ctx.spawn(PromptDispatcher.create(job.runId, ledger, new PromptDispatcher.Plan(job.promptsPerStep,
        c.maxStaleness(), c.weightSyncSteps(), c.dynamicSampling(), c.maxNumGenBatches()), settings, version),
        "dispatcher");
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(NodeAgent.KEY,
        ctx.messageAdapter(Receptionist.Listing.class, l -> new Agents(l.getServiceInstances(NodeAgent.KEY)))));
    ctx.getLog().info("GRPO run {}: {} prompts x {} epochs, {} prompts/step, {} steps, max_staleness {}, budget {}",
        job.runId, job.prompts.size(), job.epochs, job.promptsPerStep, job.totalSteps, c.maxStaleness(), budget);
    // the initial policy: version 0, or the resumed checkpoint's version
    long v0 = version;
    CompletableFuture<Published> first = learner
        .thenApplyAsync(l -> l.export(v0), learnerExec)
        .thenApplyAsync(snap -> {
          long t0 = System.nanoTime();
          job.publisher.publish(snap);
          return new Published(v0, System.nanoTime() - t0, null);
        }, io);
    ctx.pipeToSelf(first, (ok, err) -> ok != null ? ok : new Published(v0, 0, err));
    dispatcher.tell(new PromptDispatcher.TakeBatch(v0, ctx.getSelf()));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Agents.class, this::onAgents)
        .onMessage(Published.class, this::onPublished)
        .onMessage(PromptDispatcher.Batch.class, this::onBatch)
        .onMessage(StepDone.class, this::onStepDone)
        .onMessage(Resend.class, this::onResend)
        .onMessage(Saved.class, this::onSaved)
        .onMessage(Checkpointed.class, this::onCheckpointed)
        .onMessageEquals(Stop.INSTANCE, this::onStop)
        .onMessageEquals(Reannounce.INSTANCE, () -> {
          if (published >= 0) {
            announce(published);
          }
          return this;
        })
        .onSignal(PostStop.class, s -> onPostStop())
        .build();
  }

  private Behavior<Command> onAgents(Agents a) {
    for (ActorRef<NodeAgent.Command> agent : a.agents()) {
      if (agents.add(agent)) {
        agent.tell(new NodeAgent.Join(job.spec(getContext().getSelf().narrow(), Math.max(0, published))));
      }
    }
    agents.retainAll(a.agents());
    return this;
  }

  private Behavior<Command> onPublished(Published p) {
    if (p.error() != null) {
      return fail(p.error());
    }
    published = Math.max(published, p.version());
    announce(p.version());
    return this;
  }

  private void announce(long v) {
    for (ActorRef<NodeAgent.Command> agent : agents) {
      agent.tell(new NodeAgent.WeightsAnnounced(job.runId, v));
    }
  }

  private Behavior<Command> onBatch(PromptDispatcher.Batch b) {
    if (finishing || stopping()) {
      return this;
    }
    if (b.done()) {
      return finish(b);
    }
    current = b;
    long now = System.nanoTime();
    idleNanos += now - idleSince;
    List<float[]> totals = new ArrayList<>();
    for (ScoredGroup g : b.groups()) {
      totals.add(g.total());
    }
    TrainBatch batch = new TrainBatch(b.groups(), Advantages.compute(totals, job.learnerConfig.scaleRewards()));
    long at = version;
    boolean last = maxSteps > 0 ? steps + 1 >= maxSteps : steps + 1 >= job.totalSteps;
    dispatcher.tell(new PromptDispatcher.StepStarted(at + 1));
    stepInFlight = true;
    int stepNo = steps + 1;
    boolean logRows = completions != null && (stepNo % logEvery == 0 || last || (stepNo == 1 && logFirst));
    CompletableFuture<StepDone> work = learner.thenApplyAsync(l -> {
      long t0 = System.nanoTime();
      GrpoLearner.StepResult r = l.step(batch, at);
      boolean publish = r.version() > at && (r.version() % weightSyncSteps == 0 || last);
      WeightSnapshot snap = publish ? l.export(r.version()) : null;
      return new Object[] {r, System.nanoTime() - t0, snap};
    }, learnerExec).thenApplyAsync(o -> {
      GrpoLearner.StepResult r = (GrpoLearner.StepResult) o[0];
      WeightSnapshot snap = (WeightSnapshot) o[2];
      long push = 0;
      if (snap != null) {
        long t0 = System.nanoTime();
        WeightPublisher.Outcome out = job.publisher.publish(snap);
        push = System.nanoTime() - t0;
        if (out != WeightPublisher.Outcome.SENT) {
          LOG.debug("weights v{}: {} (nodes will ask for a resend)", r.version(), out);
        }
      }
      if (logRows) {
        completions.log(stepNo, batch, at); // log_completions: on the I/O dispatcher, before the step is reported
      }
      return new StepDone(r, (Long) o[1], push, snap != null, null);
    }, io);
    getContext().pipeToSelf(work, (ok, err) -> ok != null ? ok : new StepDone(null, 0, 0, false, err));
    return this;
  }

  private Behavior<Command> onStepDone(StepDone d) {
    stepInFlight = false;
    if (d.error() != null) {
      return fail(d.error()); // nothing of this step is checkpointed
    }
    long now = System.nanoTime();
    version = d.result().version();
    steps++;
    if (d.published()) {
      published = version;
      announce(version);
    }
    PromptDispatcher.Batch b = current;
    PromptLedger.Counters c = b.counters();
    checkpoint.consumed(b.trainedKeys(), b.filteredKeys());
    double wall = Math.max(1e-9, (now - lastStepEnd) / 1e9);
    Map<String, Double> m = LearnerMetrics.stepMetrics(d.result().metrics(), c, b.completionTokens() / wall,
        Math.min(1.0, idleNanos / 1e9 / wall), d.stepNanos() / 1e9, d.pushNanos() / 1e6, Math.max(0, published), steps);
    metrics.step(steps, (c.trained() + c.filtered()) / (double) job.prompts.size(), m);
    LearnerMetrics.exportToPrometheus(Metrics.get(getContext().getSystem()).r1(), m);
    progressLine.progress(steps, job.totalSteps, m, steps == 1);
    stepLog.step(steps, version, b.groups(), b.trainedKeys(), b.filteredKeys());
    lastMetrics = m;
    job.reportStep(new GrpoJob.StepReport(steps, job.totalSteps, version, m, c, b.trainedKeys()));
    lastStepEnd = now;
    idleNanos = 0;
    idleSince = now;
    boolean last = maxSteps > 0 && steps >= maxSteps || steps >= job.totalSteps;
    if (steps % saveEvery == 0 && !last) {
      saveCheckpoint();
    }
    if (stopping()) {
      return stopNow();
    }
    if (maxSteps > 0 && steps >= maxSteps) {
      return finish(new PromptDispatcher.Batch(List.of(), true, c, 0, 0, null, new long[0], new long[0]));
    }
    dispatcher.tell(new PromptDispatcher.TakeBatch(version, getContext().getSelf()));
    return this;
  }

  /**
   * Writes {@code checkpoint-STEPS} on the learner thread, after this step and before the next (the
   * learner has one thread): the weights and optimizer state of this step and the keys
   * consumed up to it.
   */
  private void saveCheckpoint() {
    if (job.policy == null) {
      return; // simulated run: no model
    }
    int step = steps;
    var state = checkpoint.state(step, job.totalSteps, version, job.prompts.size(), job.epochs,
        job.settings.training().seed(), job.settings.grpo().shuffleDataset());
    CompletableFuture<Checkpointed> w = learner.thenApplyAsync(l -> {
      LearnerCheckpoint.write(job, l.optimizer(), step, state);
      return new Checkpointed(step, null);
    }, learnerExec);
    getContext().pipeToSelf(w, (ok, err) -> ok != null ? ok : new Checkpointed(step, err));
  }

  private Behavior<Command> onCheckpointed(Checkpointed c) {
    if (c.error() != null) {
      return fail(c.error());
    }
    getContext().getLog().info("GRPO run {}: checkpoint-{} saved", job.runId, c.step());
    return this;
  }

  private Behavior<Command> onStop() {
    if (finishing || stopping()) {
      return this;
    }
    stopReceivedAfter = steps;
    getContext().getLog().info("GRPO run {}: stopping after step {} (no final save)", job.runId, steps);
    return stepInFlight ? this : stopNow();
  }

  private boolean stopping() {
    return stopReceivedAfter >= 0;
  }

  /** Ends a stopped run once the learner thread is idle (a checkpoint being written finishes first). */
  private Behavior<Command> stopNow() {
    ended = true;
    closeLogs();
    getContext().stop(dispatcher);
    PromptLedger.Counters c = current == null ? null : current.counters();
    GrpoJob.RunResult r = new GrpoJob.RunResult(steps, version, c, null, job.outputDir, false, stopReceivedAfter);
    afterLearnerThread(() -> job.done.complete(r));
    learnerExec.shutdown(); // queued work (a checkpoint being written) still runs
    return Behaviors.stopped();
  }

  /** Runs {@code then} once everything queued on the learner thread has run (or at once if it is gone). */
  private void afterLearnerThread(Runnable then) {
    try {
      CompletableFuture.runAsync(() -> {}, learnerExec).whenComplete((ok, err) -> then.run());
    } catch (java.util.concurrent.RejectedExecutionException e) {
      then.run();
    }
  }

  private Behavior<Command> onPostStop() {
    if (!ended) {
      ended = true;
      // stopped from outside (its ActorSystem terminated): no final save; the run resumes from its last checkpoint
      closeLogs();
      afterLearnerThread(() -> job.done.completeExceptionally(
          new IllegalStateException("GRPO run " + job.runId + ": the learner stopped after step " + steps)));
    }
    learnerExec.shutdown();
    return this;
  }

  private Behavior<Command> onResend(Resend r) {
    CompletableFuture.runAsync(() -> job.publisher.resend(r.request()), io).whenComplete((ok, err) -> {
      if (err != null) {
        LOG.warn("weight resend v{} failed: {}", r.request().version(), err.toString());
      }
    });
    return this;
  }

  private Behavior<Command> finish(PromptDispatcher.Batch b) {
    finishing = true;
    current = b;
    getContext().getLog().info("GRPO run {} finished after {} steps (version {}); saving the checkpoint to {}",
        job.runId, steps, version, job.outputDir);
    CompletableFuture<Saved> save = learner.thenAcceptAsync(l -> {
      try {
        l.close();
        job.saveCheckpoint();
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }, learnerExec).thenApply(v -> new Saved(null));
    getContext().pipeToSelf(save, (ok, err) -> ok != null ? ok : new Saved(err));
    return this;
  }

  private Behavior<Command> onSaved(Saved s) {
    if (s.error() != null) {
      return fail(s.error());
    }
    ended = true;
    progressLine.progress(steps, job.totalSteps, lastMetrics, true);
    closeLogs();
    learnerExec.shutdown();
    getContext().stop(dispatcher);
    job.done.complete(new GrpoJob.RunResult(steps, version, current.counters(), current.trainedCounts(), job.outputDir,
        true, stopReceivedAfter));
    return Behaviors.empty();
  }

  private Behavior<Command> fail(Throwable t) {
    getContext().getLog().error("GRPO run {} failed: {}", job.runId, t.toString());
    ended = true;
    closeLogs();
    afterLearnerThread(() -> job.done.completeExceptionally(t));
    learnerExec.shutdown();
    return Behaviors.stopped();
  }

  private void closeLogs() {
    metrics.close();
    stepLog.close();
    if (completions != null) {
      completions.close();
    }
  }
}
