package io.r1cluster.core.sft;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.model.LogProbs;
import java.util.Map;

/**
 * The per-token loss of a supervised step. {@link SftTrainer#accumulate} sums it over the trained
 * (completion) tokens of a step and divides by their count, so every loss is token-averaged.
 * Dimensions: B batch, T time (the targets, one shorter than the input), V vocab.
 *
 * <p>The default, {@link #CROSS_ENTROPY}, is the SFT loss −log p_student(target).
 */
public interface TokenLoss {
  /** Cross-entropy against the data's tokens: ℓ_t = −log softmax(z_t)[y_t]. */
  TokenLoss CROSS_ENTROPY = (logits, targets, extra, parts) -> LogProbs.of(logits, targets, 1.0).neg();

  /**
   * Work done before the micro-batch's forward pass, with autograd off (e.g. a teacher's logits).
   * Arrays must be attached to {@code scope}. Default: none.
   *
   * @param batch the micro-batch
   * @return an array handed to {@link #perToken}, or null
   */
  default NDArray prepare(NDManager scope, SftBatcher.Batch batch) {
    return null;
  }

  /**
   * The loss of every position, differentiable in {@code logits}.
   *
   * @param logits student logits [B,T,V] (the position before each target)
   * @param targets target ids [B,T]
   * @param prepared what {@link #prepare} returned for this micro-batch
   * @param parts per-token components [B,T] to log, by metric name (e.g. {@code distill/kl}); logged
   *     token-averaged like the loss
   * @return [B,T]
   */
  NDArray perToken(NDArray logits, NDArray targets, NDArray prepared, Map<String, NDArray> parts);
}
