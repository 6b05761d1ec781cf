package io.r1cluster.actors.grpo;

import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.actors.serialization.KryoProtocol;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.ScoredGroup;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Scores sampled groups with the run's {@link io.r1cluster.core.reward.RewardScorer} on the reward
 * dispatcher, one group at a time (further requests wait in order). Registered with the
 * Receptionist under {@link #KEY}; the GRPO stream ({@link GrpoStream}) asks the pool the
 * Receptionist lists. The scorer never throws (a failing function gives NaN cells); should scoring
 * fail anyway, the reply is a typed {@link ScoreFailed} and the prompt is re-dispatched.
 *
 * <p>Bounded: a group not scored within {@code r1.grpo.reward.scoring-timeout} is answered with "no
 * score" (every reward NaN, {@link io.r1cluster.core.reward.RewardScorer#noScore}), the scoring
 * thread is interrupted, and the worker goes on with the next group (a late result is dropped). At
 * most {@code r1.grpo.reward.max-waiting} requests wait; more are refused with {@link ScoreFailed}.
 *
 * <p>Progress: like a rollout entity, the worker reports the attempts it holds (scoring or waiting
 * in its queue) to their asker ({@link RolloutWorker.Working}) every {@code progressEveryMillis} of
 * the request, so slow rewards (sandboxed code, many tests) may take any time up to
 * {@code scoring-timeout} per group, however long the queue, while a dead reward node is still
 * noticed once its reports stop.
 */
public final class RewardWorker extends AbstractBehavior<RewardWorker.Command> {

  /** The pool's service key. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "r1-reward-worker");

  /** Protocol. */
  public interface Command {}

  /** Replies to {@link Score}. */
  public interface Reply {
    long dispatchId();
  }

  /**
   * Score a group.
   *
   * @param dispatchId the ledger's id of the attempt
   * @param group the sampled group
   * @param replyTo gets the scored group or a failure (the stream's ask)
   * @param progressTo gets {@link RolloutWorker.Working} every {@code progressEveryMillis} while this
   *     worker holds the request (queued or scoring); null: no reports
   */
  public record Score(long dispatchId, Group group, ActorRef<Reply> replyTo, ActorRef<RolloutWorker.Working> progressTo,
      long progressEveryMillis) implements Command, KryoMessage, ProgressReports.Held {
    /** A request without progress reports. */
    public Score(long dispatchId, Group group, ActorRef<Reply> replyTo) {
      this(dispatchId, group, replyTo, null, 0);
    }
  }

  /** The scored group of an attempt. */
  public record Scored(long dispatchId, ScoredGroup group) implements Reply, KryoMessage {}

  /** Scoring failed; the prompt is re-dispatched. */
  public record ScoreFailed(long dispatchId, String reason) implements Reply, KryoMessage {}

  /** This protocol's wire ids (see {@code KryoRegistry}). */
  public static final class KryoIds implements KryoProtocol {
    @Override
    public void register(KryoProtocol.Ids ids) {
      ids.add(1006, Score.class);
      ids.add(1012, Scored.class);
      ids.add(1013, ScoreFailed.class);
    }
  }

  private record Done(long attempt, Score request, ScoredGroup scored, Throwable error)
      implements Command, NoSerializationVerificationNeeded {}

  private enum ReportProgress implements Command, NoSerializationVerificationNeeded { INSTANCE }

  /** A watched asker (a request's {@code progressTo}) stopped. */
  private record AskerGone(ActorRef<RolloutWorker.Working> asker) implements Command, NoSerializationVerificationNeeded {}

  public static Behavior<Command> create() {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return new RewardWorker(ctx, timers);
    }));
  }

  /** Config keys (reference.conf). */
  static final String SCORING_TIMEOUT = GrpoActorSettings.PATH + ".reward.scoring-timeout";
  static final String MAX_WAITING = GrpoActorSettings.PATH + ".reward.max-waiting";

  private final Executor executor;
  private final NodeResources resources;
  private final ArrayDeque<Score> waiting = new ArrayDeque<>();
  private final Duration scoringTimeout;
  private final int maxWaiting;
  /** Reports the held requests to their askers, and watches the askers: when one stops, its queued requests are dropped. */
  private final ProgressReports<Command> reports;
  /** The request being scored, null when idle. */
  private Score scoring;
  private long attempt;
  private final AtomicReference<Thread> scoringThread = new AtomicReference<>();
  private long timedOut;

  private RewardWorker(ActorContext<Command> ctx, TimerScheduler<Command> timers) {
    super(ctx);
    this.reports = new ProgressReports<>(ctx, timers, ReportProgress.INSTANCE, AskerGone::new);
    this.executor = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(GrpoActorSettings.REWARD_DISPATCHER));
    this.resources = NodeResources.get(ctx.getSystem());
    com.typesafe.config.Config c = ctx.getSystem().settings().config();
    this.scoringTimeout = c.getDuration(SCORING_TIMEOUT);
    this.maxWaiting = c.getInt(MAX_WAITING);
    if (scoringTimeout.isNegative() || scoringTimeout.isZero() || maxWaiting < 0) {
      throw new io.r1cluster.core.InputException(null, 0, SCORING_TIMEOUT + " / " + MAX_WAITING,
          "need a positive timeout and a non-negative queue bound, got " + scoringTimeout + " / " + maxWaiting);
    }
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Score.class, this::onScore)
        .onMessage(Done.class, this::onDone)
        .onMessageEquals(ReportProgress.INSTANCE, this::onReportProgress)
        .onMessage(AskerGone.class, this::onAskerGone)
        .build();
  }

  private Behavior<Command> onScore(Score s) {
    reports.took(s);
    if (scoring != null) {
      if (waiting.size() >= maxWaiting) {
        s.replyTo().tell(new ScoreFailed(s.dispatchId(), "reward worker busy: " + maxWaiting + " requests already waiting"));
        return this;
      }
      waiting.add(s);
    } else {
      start(s);
    }
    return this;
  }

  /**
   * Nobody waits for the queued groups of a stopped asker (its replacement dispatches their prompts
   * again): they are dropped instead of scored. The group being scored runs to its end.
   */
  private Behavior<Command> onAskerGone(AskerGone a) {
    reports.forget(a.asker());
    int before = waiting.size();
    waiting.removeIf(s -> a.asker().equals(s.progressTo()));
    if (waiting.size() < before) {
      getContext().getLog().info("{} queued groups dropped: their asker {} stopped", before - waiting.size(), a.asker().path());
    }
    return this;
  }

  /** Tells each asker which of its attempts this worker still holds. */
  private Behavior<Command> onReportProgress() {
    reports.report(java.util.stream.Stream.concat(java.util.stream.Stream.ofNullable(scoring), waiting.stream()));
    return this;
  }

  private void start(Score s) {
    scoring = s;
    long a = ++attempt;
    CompletableFuture<ScoredGroup> work = resources.reward().thenApplyAsync(scorer -> {
      scoringThread.set(Thread.currentThread());
      try {
        return scorer.score(s.group());
      } finally {
        scoringThread.compareAndSet(Thread.currentThread(), null);
        Thread.interrupted(); // an interrupt meant for this group must not hit the next task on this thread
      }
    }, executor).orTimeout(scoringTimeout.toNanos(), TimeUnit.NANOSECONDS);
    getContext().pipeToSelf(work, (ok, err) -> new Done(a, s, ok, err));
  }

  private Behavior<Command> onDone(Done done) {
    if (done.attempt() != attempt) {
      return this; // a late result of a group already answered
    }
    scoring = null;
    Score s = done.request();
    Throwable err = done.error() instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null
        ? ce.getCause() : done.error();
    if (err instanceof TimeoutException) {
      timedOut++;
      Thread stuck = scoringThread.getAndSet(null);
      if (stuck != null) {
        stuck.interrupt();
      }
      getContext().getLog().warn("scoring prompt {} did not finish within {}: no score for its group ({} so far)",
          s.group().prompt().id(), scoringTimeout, timedOut);
      s.replyTo().tell(new Scored(s.dispatchId(), resources.reward().join().noScore(s.group())));
    } else if (done.error() != null) {
      getContext().getLog().warn("scoring prompt {} failed: {}", s.group().prompt().id(), done.error().toString());
      s.replyTo().tell(new ScoreFailed(s.dispatchId(), "reward: " + done.error()));
    } else {
      s.replyTo().tell(new Scored(s.dispatchId(), done.scored()));
    }
    if (!waiting.isEmpty()) {
      start(waiting.poll());
    }
    return this;
  }
}
