package io.r1cluster.core.grpo;

import java.util.ArrayList;
import java.util.List;

/**
 * Group-relative advantages, as TRL computes them: A_i = r_i − mean(group), divided by
 * (std + 1e-4) when scaled. std is the unbiased (n − 1) standard deviation, as torch's
 * {@code Tensor.std}. Where we differ from TRL, on purpose:
 * <ul>
 *   <li>completions with no reward at all (NaN total) are left out of the group's mean/std and get
 *       advantage 0 (TRL would propagate NaN);
 *   <li>a group with one scored completion has std 0 (TRL: NaN), so its advantage is 0.
 * </ul>
 */
public final class Advantages {
  /** TRL's epsilon in the denominator. */
  public static final float EPS = 1e-4f;

  private Advantages() {}

  /** Advantages for every group of a step. */
  public static List<float[]> compute(List<float[]> groupRewards, ScaleRewards scale) {
    double batchStd = scale == ScaleRewards.BATCH ? std(flatten(groupRewards)) : 0;
    List<float[]> out = new ArrayList<>();
    for (float[] r : groupRewards) {
      double mean = mean(r);
      double sd = scale == ScaleRewards.GROUP ? std(r) : batchStd;
      float[] a = new float[r.length];
      for (int i = 0; i < r.length; i++) {
        if (Float.isNaN(r[i]) || Double.isNaN(mean)) {
          a[i] = 0f;
          continue;
        }
        double d = r[i] - mean;
        a[i] = (float) (scale == ScaleRewards.NONE ? d : d / (sd + EPS));
      }
      out.add(a);
    }
    return out;
  }

  /** Whether a group's rewards have (numerically) zero spread — no learning signal. */
  public static boolean zeroStd(float[] r) {
    double s = std(r);
    return Double.isNaN(s) || s < 1e-6;
  }

  /**
   * Dynamic sampling (DAPO): keeps only groups whose rewards vary — a zero-variance group has zero
   * advantages and teaches nothing.
   */
  public static List<io.r1cluster.core.data.ScoredGroup> dynamicFilter(List<io.r1cluster.core.data.ScoredGroup> groups) {
    List<io.r1cluster.core.data.ScoredGroup> out = new ArrayList<>();
    for (var g : groups) {
      if (!zeroStd(g.total())) {
        out.add(g);
      }
    }
    return out;
  }

  /** Fraction of groups with zero reward std (TRL's {@code frac_reward_zero_std}). */
  public static double fracZeroStd(List<float[]> groupRewards) {
    if (groupRewards.isEmpty()) {
      return 0;
    }
    int n = 0;
    for (float[] r : groupRewards) {
      if (zeroStd(r)) {
        n++;
      }
    }
    return n / (double) groupRewards.size();
  }

  static float[] flatten(List<float[]> groups) {
    int n = groups.stream().mapToInt(g -> g.length).sum();
    float[] out = new float[n];
    int i = 0;
    for (float[] g : groups) {
      System.arraycopy(g, 0, out, i, g.length);
      i += g.length;
    }
    return out;
  }

  /** Mean over non-NaN entries (NaN when none). */
  public static double mean(float[] r) {
    double s = 0;
    int n = 0;
    for (float x : r) {
      if (!Float.isNaN(x)) {
        s += x;
        n++;
      }
    }
    return n == 0 ? Double.NaN : s / n;
  }

  /** Unbiased std over non-NaN entries; 0 for a single entry, NaN for none. */
  public static double std(float[] r) {
    double m = mean(r);
    int n = 0;
    double ss = 0;
    for (float x : r) {
      if (!Float.isNaN(x)) {
        ss += (x - m) * (x - m);
        n++;
      }
    }
    if (n == 0) {
      return Double.NaN;
    }
    return n == 1 ? 0 : Math.sqrt(ss / (n - 1));
  }
}
