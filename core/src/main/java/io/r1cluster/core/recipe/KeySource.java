package io.r1cluster.core.recipe;

/** Where a recipe key comes from (the dataclass that declares it upstream, or this project). */
public enum KeySource {
  /** transformers {@code TrainingArguments} (inherited by TRL's configs). */
  TRAINING_ARGUMENTS,
  /** TRL 0.18 {@code SFTConfig}. */
  TRL_SFT,
  /** TRL 0.18 {@code GRPOConfig}. */
  TRL_GRPO,
  /** TRL 0.18 {@code ModelConfig}. */
  TRL_MODEL,
  /** TRL 0.18 {@code ScriptArguments}. */
  TRL_SCRIPT,
  /** open-r1 {@code configs.py} ({@code ScriptArguments}, {@code GRPOScriptArguments}, {@code SFTConfig}, {@code GRPOConfig}). */
  OPEN_R1,
  /** A key of older TRL/transformers versions that open-r1 recipes still carry. */
  LEGACY,
  /** A key of r1-cluster (pipelines, cluster, GRPO variants newer than TRL 0.18, distillation). */
  R1_CLUSTER
}
