package io.r1cluster.actors.grpo;

import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.grpo.BatchSelector;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.stream.Materializer;

/**
 * The GRPO stream's admission control, on the learner node (a child of the {@link Learner}). It
 * owns the {@link PromptLedger} and runs the {@link GrpoStream} graph: it feeds the graph's source
 * one attempt per ack while the in-flight budget {@code (max_staleness + 1) × prompts_per_step}
 * allows, takes the graph's outcomes at its ack-based sink (scored groups into the ledger and the
 * batch buffer, failures back to the ledger for re-dispatch), and hands the learner a batch when it
 * asks for one (the learner pulls, so a slow learner leaves the budget full, the source idle and
 * the rollouts stalled, and nothing queues up).
 *
 * <p>Staleness: an attempt carries the oldest policy version it may be generated with
 * ({@code target − max_staleness}); when the learner takes a batch at version {@code v}, groups
 * with {@code v − version > max_staleness} are dropped, counted and their prompts dispatched again.
 * Timeouts re-dispatch; late duplicates are ignored (see {@link PromptLedger}).
 */
public final class PromptDispatcher extends AbstractBehavior<PromptDispatcher.Command> {

  /** Protocol. */
  public interface Command {}

  /**
   * The learner wants the next batch.
   *
   * @param trainVersion the policy version the batch will be trained at
   */
  record TakeBatch(long trainVersion, ActorRef<Learner.Command> replyTo) implements Command, NoSerializationVerificationNeeded {}

  /** The learner started a step that will produce {@code version}. */
  record StepStarted(long version) implements Command, NoSerializationVerificationNeeded {}

  /** Reply to {@link #TakeBatch}: groups (empty and {@code done} when the ledger is finished). */
  record Batch(List<ScoredGroup> groups, boolean done, PromptLedger.Counters counters, long completionTokens,
      double generateSeconds, int[] trainedCounts, long[] trainedKeys, long[] filteredKeys)
      implements Learner.Command, NoSerializationVerificationNeeded {}

  /** Current counters, for tests and the final report. */
  record GetCounters(ActorRef<PromptLedger.Counters> replyTo) implements Command, NoSerializationVerificationNeeded {}

  /** The graph's sink is ready (ack {@code ackTo} to get the first outcome). */
  record SinkStarted(ActorRef<GrpoStream.Ack> ackTo) implements Command, NoSerializationVerificationNeeded {}

  /** The graph's sink delivers outcomes (ack {@code ackTo} for the next). */
  record Arrived(ActorRef<GrpoStream.Ack> ackTo, List<GrpoStream.Outcome> outcomes)
      implements Command, NoSerializationVerificationNeeded {}

  /** The graph ended (it should not while the dispatcher lives): {@code error} or null. */
  record StreamEnded(Throwable error) implements Command, NoSerializationVerificationNeeded {}

  private record RewardWorkers(java.util.Set<ActorRef<RewardWorker.Command>> workers)
      implements Command, NoSerializationVerificationNeeded {}

  private enum Tick implements Command, NoSerializationVerificationNeeded { INSTANCE }

  /** Dispatch settings from the recipe. */
  record Plan(int promptsPerStep, int maxStaleness, int weightSyncSteps, boolean dynamicSampling, int maxNumGenBatches) {}

