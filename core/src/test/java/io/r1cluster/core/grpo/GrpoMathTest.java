package io.r1cluster.core.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

class GrpoMathTest {
  static GrpoConfig cfg(double eps, double epsHigh, double delta, double beta, GrpoConfig.IsLevel level) {
    return new GrpoConfig(beta, eps, epsHigh, delta, LossType.BNPO, ScaleRewards.GROUP, 1, level, false, 2.0, 4, 8, 1.0, 1e-3, 1.0, 0);
  }

  @Test
  void groupAdvantages() {
    // rewards 1, 0, 1, 0: mean 0.5, unbiased std = sqrt(4·0.25/3) = 0.57735
    List<float[]> a = Advantages.compute(List.of(new float[] {1, 0, 1, 0}), ScaleRewards.GROUP);
    float s = (float) (0.5 / (Math.sqrt(1.0 / 3.0) + 1e-4));
    assertArrayEquals(new float[] {s, -s, s, -s}, a.get(0), 1e-5f);
    // Dr. GRPO: no scaling
    assertArrayEquals(new float[] {0.5f, -0.5f, 0.5f, -0.5f}, Advantages.compute(List.of(new float[] {1, 0, 1, 0}), ScaleRewards.NONE).get(0), 1e-6f);
    // NaN (no reward at all) excluded from mean/std, advantage 0: rewards {2, NaN, 0} → mean 1, std sqrt(2)
    float[] n = Advantages.compute(List.of(new float[] {2, Float.NaN, 0}), ScaleRewards.GROUP).get(0);
    float s2 = (float) (1 / (Math.sqrt(2) + 1e-4));
    assertArrayEquals(new float[] {s2, 0, -s2}, n, 1e-5f);
    // zero std → all zero; single completion → 0; all NaN → 0
    assertArrayEquals(new float[] {0, 0, 0}, Advantages.compute(List.of(new float[] {3, 3, 3}), ScaleRewards.GROUP).get(0));
    assertArrayEquals(new float[] {0}, Advantages.compute(List.of(new float[] {5}), ScaleRewards.GROUP).get(0));
    assertArrayEquals(new float[] {0, 0}, Advantages.compute(List.of(new float[] {Float.NaN, Float.NaN}), ScaleRewards.GROUP).get(0));
    // batch scaling: std over all 4 rewards {1,0,3,3}: mean 1.75, ss = 0.5625+3.0625+1.5625+1.5625 = 6.75, std = 1.5
    List<float[]> b = Advantages.compute(List.of(new float[] {1, 0}, new float[] {3, 3}), ScaleRewards.BATCH);
    assertArrayEquals(new float[] {(float) (0.5 / 1.5001), (float) (-0.5 / 1.5001)}, b.get(0), 1e-5f);
    assertArrayEquals(new float[] {0, 0}, b.get(1), 1e-6f);
    assertEquals(0.5, Advantages.fracZeroStd(List.of(new float[] {1, 0}, new float[] {3, 3})));
  }

