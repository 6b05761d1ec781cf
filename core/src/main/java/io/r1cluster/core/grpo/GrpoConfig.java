package io.r1cluster.core.grpo;

/**
 * The learner's settings, TRL names in the javadoc of each component.
 *
 * @param beta KL weight ({@code beta}); 0 keeps no reference model
 * @param epsilon lower clip ({@code epsilon})
 * @param epsilonHigh upper clip ({@code epsilon_high}; = epsilon when not set)
 * @param delta two-sided upper bound on the unclipped ratio ({@code delta}; ≤ 0 = off)
 * @param lossType {@code loss_type}
 * @param scaleRewards {@code scale_rewards}
 * @param numIterations μ, passes over each batch ({@code num_iterations})
 * @param importanceSamplingLevel {@code importance_sampling_level}
 * @param maskTruncatedCompletions {@code mask_truncated_completions}
 * @param offPolicyIsCap cap of the truncated importance weight for stale groups
 * @param maxCompletionLength {@code max_completion_length} (DR_GRPO normaliser)
 * @param microBatch sequences per forward/backward (memory bound)
 * @param temperature logits are divided by it, as in sampling
 * @param learningRate base learning rate
 * @param maxGradNorm global clipping norm ({@code max_grad_norm}; ≤ 0 = off)
 * @param weightDecay AdamW decoupled weight decay
 */
public record GrpoConfig(
    double beta, double epsilon, double epsilonHigh, double delta, LossType lossType, ScaleRewards scaleRewards,
    int numIterations, IsLevel importanceSamplingLevel, boolean maskTruncatedCompletions, double offPolicyIsCap,
    int maxCompletionLength, int microBatch, double temperature, double learningRate, double maxGradNorm,
    double weightDecay) {

  /** {@code importance_sampling_level}. */
  public enum IsLevel { TOKEN, SEQUENCE }

  /** TRL 0.18-like defaults (beta 0.04, epsilon 0.2, loss bnpo, group scaling, lr 1e-6). */
  public static GrpoConfig defaults() {
    return new GrpoConfig(0.04, 0.2, 0.2, 0, LossType.BNPO, ScaleRewards.GROUP, 1, IsLevel.TOKEN, false, 2.0,
        256, 8, 1.0, 1e-6, 1.0, 0.0);
  }

  public GrpoConfig withLearningRate(double lr) {
    return new GrpoConfig(beta, epsilon, epsilonHigh, delta, lossType, scaleRewards, numIterations,
        importanceSamplingLevel, maskTruncatedCompletions, offPolicyIsCap, maxCompletionLength, microBatch,
        temperature, lr, maxGradNorm, weightDecay);
  }

  public GrpoConfig withBeta(double b) {
    return new GrpoConfig(b, epsilon, epsilonHigh, delta, lossType, scaleRewards, numIterations,
        importanceSamplingLevel, maskTruncatedCompletions, offPolicyIsCap, maxCompletionLength, microBatch,
        temperature, learningRate, maxGradNorm, weightDecay);
  }
}
