package io.r1cluster.core.recipe;

/** {@code eval_strategy}, {@code save_strategy} and {@code logging_strategy} values. */
public enum IntervalStrategy {
  NO, STEPS, EPOCH,
  /** Only for {@code save_strategy}: save when the best metric improves. */
  BEST
}
