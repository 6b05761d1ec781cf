package io.r1cluster.actors.grpo;

import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;

/**
 * One generation slot: a Cluster Sharding entity ({@link #TYPE_KEY}, ids {@code rollout-0 …}) on
 * the nodes with the {@code rollout} role. It samples G completions of a prompt with the node's
 * {@link RolloutEngine} on the rollout dispatcher (never on its own thread), hands the group to a
 * {@link RewardWorker} of the pool the Receptionist lists (round robin), and runs at most
 * {@code r1.grpo.rollout.max-in-flight} generations at once; further requests wait in order.
 *
 * <p>A failed generation (no weights in time, an engine error) is a typed reply
 * ({@link PromptDispatcher.GenerateFailed}); the dispatcher re-dispatches the prompt.
 */
public final class RolloutWorker extends AbstractBehavior<RolloutWorker.Command> {

  /** The entity type. */
  public static final EntityTypeKey<Command> TYPE_KEY = EntityTypeKey.create(Command.class, "RolloutWorker");

  /** Protocol. */
  public interface Command {}

  /**
   * Generate the group of one prompt.
   *
   * @param dispatchId the dispatcher's id of this attempt
   * @param prompt the prompt
   * @param seed sampling seed
   * @param minVersion oldest acceptable policy version (waits for it)
   * @param replyTo the dispatcher (gets the scored group from the reward worker, or a failure)
   */
  public record Generate(long dispatchId, Prompt prompt, long seed, long minVersion,
      ActorRef<PromptDispatcher.Command> replyTo) implements Command, KryoMessage {}

  private record Generated(Generate request, Group group, long nanos, Throwable error)
      implements Command, NoSerializationVerificationNeeded {}

  private record RewardWorkers(java.util.Set<ActorRef<RewardWorker.Command>> workers)
      implements Command, NoSerializationVerificationNeeded {}

  /** Registers the entity type on this node (call on every node; non-rollout nodes get a proxy). */
  public static void init(org.apache.pekko.actor.typed.ActorSystem<?> system, GrpoActorSettings settings) {
    ClusterSharding.get(system).init(
        Entity.of(TYPE_KEY, ctx -> create(ctx.getEntityId(), settings)).withRole(Roles.ROLLOUT));
  }

  static Behavior<Command> create(String entityId, GrpoActorSettings settings) {
    return Behaviors.setup(ctx -> new RolloutWorker(ctx, entityId, settings));
  }

  private final String entityId;
  private final int maxInFlight;
  private final Duration waitForWeights;
  private final Executor executor;
  private final NodeResources resources;
  private final java.util.List<ActorRef<RewardWorker.Command>> rewards = new java.util.ArrayList<>();
  private final ArrayDeque<RewardWorker.Score> unscored = new ArrayDeque<>();
  private int nextReward;
  private final ArrayDeque<Generate> waiting = new ArrayDeque<>();
  private final java.util.Map<Long, Generate> running = new java.util.HashMap<>();
  private int inFlight;

  private RolloutWorker(ActorContext<Command> ctx, String entityId, GrpoActorSettings settings) {
    super(ctx);
    this.entityId = entityId;
    this.maxInFlight = settings.rolloutMaxInFlight();
    this.waitForWeights = settings.weightsWaitTimeout();
    this.executor = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(GrpoActorSettings.ROLLOUT_DISPATCHER));
    this.resources = NodeResources.get(ctx.getSystem());
    // the reward pool as the Receptionist lists it, round robin; unlike a group router that drops
    // messages while its first listing is still empty, groups wait here until a worker is known
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(RewardWorker.KEY, ctx.messageAdapter(
        Receptionist.Listing.class, l -> new RewardWorkers(l.getServiceInstances(RewardWorker.KEY)))));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Generate.class, this::onGenerate)
        .onMessage(Generated.class, this::onGenerated)
        .onMessage(RewardWorkers.class, this::onRewardWorkers)
        .onSignal(org.apache.pekko.actor.typed.PostStop.class, s -> onStop())
        .build();
  }

  private Behavior<Command> onGenerate(Generate g) {
    if (inFlight < maxInFlight) {
      start(g);
    } else {
      waiting.add(g);
    }
    return this;
  }

  /**
   * Stopped (Cluster Sharding hands the entity over to a new member, or the node leaves): every
   * request it holds — waiting, generating, or generated but not yet handed to a reward worker —
   * fails back to the dispatcher now, which re-dispatches it at once instead of after the dispatch
   * timeout. A generation still running finishes on the executor and its result is dropped, so
   * nothing is trained twice.
   */
  private Behavior<Command> onStop() {
    String why = entityId + ": stopped (shard handed over or node leaving)";
    for (Generate g : running.values()) {
      g.replyTo().tell(new PromptDispatcher.GenerateFailed(g.dispatchId(), why));
    }
    for (Generate g : waiting) {
      g.replyTo().tell(new PromptDispatcher.GenerateFailed(g.dispatchId(), why));
    }
    for (RewardWorker.Score sc : unscored) {
      sc.replyTo().tell(new PromptDispatcher.GenerateFailed(sc.dispatchId(), why));
    }
    running.clear();
    waiting.clear();
    unscored.clear();
    return this;
  }

  private void start(Generate g) {
    inFlight++;
    running.put(g.dispatchId(), g);
    CompletableFuture<Generated> work = resources.rollout().thenApplyAsync(engine -> {
      long t0 = System.nanoTime();
      try {
        Group group = engine.generate(g.prompt(), g.seed(), g.minVersion(), waitForWeights);
        return new Generated(g, group, System.nanoTime() - t0, null);
      } catch (Exception | Error e) {
        return new Generated(g, null, 0, e);
      }
    }, executor);
    getContext().pipeToSelf(work, (ok, err) -> ok != null ? ok : new Generated(g, null, 0, err));
  }

  private Behavior<Command> onRewardWorkers(RewardWorkers w) {
    rewards.clear();
    rewards.addAll(w.workers());
    while (!rewards.isEmpty() && !unscored.isEmpty()) {
      score(unscored.poll());
    }
    return this;
  }

  private void score(RewardWorker.Score s) {
    if (rewards.isEmpty()) {
      unscored.add(s); // bounded by the dispatcher's in-flight budget
      return;
    }
    rewards.get(Math.floorMod(nextReward++, rewards.size())).tell(s);
  }

  private Behavior<Command> onGenerated(Generated done) {
    inFlight--;
    Generate g = done.request();
    running.remove(g.dispatchId());
    if (done.error() != null) {
      getContext().getLog().warn("{}: generation of prompt {} failed: {}", entityId, g.prompt().id(), done.error().toString());
      g.replyTo().tell(new PromptDispatcher.GenerateFailed(g.dispatchId(), entityId + ": " + done.error()));
    } else {
      score(new RewardWorker.Score(g.dispatchId(), done.group(), done.nanos(), g.replyTo()));
    }
    while (inFlight < maxInFlight && !waiting.isEmpty()) {
      start(waiting.poll());
    }
    return this;
  }
}
