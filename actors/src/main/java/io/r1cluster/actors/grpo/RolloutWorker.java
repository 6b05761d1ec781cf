package io.r1cluster.actors.grpo;

import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.actors.serialization.KryoProtocol;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.ClusterShardingSettings;
import org.apache.pekko.cluster.sharding.typed.ShardingEnvelope;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * A routing point for generation: a Cluster Sharding entity ({@link #TYPE_KEY}, ids {@code rollout-0 …})
 * on the nodes with the {@code rollout} role. The GRPO stream ({@link GrpoStream}) asks it for the
 * group of one prompt; it submits the G completions to the node's {@link RolloutEngine}, whose one
 * running batch per device every entity of the node shares (waiting for weights runs on the node's
 * slots, {@link NodeResources#slots()}; never on the entity's thread). It runs at most
 * {@code r1.grpo.rollout.max-in-flight} requests at once (0: all of them with the batched engine, the
 * node's slots with a simulated backend; further requests wait in order) and replies with the {@link Generated}
 * group, or a typed {@link GenerateFailed} (no weights in time, an engine error, the entity moved,
 * the node serves another run): the stream then hands the prompt back to the ledger for re-dispatch.
 * The pipeline's generate stage asks the same entities for its teacher's answers.
 */
public final class RolloutWorker extends AbstractBehavior<RolloutWorker.Command> {

  /** The entity type. */
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "RolloutWorker");

  /** Protocol. */
  public interface Command {}

  /** Replies to {@link Generate}. */
  public interface Reply {
    long dispatchId();
  }

  /**
   * Generate the group of one prompt.
   *
   * @param dispatchId the asker's id of this attempt
   * @param runId the run whose weights must answer ({@link RunSpec#runId}): a node that serves another
   *     run (it has not joined this one yet) fails the request instead of answering with other weights
   * @param prompt the prompt
   * @param seed sampling seed
   * @param minVersion oldest acceptable policy version (waits for it)
   * @param replyTo gets the group or a failure (the stream's ask)
   * @param progressTo gets {@link Working} every {@code progressEveryMillis} while this entity holds the
   *     request (waiting for weights, queued or generating), so the asker can tell a long generation from
   *     a dead node; null: no reports
   */
  public record Generate(long dispatchId, String runId, Prompt prompt, long seed, long minVersion, ActorRef<Reply> replyTo,
      ActorRef<Working> progressTo, long progressEveryMillis) implements Command, KryoMessage, ProgressReports.Held {
    /** A request without progress reports. */
    public Generate(long dispatchId, String runId, Prompt prompt, long seed, long minVersion, ActorRef<Reply> replyTo) {
      this(dispatchId, runId, prompt, seed, minVersion, replyTo, null, 0);
    }
  }

  /**
   * A generate ask's own time limit: far beyond any generation. Askers give up on a request when its
   * entity stops reporting it ({@link Working}), not on this.
   */
  public static final Duration ASK_LIMIT = Duration.ofHours(12);

  /**
   * How often an entity reports a request to an asker that gives up after {@code timeout} without a
   * report: a quarter of it (at least 50 ms).
   */
  public static Duration reportEvery(Duration timeout) {
    return Duration.ofMillis(Math.max(50, timeout.toMillis() / 4));
  }

  /**
   * The attempts ({@code dispatchId}s) a rollout entity (or a {@link RewardWorker}) still holds: they are
   * alive, however long they take.
   */
  public record Working(long[] dispatchIds) implements PromptDispatcher.Command, KryoMessage {}

  /** The sampled group of an attempt, and how long generation took. */
  public record Generated(long dispatchId, Group group, long generateNanos) implements Reply, KryoMessage {}

  /** An attempt failed; the prompt is re-dispatched. */
  public record GenerateFailed(long dispatchId, String reason) implements Reply, KryoMessage {}

  /** This protocol's wire ids (see {@code KryoRegistry}). */
  public static final class KryoIds implements KryoProtocol {
    @Override
    public void register(KryoProtocol.Ids ids) {
      ids.add(1005, Generate.class);
      ids.add(1010, Generated.class);
      ids.add(1011, GenerateFailed.class);
      ids.add(1014, Working.class);
    }
  }

  private record Done(Generate request, Group group, long nanos, Throwable error)
      implements Command, NoSerializationVerificationNeeded {}

  private enum ReportProgress implements Command, NoSerializationVerificationNeeded { INSTANCE }

  /** The asker that requests report to stopped (a dispatcher or teacher gone: learner failover, run ended). */
  private record AskerGone(ActorRef<Working> asker) implements Command, NoSerializationVerificationNeeded {}

  /**
   * What Cluster Sharding sends to stop an entity (hand-over to another member, passivation): a message,
   * so it is handled after the requests already in the mailbox, which then fail back with the rest.
   * Without it the shard stops the entity with a system message, which overtakes queued requests; those
   * went to dead letters unanswered and were dispatched again only after the dispatch timeout (60 s).
   */
  record HandOff() implements Command, NoSerializationVerificationNeeded {}

  /** Registers the entity type on this node (call on every node; non-rollout nodes get a proxy). */
  public static void init(org.apache.pekko.actor.typed.ActorSystem<?> system, GrpoActorSettings settings) {
    ClusterSharding.get(system).init(entity(system, settings));
  }

  /**
   * The entity type: stopped with {@link HandOff}, and never passivated. Sharding's default passivates
   * an entity that has received no message for 2 minutes; a rollout entity receives nothing while it
   * generates (results come back through its own pipe), so a generation longer than that (long
   * reasoning completions on a large model) was stopped, failed back and dispatched again, forever.
   */
  static Entity<Command, ShardingEnvelope<Command>> entity(org.apache.pekko.actor.typed.ActorSystem<?> system,
      GrpoActorSettings settings) {
    return Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings)).withRole(Roles.ROLLOUT)
        .withStopMessage(new HandOff())
        .withSettings(ClusterShardingSettings.create(system).withRole(Roles.ROLLOUT).withNoPassivationStrategy());
  }

  static Behavior<Command> create(String entityId, GrpoActorSettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new RolloutWorker(ctx, timers, entityId, settings)));
  }

  private final String entityId;
  private final int maxInFlight;
  private final Duration waitForWeights;
  private final NodeResources resources;
  private final ArrayDeque<Generate> waiting = new ArrayDeque<>();
  private final java.util.Map<Long, Generate> running = new java.util.HashMap<>();
  /** The backend's futures of the running requests (written from the engine's threads, read on stop). */
  private final java.util.Map<Long, CompletableFuture<Group>> inFlight = new java.util.concurrent.ConcurrentHashMap<>();

  /** Reports the held requests to their askers, and watches the askers: when one stops, its requests are dropped. */
  private final ProgressReports<Command> reports;

  private RolloutWorker(ActorContext<Command> ctx, TimerScheduler<Command> timers, String entityId,
      GrpoActorSettings settings) {
    super(ctx);
    this.reports = new ProgressReports<>(ctx, timers, ReportProgress.INSTANCE, AskerGone::new);
    this.entityId = entityId;
    this.maxInFlight = settings.rolloutMaxInFlight();
    this.waitForWeights = settings.weightsWaitTimeout();
    this.resources = NodeResources.get(ctx.getSystem());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Generate.class, this::onGenerate)
        .onMessage(Done.class, this::onDone)
        .onMessage(HandOff.class, m -> Behaviors.stopped())
        .onMessageEquals(ReportProgress.INSTANCE, this::onReportProgress)
        .onMessage(AskerGone.class, this::onAskerGone)
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, s -> onStop())
        .build();
  }

  private Behavior<Command> onGenerate(Generate g) {
    reports.took(g);
    if (running.size() < cap()) {
      start(g);
    } else {
      waiting.add(g);
    }
    return this;
  }

  /** Tells each asker which of its attempts this entity still holds. */
  private Behavior<Command> onReportProgress() {
    reports.report(java.util.stream.Stream.concat(running.values().stream(), waiting.stream()));
    return this;
  }

  /**
   * Generations this entity runs at once: max-in-flight; else every request it gets once the node's
   * engine is known to batch (the stream's in-flight budget bounds them); else the node's slots (1
   * until they are known).
   */
  private int cap() {
    if (maxInFlight > 0) {
      return maxInFlight;
    }
    CompletableFuture<RolloutBackend> b = resources.rollout();
    if (b.isDone() && !b.isCompletedExceptionally() && b.join().batched()) {
      return Integer.MAX_VALUE;
    }
    return Math.max(1, resources.slotCount());
  }

  /**
   * Stopped (Cluster Sharding hands the entity over to a new member, or the node leaves): every
   * request it holds — waiting or generating — fails back now, so the stream re-dispatches it at
   * once instead of after the dispatch timeout. Its sequences still in the node's batch are
   * cancelled (their rows free at the next token step); a late result is dropped, so nothing is
   * trained twice.
   */
  private Behavior<Command> onStop() {
    String why = entityId + ": stopped (shard handed over or node leaving)";
    for (Generate g : running.values()) {
      g.replyTo().tell(new GenerateFailed(g.dispatchId(), why));
    }
    for (Generate g : waiting) {
      g.replyTo().tell(new GenerateFailed(g.dispatchId(), why));
    }
    for (CompletableFuture<Group> f : inFlight.values()) {
      f.cancel(false);
    }
    running.clear();
    waiting.clear();
    inFlight.clear();
    return this;
  }

  private void start(Generate g) {
    running.put(g.dispatchId(), g);
    CompletableFuture<Done> work = resources.slots().thenCompose(slots -> resources.rollout(g.runId()).thenCompose(engine -> {
      long t0 = System.nanoTime();
      CompletableFuture<Group> group;
      try {
        group = engine.submit(g.prompt(), g.seed(), g.minVersion(), waitForWeights, slots);
      } catch (RuntimeException e) {
        group = CompletableFuture.failedFuture(e);
      }
      inFlight.put(g.dispatchId(), group);
      return group.handle((grp, err) -> new Done(g, grp, System.nanoTime() - t0, err == null ? null : unwrap(err)));
    }));
    getContext().pipeToSelf(work, (ok, err) -> ok != null ? ok : new Done(g, null, 0, unwrap(err)));
  }

  private static Throwable unwrap(Throwable t) {
    return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
  }

  /**
   * Nobody waits for the requests of a stopped asker any more (its replacement dispatches its prompts
   * again): they leave the batch (their rows free at the next token step) or stop waiting for weights
   * at once, instead of generating for nobody and holding the node's slots.
   */
  private Behavior<Command> onAskerGone(AskerGone a) {
    reports.forget(a.asker());
    int dropped = 0;
    for (java.util.Iterator<Generate> it = running.values().iterator(); it.hasNext(); ) {
      Generate g = it.next();
      if (a.asker().equals(g.progressTo())) {
        CompletableFuture<Group> f = inFlight.remove(g.dispatchId());
        if (f != null) {
          f.cancel(false);
        }
        it.remove();
        dropped++;
      }
    }
    for (java.util.Iterator<Generate> it = waiting.iterator(); it.hasNext(); ) {
      if (a.asker().equals(it.next().progressTo())) {
        it.remove();
        dropped++;
      }
    }
    if (dropped > 0) {
      getContext().getLog().info("{}: {} requests dropped: their asker {} stopped", entityId, dropped, a.asker().path());
    }
    startWaiting();
    return this;
  }

  /** Starts waiting requests while this entity has room. */
  private void startWaiting() {
    while (running.size() < cap() && !waiting.isEmpty()) {
      start(waiting.poll());
    }
  }

  private Behavior<Command> onDone(Done done) {
    Generate g = done.request();
    inFlight.remove(g.dispatchId());
    if (running.remove(g.dispatchId()) == null) {
      return this; // already failed back (cannot happen while running; kept for safety)
    }
    if (done.error() != null) {
      getContext().getLog().warn("{}: generation of prompt {} failed: {}", entityId, g.prompt().id(), done.error().toString());
      g.replyTo().tell(new GenerateFailed(g.dispatchId(), entityId + ": " + done.error()));
    } else {
      g.replyTo().tell(new Generated(g.dispatchId(), done.group(), done.nanos()));
    }
    startWaiting();
    return this;
  }
}
