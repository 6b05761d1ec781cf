package io.r1cluster.core.train;

import java.util.Random;

/**
 * The data order of a training run: epoch {@code e} visits the rows in the permutation seeded by
 * {@code seed + e}, so the position in the data is a function of the global step and a checkpoint's
 * step is enough to continue exactly. Shared by the SFT and GRPO trainers and the actors' ledger
 * checkpoint (whose {@code PromptLedger} draws the same order with {@code Collections.shuffle}).
 */
public final class EpochOrder {
  private EpochOrder() {}

  /** A Fisher–Yates permutation of {@code 0 … n-1} drawn with {@code new Random(seed)}. */
  public static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    Random r = new Random(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = r.nextInt(i + 1);
      int tmp = p[i];
      p[i] = p[j];
      p[j] = tmp;
    }
    return p;
  }
}
