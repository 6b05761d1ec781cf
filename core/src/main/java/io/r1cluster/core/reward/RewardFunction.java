package io.r1cluster.core.reward;

/**
 * A reward function with open-r1's semantics: one score per completion, or {@code Float.NaN} where
 * it cannot judge ("no score", open-r1's {@code None}).
 */
public interface RewardFunction {
  /** The name used in recipes' {@code reward_funcs}. */
  String name();

  /** Scores a batch; the result has {@code in.size()} entries. */
  float[] score(RewardInput in);
}
