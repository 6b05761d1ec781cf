package io.r1cluster.actors.grpo;

import io.r1cluster.core.reward.RewardScorer;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * Per-node (per ActorSystem) handles to what the {@link NodeAgent} builds when a run starts: the
 * generation engine for the node's {@link RolloutWorker} entities and the reward scorer for its
 * {@link RewardWorker}s. Entities may start before the run spec arrives; they compose on these
 * futures (off the actor thread) instead of waiting.
 */
public final class NodeResources implements Extension {
  private volatile CompletableFuture<RolloutBackend> rollout = new CompletableFuture<>();
  private volatile CompletableFuture<RewardScorer> reward = new CompletableFuture<>();

  private NodeResources() {}

  /** The extension id. */
  public static final ExtensionId<NodeResources> ID = new ExtensionId<>() {
    @Override
    public NodeResources createExtension(ActorSystem<?> system) {
      NodeResources r = new NodeResources();
      system.getWhenTerminated().whenComplete((done, err) -> r.rollout.thenAccept(RolloutBackend::close));
      return r;
    }
  };

  public static NodeResources get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  /** Completes once this node has booted its generation engine for the run. */

  public CompletableFuture<RolloutBackend> rollout() {
    return rollout;
  }

  /**
   * A new run replaces the previous one: fresh futures for the new engine and scorer. Returns the
   * previous run's engine future (close its engine once no generation uses it).
   */
  synchronized CompletableFuture<RolloutBackend> reset() {
    CompletableFuture<RolloutBackend> old = rollout;
    rollout = new CompletableFuture<>();
    reward = new CompletableFuture<>();
    return old;
  }

  /** Completes once this node has built the run's reward scorer. */
  public CompletableFuture<RewardScorer> reward() {
    return reward;
  }
}
