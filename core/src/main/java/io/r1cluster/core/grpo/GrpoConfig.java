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
 * @param adamBeta1 AdamW β1 ({@code adam_beta1})
 * @param adamBeta2 AdamW β2 ({@code adam_beta2})
 * @param adamEpsilon AdamW ε ({@code adam_epsilon})
 * @param topEntropyQuantile ρ of {@code top_entropy_quantile}: only completion tokens whose entropy is at or above
 *     the (1 − ρ) quantile of the micro-batch's completion-token entropies contribute to the policy loss (1 = all)
 */
public record GrpoConfig(
    double beta, double epsilon, double epsilonHigh, double delta, LossType lossType, ScaleRewards scaleRewards,
    int numIterations, IsLevel importanceSamplingLevel, boolean maskTruncatedCompletions, double offPolicyIsCap,
    int maxCompletionLength, int microBatch, double temperature, double learningRate, double maxGradNorm,
    double weightDecay, double adamBeta1, double adamBeta2, double adamEpsilon, double topEntropyQuantile) {

  /** The positional form without optimizer constants (AdamW 0.9 / 0.999 / 1e-8, all tokens): for tests. */
  public GrpoConfig(double beta, double epsilon, double epsilonHigh, double delta, LossType lossType,
      ScaleRewards scaleRewards, int numIterations, IsLevel importanceSamplingLevel, boolean maskTruncatedCompletions,
      double offPolicyIsCap, int maxCompletionLength, int microBatch, double temperature, double learningRate,
      double maxGradNorm, double weightDecay) {
    this(beta, epsilon, epsilonHigh, delta, lossType, scaleRewards, numIterations, importanceSamplingLevel,
        maskTruncatedCompletions, offPolicyIsCap, maxCompletionLength, microBatch, temperature, learningRate, maxGradNorm,
        weightDecay, 0.9, 0.999, 1e-8, 1.0);
  }

  public GrpoConfig {
    if (!(topEntropyQuantile > 0 && topEntropyQuantile <= 1)) {
      throw new IllegalArgumentException("top_entropy_quantile must be in (0, 1], got " + topEntropyQuantile);
    }
  }

  /** A builder starting from {@link #defaults()}: every setting by name. */
  public static Builder builder() {
    return new Builder(defaults());
  }

  /** A builder starting from this config. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  /** {@code importance_sampling_level}. */
  public enum IsLevel { TOKEN, SEQUENCE }

  /** TRL 0.18-like defaults (beta 0.04, epsilon 0.2, loss bnpo, group scaling, lr 1e-6). */
  public static GrpoConfig defaults() {
    return new GrpoConfig(0.04, 0.2, 0.2, 0, LossType.BNPO, ScaleRewards.GROUP, 1, IsLevel.TOKEN, false, 2.0,
        256, 8, 1.0, 1e-6, 1.0, 0.0);
  }

  public GrpoConfig withLearningRate(double lr) {
    return toBuilder().learningRate(lr).build();
  }

  public GrpoConfig withBeta(double b) {
    return toBuilder().beta(b).build();
  }

  /** Named setters for every component (see the record's parameters). */
  public static final class Builder {
    private double beta;
    private double epsilon;
    private double epsilonHigh;
    private double delta;
    private LossType lossType;
    private ScaleRewards scaleRewards;
    private int numIterations;
    private IsLevel importanceSamplingLevel;
    private boolean maskTruncatedCompletions;
    private double offPolicyIsCap;
    private int maxCompletionLength;
    private int microBatch;
    private double temperature;
    private double learningRate;
    private double maxGradNorm;
    private double weightDecay;
    private double adamBeta1;
    private double adamBeta2;
    private double adamEpsilon;
    private double topEntropyQuantile;

    private Builder(GrpoConfig c) {
      beta = c.beta;
      epsilon = c.epsilon;
      epsilonHigh = c.epsilonHigh;
      delta = c.delta;
      lossType = c.lossType;
      scaleRewards = c.scaleRewards;
      numIterations = c.numIterations;
      importanceSamplingLevel = c.importanceSamplingLevel;
      maskTruncatedCompletions = c.maskTruncatedCompletions;
      offPolicyIsCap = c.offPolicyIsCap;
      maxCompletionLength = c.maxCompletionLength;
      microBatch = c.microBatch;
      temperature = c.temperature;
      learningRate = c.learningRate;
      maxGradNorm = c.maxGradNorm;
      weightDecay = c.weightDecay;
      adamBeta1 = c.adamBeta1;
      adamBeta2 = c.adamBeta2;
      adamEpsilon = c.adamEpsilon;
      topEntropyQuantile = c.topEntropyQuantile;
    }

    public Builder beta(double v) { beta = v; return this; }
    public Builder epsilon(double v) { epsilon = v; return this; }
    public Builder epsilonHigh(double v) { epsilonHigh = v; return this; }
    public Builder delta(double v) { delta = v; return this; }
    public Builder lossType(LossType v) { lossType = v; return this; }
    public Builder scaleRewards(ScaleRewards v) { scaleRewards = v; return this; }
    public Builder numIterations(int v) { numIterations = v; return this; }
    public Builder importanceSamplingLevel(IsLevel v) { importanceSamplingLevel = v; return this; }
    public Builder maskTruncatedCompletions(boolean v) { maskTruncatedCompletions = v; return this; }
    public Builder offPolicyIsCap(double v) { offPolicyIsCap = v; return this; }
    public Builder maxCompletionLength(int v) { maxCompletionLength = v; return this; }
    public Builder microBatch(int v) { microBatch = v; return this; }
    public Builder temperature(double v) { temperature = v; return this; }
    public Builder learningRate(double v) { learningRate = v; return this; }
    public Builder maxGradNorm(double v) { maxGradNorm = v; return this; }
    public Builder weightDecay(double v) { weightDecay = v; return this; }
    public Builder adam(double beta1, double beta2, double eps) { adamBeta1 = beta1; adamBeta2 = beta2; adamEpsilon = eps; return this; }
    public Builder topEntropyQuantile(double v) { topEntropyQuantile = v; return this; }

    public GrpoConfig build() {
      return new GrpoConfig(beta, epsilon, epsilonHigh, delta, lossType, scaleRewards, numIterations,
          importanceSamplingLevel, maskTruncatedCompletions, offPolicyIsCap, maxCompletionLength, microBatch,
          temperature, learningRate, maxGradNorm, weightDecay, adamBeta1, adamBeta2, adamEpsilon, topEntropyQuantile);
    }
  }
}
