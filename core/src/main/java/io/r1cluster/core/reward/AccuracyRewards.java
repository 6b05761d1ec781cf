package io.r1cluster.core.reward;

import io.r1cluster.core.verify.MathVerifier;
import java.util.Optional;

/**
 * open-r1's answer-checking rewards: {@code accuracy}, {@code length} (Kimi 1.5) and {@code cosine}.
 * The gold answer comes from the row's {@code solution} column.
 */
public final class AccuracyRewards {
  private AccuracyRewards() {}

  /** 1.0 / 0.0; no score (NaN) when the gold answer cannot be parsed — never 1.0 for that. */
  public static RewardFunction accuracy(MathVerifier v) {
    return new Named("accuracy", in -> {
      float[] out = new float[in.size()];
      for (int i = 0; i < out.length; i++) {
        Optional<Boolean> ok = check(v, in, i);
        out[i] = ok.isEmpty() ? Float.NaN : (ok.get() ? 1f : 0f);
      }
      return out;
    });
  }

  static Optional<Boolean> check(MathVerifier v, RewardInput in, int row) {
    Object sol = in.column("solution", row);
    if (sol == null) {
      return Optional.empty();
    }
    return v.verifyCompletion(sol.toString(), in.completions().get(row));
  }

  /**
   * Kimi 1.5 length reward over the batch: λ = 0.5 − (len − min)/(max − min) in characters; correct
   * answers get λ, wrong ones min(0, λ); all lengths equal → 0. Rows whose gold cannot be parsed
   * count as correct (open-r1 does not penalise them).
   */
  public static RewardFunction length(MathVerifier v) {
    return new Named("length", in -> {
      int n = in.size();
      float[] out = new float[n];
      int min = Integer.MAX_VALUE;
      int max = Integer.MIN_VALUE;
      for (String c : in.completions()) {
        min = Math.min(min, c.length());
        max = Math.max(max, c.length());
      }
      if (n == 0 || max == min) {
        return out;
      }
      for (int i = 0; i < n; i++) {
        boolean correct = check(v, in, i).orElse(true);
        float lambda = 0.5f - (in.completions().get(i).length() - min) / (float) (max - min);
        out[i] = correct ? lambda : Math.min(0f, lambda);
      }
      return out;
    });
  }

  /** Parameters of {@link #cosine} with open-r1's names and defaults. */
  public record CosineParams(double minValueWrong, double maxValueWrong, double minValueCorrect, double maxValueCorrect, int maxLen) {
    public static CosineParams defaults() {
      return new CosineParams(-1.0, -0.5, 0.5, 1.0, 1000);
    }
  }

  /**
   * Cosine-scaled length reward: r = lo + 0.5·(hi − lo)·(1 + cos(π·len/max_len)) with len in
   * characters; correct answers use [min_value_correct, max_value_correct], wrong ones the wrong
   * bounds swapped (lo = max_value_wrong, hi = min_value_wrong) so short wrong answers are
   * punished more. Rows with an unparseable gold get 1.0 (open-r1 skips them that way).
   */
  public static RewardFunction cosine(MathVerifier v, CosineParams p) {
    return new Named("cosine", in -> {
      float[] out = new float[in.size()];
      for (int i = 0; i < out.length; i++) {
        Optional<Boolean> ok = check(v, in, i);
        if (ok.isEmpty()) {
          out[i] = 1f;
          continue;
        }
        double cos = Math.cos(Math.PI * in.completions().get(i).length() / p.maxLen());
        double lo = ok.get() ? p.minValueCorrect() : p.maxValueWrong();
        double hi = ok.get() ? p.maxValueCorrect() : p.minValueWrong();
        out[i] = (float) (lo + 0.5 * (hi - lo) * (1.0 + cos));
      }
      return out;
    });
  }

  record Named(String name, java.util.function.Function<RewardInput, float[]> f) implements RewardFunction {
    @Override
    public float[] score(RewardInput in) {
      return f.apply(in);
    }
  }
}