  @Test
  void clippedSurrogateKlAndAggregation() {
    try (NDManager m = NDManager.newBaseManager()) {
      // ratios e^0 = 1, e^0.5 = 1.6487, e^-0.5 = 0.6065 ; A = +1 for row 0, −1 for row 1
      NDArray logp = m.create(new float[][] {{0f, 0.5f, -0.5f}, {0f, 0.5f, -0.5f}});
      NDArray old = m.zeros(logp.getShape());
      NDArray adv = m.create(new float[] {1f, -1f});
      NDArray mask = m.create(new float[][] {{1, 1, 1}, {1, 1, 0}});
      GrpoConfig c = cfg(0.2, 0.28, 0, 0, GrpoConfig.IsLevel.TOKEN);
      GrpoLoss.Terms t = GrpoLoss.perToken(logp, old, adv, mask, null, null, c);
      // A>0: −min(ρ, clip(ρ,0.8,1.28)) → −1, −1.28, −0.6065 ; A<0: −min(−ρ, −clip) = max(ρ, clip) → 1, 1.6487, 0.8
      float e5 = (float) Math.exp(0.5);
      float em5 = (float) Math.exp(-0.5);
      assertArrayEquals(new float[] {-1f, -1.28f, -em5, 1f, e5, 0.8f}, t.perToken().toFloatArray(), 1e-5f);
      // bnpo: sum over mask / 5 tokens
      float sum = -1f - 1.28f - em5 + 1f + e5;
      assertEquals(sum / 5, GrpoLoss.aggregate(t.perToken(), mask, LossType.BNPO, 4, 0).getFloat(), 1e-5);
      // grpo: mean of per-sequence means
      assertEquals(((-1f - 1.28f - em5) / 3 + (1f + e5) / 2) / 2, GrpoLoss.aggregate(t.perToken(), mask, LossType.GRPO, 4, 0).getFloat(), 1e-5);
      // dr_grpo: / (B · max_completion_length) = / 8 ; dapo: / global tokens 10
      assertEquals(sum / 8, GrpoLoss.aggregate(t.perToken(), mask, LossType.DR_GRPO, 4, 0).getFloat(), 1e-5);
      assertEquals(sum / 10, GrpoLoss.aggregate(t.perToken(), mask, LossType.DAPO, 4, 10).getFloat(), 1e-5);
      // clip ratios: high-clipped (ρ>1.28, A>0): row0 tok1 → 1; low-clipped (ρ<0.8, A<0): row1 tok2 masked out → 0
      double[] cr = GrpoLoss.clipRatios(t.ratio(), adv, mask, c);
      assertEquals(1 / 5.0, cr[1], 1e-6);
      assertEquals(0.0, cr[0], 1e-6);
      // delta = 1.5 caps the unclipped ratio of row 1 token 1: max(min(1.6487,1.5), 1.28)·1 → 1.5
      GrpoLoss.Terms d = GrpoLoss.perToken(logp, old, adv, mask, null, null, cfg(0.2, 0.28, 1.5, 0, GrpoConfig.IsLevel.TOKEN));
      assertEquals(1.5f, d.perToken().toFloatArray()[4], 1e-5f);
      // k3 KL with ref = logp − 0.1 → e^{-0.1} + 0.1 − 1 = 0.0048374 per token, × beta 0.5 added
      GrpoLoss.Terms k = GrpoLoss.perToken(logp, old, adv, mask, logp.sub(0.1f), null, cfg(0.2, 0.28, 0, 0.5, GrpoConfig.IsLevel.TOKEN));
      float kl = (float) (Math.exp(-0.1) + 0.1 - 1);
      assertEquals(kl, k.kl().toFloatArray()[0], 1e-6f);
      assertEquals(-1f + 0.5f * kl, k.perToken().toFloatArray()[0], 1e-6f);
      // truncated IS weight: min(exp(old − behaviour), 2)
      NDArray w = GrpoLoss.truncatedIs(m.create(new float[][] {{0f, 1f}}), m.create(new float[][] {{0.5f, 0f}}), 2.0);
      assertArrayEquals(new float[] {em5, 2f}, w.toFloatArray(), 1e-6f);
    }
  }

  @Test
  void sequenceLevelRatioIsGeometricMeanOverMask() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray logp = m.create(new float[][] {{0.2f, 0.4f, 9f}});
      NDArray mask = m.create(new float[][] {{1, 1, 0}});
      GrpoLoss.Terms t = GrpoLoss.perToken(logp, m.zeros(logp.getShape()), m.create(new float[] {1f}), mask, null, null,
          cfg(10, 10, 0, 0, GrpoConfig.IsLevel.SEQUENCE));
      float r = (float) Math.exp(0.3);
      assertArrayEquals(new float[] {r, r, r}, t.ratio().toFloatArray(), 1e-5f);
      assertArrayEquals(new float[] {-r, -r, -r}, t.perToken().toFloatArray(), 1e-5f);
    }
  }
}
