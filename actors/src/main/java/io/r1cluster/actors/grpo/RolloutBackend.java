package io.r1cluster.actors.grpo;

import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;

/**
 * What a {@link RolloutWorker} generates with: the node's {@link RolloutEngine} (the policy model),
 * or — in benchmarks only, and named as such — a simulated engine. Blocking; called on the rollout
 * dispatcher.
 */
public interface RolloutBackend extends AutoCloseable {

  /**
   * The G completions of one prompt, from a policy version ≥ {@code minVersion} (waiting for it at
   * most {@code wait}).
   */
  Group generate(Prompt prompt, long seed, long minVersion, Duration wait) throws TimeoutException, InterruptedException;

  /**
   * The same group without holding a generation thread for it: a batched backend ({@link RolloutEngine})
   * puts its G sequences into the node's running batch and completes the future when the last one
   * finishes; others run {@link #generate} on {@code slots}. Fails with the exceptions of
   * {@link #generate}. Cancelling the future frees the group's rows at the next token step (batched
   * backend; others finish the generation and drop it).
   */
  default CompletableFuture<Group> submit(Prompt prompt, long seed, long minVersion, Duration wait, Executor slots) {
    return CompletableFuture.supplyAsync(() -> {
      try {
        return generate(prompt, seed, minVersion, wait);
      } catch (TimeoutException | InterruptedException e) {
        throw new CompletionException(e);
      }
    }, slots);
  }

  /**
   * True when {@link #submit} costs no generation thread (requests are batched): an entity then runs
   * every request it gets at once, and the node's batch, not its slots, decides the throughput.
   */
  default boolean batched() {
    return false;
  }

  @Override
  void close();
}
