package io.r1cluster.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;

/**
 * Per-token log-probabilities and entropies from logits. Dimensions: B batch, T time, V vocab.
 */
public final class LogProbs {
  private LogProbs() {}

  /**
   * log p(target) = log_softmax(logits / temperature)[target].
   *
   * @param logits [B,T,V]
   * @param targets [B,T] int64 ids
   * @return [B,T]
   */
  public static NDArray of(NDArray logits, NDArray targets, double temperature) {
    NDArray l = temperature == 1.0 ? logits : Nd.div(logits, temperature);
    NDArray logp = l.logSoftmax(-1); // [B,T,V]
    NDArray idx = targets.toType(DataType.INT64, false).expandDims(-1); // [B,T,1]
    return logp.gather(idx, -1).squeeze(-1); // [B,T]
  }

  /** Entropy −Σ p log p of softmax(logits / temperature) per position, [B,T]. */
  public static NDArray entropy(NDArray logits, double temperature) {
    NDArray l = temperature == 1.0 ? logits : Nd.div(logits, temperature);
    NDArray logp = l.logSoftmax(-1);
    return logp.exp().mul(logp).sum(new int[] {-1}).neg();
  }
}
