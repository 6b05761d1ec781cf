package io.r1cluster.actors.grpo;

import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import java.time.Duration;
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

  @Override
  void close();
}
