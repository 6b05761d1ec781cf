package io.r1cluster.actors.grpo;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The reward pool as the Receptionist lists it, least outstanding first, at most
 * {@link #PER_WORKER} asks per worker: one being scored and a few waiting, so a worker never idles
 * between groups and never has a backlog in its mailbox (a worker's own replies would queue behind
 * it). Further asks wait here, in order, up to their deadline — also while the listing is still
 * empty, where a group router would drop them. {@link #update} is called by the {@link PromptDispatcher},
 * {@link #acquire} and {@link #release} by the {@link GrpoStream}.
 */
final class RewardPool {
  static final int PER_WORKER = 4;
  /** Asks that may wait for a worker at once; more fail at once (the stream's in-flight budget keeps far below). */
  static final int MAX_WAITERS = 4096;
  private final Map<ActorRef<RewardWorker.Command>, Integer> outstanding = new LinkedHashMap<>();
  private final ArrayDeque<CompletableFuture<ActorRef<RewardWorker.Command>>> waiters =
      new ArrayDeque<>();

  void update(Set<ActorRef<RewardWorker.Command>> listing) {
    List<Runnable> grants;
    synchronized (this) {
      outstanding.keySet().retainAll(listing);
      for (ActorRef<RewardWorker.Command> w : listing) {
        outstanding.putIfAbsent(w, 0);
      }
      grants = grantLocked();
    }
    grants.forEach(Runnable::run);
  }

  synchronized int size() {
    return outstanding.size();
  }

  /** A worker with room, now or once one has (failing after {@code wait}); {@link #release} it after its reply. */
  CompletionStage<ActorRef<RewardWorker.Command>> acquire(Duration wait) {
    synchronized (this) {
      ActorRef<RewardWorker.Command> w = leastLoadedLocked();
      if (w != null && waiters.isEmpty()) {
        outstanding.merge(w, 1, Integer::sum);
        return CompletableFuture.completedFuture(w);
      }
      CompletableFuture<ActorRef<RewardWorker.Command>> f = new CompletableFuture<>();
      waiters.removeIf(CompletableFuture::isDone); // timed-out asks
      if (waiters.size() >= MAX_WAITERS) {
        return CompletableFuture.failedFuture(new IllegalStateException(
            "reward pool: " + MAX_WAITERS + " asks already wait for a worker"));
      }
      waiters.add(f);
      return f.orTimeout(wait.toNanos(), TimeUnit.NANOSECONDS);
    }
  }

  void release(ActorRef<RewardWorker.Command> w) {
    List<Runnable> grants;
    synchronized (this) {
      outstanding.computeIfPresent(w, (k, n) -> Math.max(0, n - 1)); // absent: the worker left the listing
      grants = grantLocked();
    }
    grants.forEach(Runnable::run);
  }

  private ActorRef<RewardWorker.Command> leastLoadedLocked() {
    ActorRef<RewardWorker.Command> best = null;
    int min = PER_WORKER;
    for (Map.Entry<ActorRef<RewardWorker.Command>, Integer> e : outstanding.entrySet()) {
      if (e.getValue() < min) {
        min = e.getValue();
        best = e.getKey();
      }
    }
    return best;
  }

  /** Hands free capacity to waiters; the futures are completed after the lock is released. */
  private List<Runnable> grantLocked() {
    List<Runnable> grants = new ArrayList<>();
    while (!waiters.isEmpty()) {
      CompletableFuture<ActorRef<RewardWorker.Command>> f = waiters.peek();
      if (f.isDone()) {
        waiters.poll(); // timed out while waiting
        continue;
      }
      ActorRef<RewardWorker.Command> w = leastLoadedLocked();
      if (w == null) {
        break;
      }
      waiters.poll();
      outstanding.merge(w, 1, Integer::sum);
      grants.add(() -> {
        if (!f.complete(w)) {
          release(w); // timed out in the meantime
        }
      });
    }
    return grants;
  }
}
