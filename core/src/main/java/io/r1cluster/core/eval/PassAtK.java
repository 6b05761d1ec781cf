package io.r1cluster.core.eval;

/**
 * The unbiased pass@k estimator of Chen et al. (2021): with n samples of which c are correct,
 * pass@k = 1 − C(n−c, k) / C(n, k), computed as a product to stay exact for large n.
 */
public final class PassAtK {
  private PassAtK() {}

  public static double estimate(int n, int c, int k) {
    if (k < 1 || k > n || c < 0 || c > n) {
      throw new IllegalArgumentException("need 1 ≤ k ≤ n and 0 ≤ c ≤ n (n=" + n + ", c=" + c + ", k=" + k + ")");
    }
    if (n - c < k) {
      return 1.0;
    }
    double fail = 1.0;
    for (int i = n - c + 1; i <= n; i++) {
      fail *= 1.0 - k / (double) i;
    }
    return 1.0 - fail;
  }
}
