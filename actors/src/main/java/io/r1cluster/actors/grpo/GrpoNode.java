package io.r1cluster.actors.grpo;

import java.io.PrintStream;
import java.util.Set;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Starts the GRPO actors a node's roles call for: the {@link RolloutWorker} entity type on every
 * node (a proxy where the node has no {@code rollout} role), a {@link NodeAgent} on rollout and
 * reward nodes, the {@link RewardWorker} pool on reward nodes, and — on the node that submits a run
 * — the {@link Learner} singleton on the {@code learner} role.
 */
public final class GrpoNode {
  private GrpoNode() {}

  /** Starts the per-node actors according to this member's roles. */
  public static void start(ActorSystem<?> system) {
    Set<String> roles = Cluster.get(system).selfMember().getRoles();
    GrpoActorSettings settings = GrpoActorSettings.fromConfig(system.settings().config());
    RolloutWorker.init(system, settings);
    boolean rollout = roles.contains(Roles.ROLLOUT);
    boolean reward = roles.contains(Roles.REWARD);
    if (rollout || reward) {
      system.systemActorOf(NodeAgent.create(rollout, reward, settings), "r1-node-agent", Props.empty());
    }
    if (reward) {
      for (int i = 0; i < settings.rewardWorkersPerNode(); i++) {
        system.systemActorOf(RewardWorker.create(), "r1-reward-" + i, Props.empty());
      }
    }
  }

  /**
   * Starts the rollout entity type and the reward pool without a {@link NodeAgent}: the caller
   * completes {@link NodeResources} itself (benchmarks with simulated backends); the node gets
   * {@code r1.grpo.rollout.slots} generation slots (1 when unset).
   */
  public static void startWorkers(ActorSystem<?> system) {
    GrpoActorSettings settings = GrpoActorSettings.fromConfig(system.settings().config());
    NodeResources.get(system).useSlots(settings.rolloutSlots(1));
    RolloutWorker.init(system, settings);
    for (int i = 0; i < settings.rewardWorkersPerNode(); i++) {
      system.systemActorOf(RewardWorker.create(), "r1-reward-" + i, Props.empty());
    }
  }

  /** Runs {@code job}'s learner as the cluster singleton on the {@code learner} role. */
  public static ActorRef<Learner.Command> startLearner(ActorSystem<?> system, GrpoJob job, PrintStream progress) {
    GrpoActorSettings settings = GrpoActorSettings.fromConfig(system.settings().config());
    return ClusterSingleton.get(system).init(SingletonActor.of(Learner.create(job, settings, progress), "r1-learner")
        .withSettings(ClusterSingletonSettings.create(system).withRole(Roles.LEARNER)));
  }

  /**
   * Runs {@code job}'s learner as a plain actor of this node (a pipeline stage's learner: no singleton proxy
   * between it and whoever stops it), named {@code name}.
   */
  public static ActorRef<Learner.Command> startLocalLearner(ActorSystem<?> system, GrpoJob job, PrintStream progress,
      String name) {
    GrpoActorSettings settings = GrpoActorSettings.fromConfig(system.settings().config());
    return system.systemActorOf(Learner.create(job, settings, progress), name, Props.empty());
  }
}
