package io.r1cluster.core.grpo;

/** How advantages are scaled: by the group's std (GRPO), the batch's std, or not at all (Dr. GRPO). */
public enum ScaleRewards {
  GROUP,
  BATCH,
  NONE
}
