package io.r1cluster.core.grpo;

import ai.djl.ndarray.NDArray;
import io.r1cluster.core.model.Nd;

/**
 * The per-token GRPO objective on DJL arrays (differentiable in {@code logp}). Dimensions: B
 * sequences, T completion tokens; {@code mask} is 1 on completion tokens that count.
 *
 * <pre>
 *   log ρ_t = logp_t − old_t                      (token level)
 *   log ρ   = Σ_t m_t (logp_t − old_t) / Σ_t m_t  (sequence level, GSPO; broadcast over t)
 *   ρ' = min(ρ, δ) when δ is set (two-sided clip of the unclipped term)
 *   ℓ_t = −min(ρ'·A, clip(ρ, 1 − ε, 1 + ε_high)·A)
 *   ℓ_t += β · (exp(ref_t − logp_t) − (ref_t − logp_t) − 1)        (k3 KL, only when β > 0)
 *   ℓ_t *= min(exp(old_t − behaviour_t), cap)                        (truncated IS for stale groups)
 * </pre>
 */
public final class GrpoLoss {
  private GrpoLoss() {}

  /** Loss terms and the diagnostics TRL logs. */
  public record Terms(NDArray perToken, NDArray ratio, NDArray kl) {}

  /**
   * @param logp [B,T] current policy log-probs (with gradient)
   * @param old [B,T] log-probs of the policy the batch was scored with (no gradient)
   * @param advantages [B] (broadcast over tokens)
   * @param ref [B,T] reference log-probs, or null when β = 0
   * @param isWeight [B,T] truncated importance weights, or null
   */
  public static Terms perToken(NDArray logp, NDArray old, NDArray advantages, NDArray mask, NDArray ref,
      NDArray isWeight, GrpoConfig c) {
    NDArray logRatio = logp.sub(old);
    if (c.importanceSamplingLevel() == GrpoConfig.IsLevel.SEQUENCE) {
      NDArray count = mask.sum(new int[] {1}, true).maximum(1f);
      logRatio = logRatio.mul(mask).sum(new int[] {1}, true).div(count).broadcast(logp.getShape()); // [B,1] → [B,T]
    }
    NDArray ratio = logRatio.exp();
    NDArray a = advantages.expandDims(1); // [B,1]
    NDArray unclipped = c.delta() > 0 ? Nd.minimum(ratio, c.delta()) : ratio;
    NDArray clipped = ratio.clip(1 - c.epsilon(), 1 + c.epsilonHigh());
    NDArray loss = unclipped.mul(a).minimum(clipped.mul(a)).neg();
    NDArray kl = null;
    if (c.beta() > 0 && ref != null) {
      NDArray diff = ref.sub(logp);
      kl = diff.exp().sub(diff).sub(1f);
      loss = loss.add(Nd.mul(kl, c.beta()));
    }
    if (isWeight != null) {
      loss = loss.mul(isWeight);
    }
    return new Terms(loss, ratio, kl);
  }

  /** Truncated importance weights min(exp(old − behaviour), cap) for off-policy groups. */
  public static NDArray truncatedIs(NDArray old, NDArray behaviour, double cap) {
    return Nd.minimum(old.sub(behaviour).exp(), cap);
  }

  /**
   * Aggregates per-token losses (see {@link LossType}).
   *
   * @param maxCompletionLength for DR_GRPO
   * @param globalTokens completion tokens of the whole step, for DAPO
   */
  public static NDArray aggregate(NDArray perToken, NDArray mask, LossType type, int maxCompletionLength, double globalTokens) {
    NDArray masked = perToken.mul(mask);
    long b = perToken.getShape().get(0);
    return switch (type) {
      case GRPO -> masked.sum(new int[] {1}).div(mask.sum(new int[] {1}).maximum(1f)).mean();
      case BNPO -> masked.sum().div(mask.sum().maximum(1f));
      case DR_GRPO -> Nd.div(masked.sum(), (double) (b * (long) maxCompletionLength));
      case DAPO -> Nd.div(masked.sum(), Math.max(1.0, globalTokens));
    };
  }

  /** Clip-ratio diagnostics (TRL): fractions of mask tokens clipped low (ρ&lt;1−ε, A&lt;0), high (ρ&gt;1+ε_high, A&gt;0), either. */
  public static double[] clipRatios(NDArray ratio, NDArray advantages, NDArray mask, GrpoConfig c) {
    NDArray a = advantages.expandDims(1);
    NDArray low = ratio.lt(1 - c.epsilon()).logicalAnd(a.lt(0f).broadcast(ratio.getShape()));
    NDArray high = ratio.gt(1 + c.epsilonHigh()).logicalAnd(a.gt(0f).broadcast(ratio.getShape()));
    NDArray fm = mask;
    double n = Math.max(1f, fm.sum().getFloat());
    double lo = low.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(fm).sum().getFloat() / n;
    double hi = high.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mul(fm).sum().getFloat() / n;
    return new double[] {lo, hi, lo + hi};
  }

  /**
   * TRL's {@code top_entropy_quantile} ρ: 1 on mask tokens whose entropy is at least the (1 − ρ) quantile
   * (linear interpolation, as {@code torch.quantile}) of the entropies of all mask tokens, 0 elsewhere;
   * the loss is multiplied by it while its normaliser still counts every mask token.
   *
   * @param entropy [B·T] row-major per-token entropies
   * @param mask [B·T] 1 where a completion token counts
   * @param rho fraction of tokens kept, in (0, 1]
   * @return [B·T] the entropy mask (already multiplied by {@code mask})
   */
  public static float[] highEntropyMask(float[] entropy, float[] mask, double rho) {
    float[] out = new float[entropy.length];
    int n = 0;
    for (float m : mask) {
      n += m > 0 ? 1 : 0;
    }
    if (n == 0) {
      return out;
    }
    float[] vals = new float[n];
    for (int i = 0, j = 0; i < entropy.length; i++) {
      if (mask[i] > 0) {
        vals[j++] = entropy[i];
      }
    }
    java.util.Arrays.sort(vals);
    double pos = (n - 1) * (1 - rho);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(n - 1, lo + 1);
    double threshold = vals[lo] + (vals[hi] - vals[lo]) * (pos - lo);
    for (int i = 0; i < entropy.length; i++) {
      out[i] = mask[i] > 0 && entropy[i] >= threshold ? 1f : 0f;
    }
    return out;
  }
}