  /**
   * {@code runId}: the run whose weights must answer ({@link RolloutWorker.Generate#runId});
   * {@code startVersion}: the learner's policy version at start (0, or a resumed run's).
   */
  static Behavior<Command> create(String runId, PromptLedger ledger, Plan plan, GrpoActorSettings settings,
      long startVersion) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new PromptDispatcher(ctx, timers, runId, ledger, plan,
        settings, startVersion)));
  }

  private final String runId;
  private final PromptLedger ledger;
  private final Plan plan;
  private final GrpoActorSettings settings;
  private final long timeoutNanos;
  private final Materializer materializer;
  private final RewardPool rewards = new RewardPool();
  /** Since when groups wait to be scored and no reward worker exists, and the last warning about it (0: none). */
  private long noRewardSince;
  private long lastNoRewardWarning;
  private final GrpoStream.InFlight inFlight = new GrpoStream.InFlight();
  private final LinkedHashMap<Long, ScoredGroup> buffer = new LinkedHashMap<>();
  private final ArrayDeque<PromptLedger.Dispatch> outbox = new ArrayDeque<>();
  private final List<PromptLedger.Dispatch> retryNextTick = new ArrayList<>();
  private ActorRef<GrpoStream.Attempts> source;
  private boolean sourceReady;
  private long targetVersion;
  private TakeBatch pending;
  private long tokens;
  private int filteredThisStep;
  private double generateSeconds;
  private final List<Long> filteredSinceReply = new ArrayList<>();

  private PromptDispatcher(ActorContext<Command> ctx, TimerScheduler<Command> timers, String runId, PromptLedger ledger,
      Plan plan, GrpoActorSettings settings, long startVersion) {
    super(ctx);
    this.runId = runId;
    this.targetVersion = startVersion;
    this.ledger = ledger;
    this.plan = plan;
    this.settings = settings;
    this.timeoutNanos = settings.dispatchTimeout().toNanos();
    this.materializer = Materializer.createMaterializer(ctx);
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(RewardWorker.KEY, ctx.messageAdapter(
        Receptionist.Listing.class, l -> new RewardWorkers(l.getServiceInstances(RewardWorker.KEY)))));
    startStream();
    Duration tick = Duration.ofMillis(Math.max(50, Math.min(1000, settings.dispatchTimeout().toMillis() / 10)));
    timers.startTimerWithFixedDelay(Tick.INSTANCE, tick);
  }

  private void startStream() {
    source = GrpoStream.run(getContext().getSystem(), materializer, settings, runId, ledger.budget(), rewards,
        getContext().getSelf(), inFlight);
    sourceReady = true; // the first attempt may be sent at once, every further one after the source's ack
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Arrived.class, this::onArrived)
        .onMessage(SinkStarted.class, s -> {
          s.ackTo().tell(GrpoStream.Ack.INSTANCE);
          return this;
        })
        .onMessageEquals(GrpoStream.Ack.INSTANCE, () -> {
          sourceReady = true;
          pump();
          return this;
        })
        .onMessage(StreamEnded.class, this::onStreamEnded)
        .onMessage(RewardWorkers.class, w -> {
          rewards.update(w.workers());
          return this;
        })
        .onMessage(TakeBatch.class, this::onTakeBatch)
        .onMessage(StepStarted.class, this::onStepStarted)
        .onMessage(GetCounters.class, g -> {
          g.replyTo().tell(ledger.counters());
          return this;
        })
        .onMessageEquals(Tick.INSTANCE, this::onTick)
        .onMessage(RolloutWorker.Working.class, this::onWorking)
        .build();
  }

  /**
   * Oldest policy version a group dispatched now may be generated with: it will be consumed after
   * the groups already in flight or buffered, i.e. at about {@code target + ahead / prompts_per_step},
   * and may then be at most {@code max_staleness} versions old. (With the budget of
   * {@code (max_staleness + 1) × prompts_per_step} this is at most the version being trained now.)
   */
  private long minVersion() {
    PromptLedger.Counters c = ledger.counters();
    long ahead = Math.max(0, c.inFlight() + c.buffered() - 1);
    long consumedAt = targetVersion + ahead / plan.promptsPerStep();
    long min = Math.max(0, consumedAt - plan.maxStaleness());
    return min / plan.weightSyncSteps() * plan.weightSyncSteps();
  }

  /**
   * Feeds the source when it has acked the previous batch: re-dispatches first, then new prompts
   * while the budget allows, all in one batch.
   */
  private void pump() {
    if (!sourceReady) {
      return;
    }
    List<GrpoStream.Attempt> batch = new ArrayList<>();
    long now = System.nanoTime();
    while (true) {
      PromptLedger.Dispatch d = !outbox.isEmpty() ? outbox.poll()
          : ledger.canDispatch() ? ledger.next(now + timeoutNanos) : null;
      if (d == null) {
        break;
      }
      batch.add(new GrpoStream.Attempt(d.dispatchId(), d.prompt(), d.seed(), minVersion()));
    }
    if (!batch.isEmpty()) {
        sourceReady = false;
      source.tell(new GrpoStream.Attempts(batch));
    }
  }

  private Behavior<Command> onArrived(Arrived a) {
    for (GrpoStream.Outcome o : a.outcomes()) {
      if (o.group() != null) {
        onScored(o);
      } else {
        onFailed(o);
      }
    }
    tryServe();
    pump();
    a.ackTo().tell(GrpoStream.Ack.INSTANCE); // the buffer is bounded by the budget: always room
    return this;
  }

  private void onScored(GrpoStream.Outcome s) {
    long key = ledger.complete(s.dispatchId());
    if (key >= 0) {
      buffer.put(key, s.group());
      for (Completion c : s.group().group().completions()) {
        tokens += c.tokenIds().length;
      }
      generateSeconds += s.generateNanos() / 1e9;
    }
  }

  private void onFailed(GrpoStream.Outcome f) {
    PromptLedger.Dispatch again = ledger.failed(f.dispatchId(), System.nanoTime() + timeoutNanos);
    if (again != null) {
      // not at once: a node that fails fast (no weights yet, a broken engine) would spin
      getContext().getLog().info("re-dispatching prompt {} after a failure: {}", again.prompt().id(), f.failure());
      retryNextTick.add(again);
    }
  }

  private Behavior<Command> onStreamEnded(StreamEnded e) {
    // supervision resumes every stage, so this is unexpected; what was inside is re-dispatched by
    // the ledger's deadlines once a new graph runs
    getContext().getLog().error("the GRPO stream ended ({}); starting it again",
        e.error() == null ? "completed" : e.error().toString());
    startStream();
    pump();
    return this;
  }

  /** A rollout entity still holds these attempts (however long they take): their deadlines move on. */
  private Behavior<Command> onWorking(RolloutWorker.Working w) {
    long deadline = System.nanoTime() + timeoutNanos;
    for (long id : w.dispatchIds()) {
      ledger.renew(id, deadline);
    }
    return this;
  }

  private Behavior<Command> onTick() {
    long now = System.nanoTime();
    // a group waiting on this node for a free reward worker is alive, however long the queue
    int queued = 0;
    for (long id : inFlight.queuedForScoring()) {
      ledger.renew(id, now + timeoutNanos);
      queued++;
    }
    if (queued == 0 || rewards.size() > 0) {
      noRewardSince = 0;
    } else if (noRewardSince == 0) {
      noRewardSince = now;
    } else if (now - noRewardSince >= timeoutNanos / 4 && (lastNoRewardWarning == 0 || now - lastNoRewardWarning >= timeoutNanos)) {
      // they wait for a worker to join; say so (once per dispatch-timeout) instead of waiting silently
      lastNoRewardWarning = now;
      getContext().getLog().warn("{} generated groups wait to be scored, and the cluster has no reward worker: start a"
          + " member with the `reward` role", queued);
    }
    outbox.addAll(retryNextTick);
    retryNextTick.clear();
    for (PromptLedger.Dispatch d : ledger.expired(now, now + timeoutNanos)) {
      getContext().getLog().info("prompt {}: no reply and no progress report within {} ms (its node may be gone):"
          + " dispatching it again", d.prompt().id(), timeoutNanos / 1_000_000);
      outbox.add(d);
    }
    // the given-up attempts' asks end now (as failures the ledger ignores: their keys were dispatched again)
    for (long id : ledger.lapsed(now)) {
      inFlight.lapse(id, "no progress report within " + timeoutNanos / 1_000_000 + " ms");
    }
    pump();
    return this;
  }

  private Behavior<Command> onStepStarted(StepStarted s) {
    targetVersion = Math.max(targetVersion, s.version());
    pump();
    return this;
  }

  private Behavior<Command> onTakeBatch(TakeBatch t) {
    targetVersion = t.trainVersion(); // the learner's version now (a skipped step does not advance it)
    pending = t;
    dropStale(t.trainVersion());
    tryServe();
    pump();
    return this;
  }

  private void dropStale(long trainVersion) {
    Iterator<Map.Entry<Long, ScoredGroup>> it = buffer.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, ScoredGroup> e = it.next();
      if (trainVersion - e.getValue().group().policyVersion() > plan.maxStaleness()) {
        it.remove();
        ledger.dropStale(e.getKey());
      }
    }
  }

  private void tryServe() {
    if (pending == null) {
      return;
    }
    dropStale(pending.trainVersion());
    if (ledger.finished()) {
      reply(List.of(), true);
      return;
    }
    int size = plan.promptsPerStep();
    // which buffered groups make the batch (DAPO dynamic sampling: BatchSelector), at most
    // (max_num_gen_batches - 1) batches' worth of flat groups filtered per step
    int filterBudget = !plan.dynamicSampling() ? 0 : plan.maxNumGenBatches() <= 0 ? Integer.MAX_VALUE
        : Math.max(0, size * Math.max(0, plan.maxNumGenBatches() - 1) - filteredThisStep);
    // in key (dispatch) order, not arrival order: with max_staleness 0 a step's batch and its row order
    // are then a function of the seed alone, so a run is reproducible
    List<Long> order = new ArrayList<>(buffer.keySet());
    java.util.Collections.sort(order);
    List<float[]> totals = new ArrayList<>(order.size());
    for (Long k : order) {
      totals.add(buffer.get(k).total());
    }
    BatchSelector.Selection sel = BatchSelector.select(totals, size, plan.dynamicSampling(), filterBudget);
    for (int i : sel.filtered()) {
      long k = order.get(i);
      buffer.remove(k);
      ledger.filtered(k);
      filteredSinceReply.add(k);
      filteredThisStep++;
    }
    List<Long> keys = new ArrayList<>();
    for (int i : sel.train()) {
      keys.add(order.get(i));
    }
    if (!sel.filtered().isEmpty() && ledger.finished()) {
      reply(List.of(), true);
      return;
    }
    if (keys.size() < size && !(ledger.drained() && !keys.isEmpty())) {
      return; // wait for more groups
    }
    List<ScoredGroup> groups = new ArrayList<>();
    long[] trainedKeys = new long[keys.size()];
    for (int i = 0; i < keys.size(); i++) {
      long k = keys.get(i);
      groups.add(buffer.remove(k));
      ledger.trained(k);
      trainedKeys[i] = k;
    }
    // what is dispatched from now on will be consumed after this step: by version trainVersion + 1
    targetVersion = pending.trainVersion() + 1;
    filteredThisStep = 0;
    reply(groups, false, trainedKeys);
  }

  private void reply(List<ScoredGroup> groups, boolean done) {
    reply(groups, done, new long[0]);
  }

  /** Replies to the pending TakeBatch with the keys it consumed: trained ones, and those filtered since the last reply. */
  private void reply(List<ScoredGroup> groups, boolean done, long[] trainedKeys) {
    TakeBatch t = pending;
    pending = null;
    long[] filtered = filteredSinceReply.stream().mapToLong(Long::longValue).toArray();
    filteredSinceReply.clear();
    t.replyTo().tell(new Batch(groups, done, ledger.counters(), tokens, generateSeconds,
        done || ledger.finished() ? ledger.trainedCounts() : null, trainedKeys, filtered));
    tokens = 0;
    generateSeconds = 0;
  }
}
