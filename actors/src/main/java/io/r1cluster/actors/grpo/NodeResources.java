package io.r1cluster.actors.grpo;

import io.r1cluster.core.reward.RewardScorer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
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
  private volatile CompletableFuture<Executor> slots = new CompletableFuture<>();
  private volatile ExecutorService slotPool;
  private volatile int slotCount;
  private volatile String runId;

  private NodeResources() {}

  /** The extension id. */
  public static final ExtensionId<NodeResources> ID = new ExtensionId<>() {
    @Override
    public NodeResources createExtension(ActorSystem<?> system) {
      NodeResources r = new NodeResources();
      system.getWhenTerminated().whenComplete((done, err) -> {
        r.rollout.thenAccept(RolloutBackend::close);
        ExecutorService pool = r.slotPool;
        if (pool != null) {
          pool.shutdownNow();
        }
      });
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
   * The engine for a request of run {@code runId}: the node's engine future, or a failed future when
   * the node serves (or boots for) another run — its agent has not joined {@code runId} yet. A node
   * whose agent joined no run (benchmarks that complete these futures themselves) serves any run.
   */
  public synchronized CompletableFuture<RolloutBackend> rollout(String runId) {
    String serving = this.runId;
    if (serving != null && !serving.equals(runId)) {
      return CompletableFuture.failedFuture(new IllegalStateException(
          "this node serves run " + serving + ", not " + runId + " (it has not joined that run yet)"));
    }
    return rollout;
  }

  /** The node's agent joined run {@code runId} (after {@link #reset} when it replaces another run). */
  synchronized void serve(String runId) {
    this.runId = runId;
  }

  /**
   * A new run replaces the previous one: fresh futures for the new engine and scorer. Returns the
   * previous run's engine future (close its engine once no generation uses it).
   */
  synchronized CompletableFuture<RolloutBackend> reset() {
    CompletableFuture<RolloutBackend> old = rollout;
    rollout = new CompletableFuture<>();
    reward = new CompletableFuture<>();
    if (slotPool != null) {
      slotPool.shutdown(); // generations already queued finish (their results are dropped)
      slotPool = null;
    }
    slots = new CompletableFuture<>();
    slotCount = 0;
    return old;
  }

  /**
   * Gives this node {@code n} rollout threads for the run (call once per run). With the batched
   * {@link RolloutEngine} they only wait for weights and build models: every request of the node
   * generates in its one running batch per device, whatever {@code n} is. A backend that is not
   * batched (benchmarks' simulated engines) generates on them, {@code n} groups at a time.
   */
  public synchronized void useSlots(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("slots must be at least 1, got " + n);
    }
    if (slotPool != null) {
      return;
    }
    AtomicInteger id = new AtomicInteger();
    slotPool = Executors.newFixedThreadPool(n, r -> {
      Thread t = new Thread(r, "r1-rollout-slot-" + id.getAndIncrement());
      t.setDaemon(true);
      return t;
    });
    slotCount = n;
    slots.complete(slotPool);
  }

  /** Completes with the node's generation threads once the run's slots are known ({@link #useSlots}). */
  public CompletableFuture<Executor> slots() {
    return slots;
  }

  /** Generation slots of this node for the current run, 0 before they are known. */
  public int slotCount() {
    return slotCount;
  }

  /** Completes once this node has built the run's reward scorer. */
  public CompletableFuture<RewardScorer> reward() {
    return reward;
  }
}
