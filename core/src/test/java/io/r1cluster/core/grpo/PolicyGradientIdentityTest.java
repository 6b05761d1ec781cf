package io.r1cluster.core.grpo;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.r1cluster.core.model.LogProbs;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.AdamW;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With ratio = 1 (old = current, detached) and the clip inactive, ∇ of the clipped surrogate equals
 * the vanilla policy gradient ∇ (−Σ A·log π · m / Σ m), checked numerically on every parameter of a
 * tiny model.
 */
@Timeout(60)
class PolicyGradientIdentityTest {
  static final long[][] IDS = {{1, 4, 7, 2, 9}, {3, 3, 8, 5, 6}};

  static Map<String, float[]> grads(Qwen2Model m, BiFunction<NDManager, NDArray[], NDArray> lossFn) {
    AdamW.zeroGrad(m.parameters().values());
    try (NDManager s = NDManager.newBaseManager()) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray ids = s.create(IDS);
        NDArray seg = s.ones(ids.getShape()).toType(ai.djl.ndarray.types.DataType.INT64, false);
        NDArray pos = s.arange(5).reshape(1, 5).repeat(0, 2).toType(ai.djl.ndarray.types.DataType.INT64, false);
        NDArray logits = m.logits(s, ids, seg, pos).get(":, :-1, :");
        NDArray logp = LogProbs.of(logits, ids.get(":, 1:"), 1.0);
        NDArray mask = s.create(new float[][] {{0, 1, 1, 1}, {0, 0, 1, 1}});
        gc.backward(lossFn.apply(s, new NDArray[] {logp, mask}));
      }
      Map<String, float[]> out = new HashMap<>();
      for (var e : m.parameters().entrySet()) {
        out.put(e.getKey(), AdamW.grad(e.getValue(), s).toFloatArray());
      }
      return out;
    }
  }

  @Test
  void clippedSurrogateAtRatioOneIsTheVanillaPolicyGradient() {
    Qwen2Config cfg = Qwen2Config.of(12, 16, 32, 1, 2, 1, 16, false);
    GrpoConfig c = new GrpoConfig(0, 0.2, 0.2, 0, LossType.BNPO, ScaleRewards.GROUP, 1, GrpoConfig.IsLevel.TOKEN, false, 2, 4, 2, 1, 1e-3, 1, 0);
    float[] adv = {0.7f, -1.3f};
    try (Qwen2Model m = Qwen2Model.random(cfg, Device.cpu(), 5)) {
      AdamW.defineGradients(m.parameters().values());
      Map<String, float[]> surrogate = grads(m, (s, a) -> GrpoLoss.aggregate(
          GrpoLoss.perToken(a[0], a[0].stopGradient(), s.create(adv), a[1], null, null, c).perToken(), a[1], LossType.BNPO, 4, 0));
      Map<String, float[]> vanilla = grads(m, (s, a) ->
          a[0].mul(s.create(adv).expandDims(1)).mul(a[1]).sum().div(a[1].sum()).neg());
      double maxDiff = 0;
      double maxAbs = 0;
      for (String k : surrogate.keySet()) {
        float[] x = surrogate.get(k);
        float[] y = vanilla.get(k);
        for (int i = 0; i < x.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(x[i] - y[i]));
          maxAbs = Math.max(maxAbs, Math.abs(y[i]));
        }
      }
      assertTrue(maxAbs > 1e-4, "gradient should be non-trivial");
      assertTrue(maxDiff <= 1e-6 * Math.max(1, maxAbs), "max |grad diff| " + maxDiff);
    }
  }
}
