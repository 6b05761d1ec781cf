package io.r1cluster.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.Map;

/**
 * A causal language model as the trainers see it (SFT, GRPO, distillation). Implemented by
 * {@code Qwen2Model}.
 *
 * <p>Dimensions: B batch, T time, V vocabulary.
 */
public interface CausalLm {

  /** The model's configuration ({@code config.json}). */
  Qwen2Config config();

  /**
   * Trainable parameters by Hugging Face name, in a stable order. The arrays live in the model's
   * long-lived manager; trainers attach gradients to them and update them in place.
   */
  Map<String, NDArray> parameters();

  /**
   * Training forward pass (with autograd when a gradient collector is open).
   *
   * <p>Attention rule: query position i may attend key position j iff {@code j <= i} and
   * {@code segmentIds[b,i] == segmentIds[b,j] != 0}. Segment 0 is padding (left or right). Packed
   * sequences use distinct segment ids, so they never attend to each other.
   *
   * @param scope manager that owns every temporary and the result
   * @param inputIds [B,T] int64 token ids
   * @param segmentIds [B,T] int64, 0 = padding
   * @param positionIds [B,T] int64 rotary positions (restart at 0 for each packed sequence)
   * @return logits [B,T,V] float32; {@code logits[b,t]} predicts token t+1
   */
  NDArray logits(NDManager scope, NDArray inputIds, NDArray segmentIds, NDArray positionIds);
}
