package io.r1cluster.core.recipe;

import java.util.Locale;

/** transformers' {@code SchedulerType} values ({@code lr_scheduler_type}). */
public enum LrSchedulerType {
  LINEAR, COSINE, COSINE_WITH_RESTARTS, POLYNOMIAL, CONSTANT, CONSTANT_WITH_WARMUP, INVERSE_SQRT,
  REDUCE_LR_ON_PLATEAU, COSINE_WITH_MIN_LR, WARMUP_STABLE_DECAY;

  /** The name as written in recipes (e.g. {@code cosine_with_min_lr}). */
  public String hfName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
