package io.r1cluster.core.data;

import java.util.Objects;

/**
 * One sampled completion.
 *
 * @param tokenIds completion token ids (prompt excluded)
 * @param logProbs behaviour log-prob of each sampled token under the policy that sampled it,
 *     {@code logProbs.length == tokenIds.length}
 * @param text decoded completion text
 * @param finishReason stop (EOS/stop string) or length
 * @param policyVersion version of the weights that produced it
 */
public record Completion(int[] tokenIds, float[] logProbs, String text, FinishReason finishReason, long policyVersion) {
  public Completion {
    Objects.requireNonNull(tokenIds, "tokenIds");
    Objects.requireNonNull(logProbs, "logProbs");
    Objects.requireNonNull(text, "text");
    Objects.requireNonNull(finishReason, "finishReason");
    if (tokenIds.length != logProbs.length) {
      throw new IllegalArgumentException(
          "tokenIds.length " + tokenIds.length + " != logProbs.length " + logProbs.length);
    }
  }

  public boolean truncated() {
    return finishReason == FinishReason.LENGTH;
  }
}
