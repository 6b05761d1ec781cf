package io.r1cluster.core.grpo;

/**
 * Loss aggregation over tokens (TRL's {@code loss_type}). With per-token losses ℓ and completion
 * mask m over B sequences:
 * <ul>
 *   <li>{@code GRPO}: mean over sequences of (Σ_t ℓ·m / Σ_t m);
 *   <li>{@code BNPO}: Σ ℓ·m / Σ m over the micro-batch;
 *   <li>{@code DR_GRPO}: Σ ℓ·m / (B · max_completion_length);
 *   <li>{@code DAPO}: Σ ℓ·m / N where N is the completion-token count of the whole step (all
 *       accumulation micro-batches).
 * </ul>
 */
public enum LossType {
  GRPO,
  BNPO,
  DR_GRPO,
  DAPO
}
