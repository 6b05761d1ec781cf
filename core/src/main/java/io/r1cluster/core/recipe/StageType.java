package io.r1cluster.core.recipe;

/** Pipeline stage types ({@code type:} of a stage). */
public enum StageType {
  /** Teacher trace generation with rejection sampling; writes an SFT dataset. */
  GENERATE,
  /** Supervised fine-tuning (stage 1). */
  SFT,
  /** GRPO reinforcement learning (stage 2; R1-Zero when started from a base model). */
  GRPO,
  /** GRPO loss + {@code sft_loss_weight} × SFT loss in one optimizer step (stage 3). */
  COMBINED,
  /** Logit distillation from {@code teacher_model}. */
  DISTILL,
  /** pass@1 / pass@k on a test split. */
  EVAL;

  /** Whether the stage trains a model (and so is followed by an eval when {@code eval_after_stage}). */
  public boolean trains() {
    return this == SFT || this == GRPO || this == COMBINED || this == DISTILL;
  }
}
