package io.r1cluster.actors.grpo;

import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.actors.serialization.KryoProtocol;
import io.r1cluster.actors.transport.ResendRequest;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.reward.RewardScorer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * One per rollout/reward node. Receives the {@link RunSpec} from the learner (or from a pipeline's
 * generate-stage teacher, a run of its own), builds the node's
 * {@link RolloutEngine} (tokenizer, model shell, Aeron weight receiver) and reward scorer on the
 * io dispatcher, and publishes them through {@link NodeResources}. Afterwards it watches the weight
 * versions the learner announces: when the receiver lacks the newest one for two checks in a row
 * (missed chunks, a late join, a corrupted chunk) it sends the learner a {@link ResendRequest};
 * generation meanwhile goes on with the version the node has.
 */
public final class NodeAgent extends AbstractBehavior<NodeAgent.Command> {

  /** Service key the learner finds agents by. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "r1-node-agent");

  /** Protocol. */
  public interface Command {}

  /** The learner published (or will publish) weights {@code version} of run {@code runId}. */
  public record WeightsAnnounced(String runId, long version) implements Command, KryoMessage {}

  /** The run spec, wrapped (RunSpec is also sent to other parties). */
  public record Join(RunSpec spec) implements Command, KryoMessage {}

  /**
   * This protocol's wire ids (see {@code KryoRegistry}); the run spec inside {@link Join} registers its
   * own ({@link RunSpec.KryoIds}).
   */
  public static final class KryoIds implements KryoProtocol {
    @Override
    public void register(KryoProtocol.Ids ids) {
      ids.add(1003, Join.class);
      ids.add(1004, WeightsAnnounced.class);
    }
  }

  private record Booted(String runId, RolloutEngine engine, Throwable error) implements Command, NoSerializationVerificationNeeded {}

  private enum Check implements Command, NoSerializationVerificationNeeded { INSTANCE }

  public static Behavior<Command> create(boolean rollout, boolean reward, GrpoActorSettings settings) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      timers.startTimerWithFixedDelay(Check.INSTANCE, settings.resendCheckInterval());
      return new NodeAgent(ctx, rollout, reward, settings);
    }));
  }

  private final boolean rollout;
  private final boolean reward;
  private final GrpoActorSettings settings;
  private final Executor io;
  private final NodeResources resources;
  private RunSpec spec;
  private RolloutEngine engine;
  private long announced = -1;
  private int missingChecks;

  private NodeAgent(ActorContext<Command> ctx, boolean rollout, boolean reward, GrpoActorSettings settings) {
    super(ctx);
    this.settings = settings;
    this.rollout = rollout;
    this.reward = reward;
    this.io = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(GrpoActorSettings.IO_DISPATCHER));
    this.resources = NodeResources.get(ctx.getSystem());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Join.class, this::onJoin)
        .onMessage(WeightsAnnounced.class, this::onAnnounced)
        .onMessage(Booted.class, this::onBooted)
        .onMessageEquals(Check.INSTANCE, this::onCheck)
        .build();
  }

  private Behavior<Command> onJoin(Join j) {
    RunSpec s = j.spec();
    if (spec != null && spec.runId().equals(s.runId())) {
      announced = Math.max(announced, s.weights().version());
      if (engine != null) {
        engine.receiver().announced(announced);
      }
      return this;
    }
    if (spec != null) {
      // a new run replaces the previous one (its learner and weight stream are gone)
      getContext().getLog().info("run {} replaces run {} on this node", s.runId(), spec.runId());
      CompletableFuture<RolloutBackend> old = resources.reset();
      old.thenAcceptAsync(RolloutBackend::close, io);
      engine = null;
    }
    resources.serve(s.runId());
    announced = s.weights().version();
    missingChecks = 0;
    spec = s;
    getContext().getLog().info("joining run {} (rollout: {}, reward: {})", s.runId(), rollout, reward);
    if (reward) {
      try {
        resources.reward().complete(new RewardScorer(
            RewardRegistry.create(s.rewardFuncs(), s.rewardKwargs()), s.rewardWeights()));
      } catch (RuntimeException e) {
        resources.reward().completeExceptionally(e);
      }
    }
    if (rollout) {
      int slots = settings.rolloutSlots(s.rolloutSlots());
      getContext().getLog().info("{} generation slots on this node ({})", slots,
          settings.rolloutSlots() > 0 ? "r1.grpo.rollout.slots / member --slots" : "the recipe's cluster.rollout_slots");
      resources.useSlots(slots);
      String host = getContext().getSystem().address().getHost().orElse("127.0.0.1");
      CompletableFuture<RolloutEngine> boot = CompletableFuture.supplyAsync(() -> EngineFactory.build(s, host,
          getContext().getSystem().settings().config()), io);
      getContext().pipeToSelf(boot, (ok, err) -> new Booted(s.runId(), ok, err));
    }
    return this;
  }

  private Behavior<Command> onBooted(Booted b) {
    if (spec == null || !spec.runId().equals(b.runId())) {
      if (b.engine() != null) {
        b.engine().close(); // a newer run arrived while this one booted
      }
      return this;
    }
    if (b.error() != null) {
      getContext().getLog().error("rollout engine failed to start: {}", b.error().toString());
      resources.rollout().completeExceptionally(b.error());
      return this;
    }
    engine = b.engine();
    engine.receiver().announced(announced); // versions announced while it booted
    resources.rollout().complete(engine);
    return this;
  }

  private Behavior<Command> onAnnounced(WeightsAnnounced a) {
    if (spec != null && spec.runId().equals(a.runId())) {
      announced = Math.max(announced, a.version());
      if (engine != null) {
        engine.receiver().announced(announced); // the receiver swaps only to announced versions
      }
    }
    return this;
  }

  private Behavior<Command> onCheck() {
    if (engine == null || announced < 0) {
      return this;
    }
    if (engine.receiver().latestVersion() >= announced) {
      missingChecks = 0;
      return this;
    }
    if (++missingChecks >= 2) {
      ResendRequest r = engine.receiver().resendRequest(announced);
      if (r != null) {
        spec.resendTo().tell(new Learner.Resend(r));
      }
      missingChecks = 0;
    }
    return this;
  }
}
