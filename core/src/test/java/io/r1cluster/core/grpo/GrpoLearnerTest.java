package io.r1cluster.core.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.LrSchedule;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(180)
class GrpoLearnerTest {
  static final Qwen2Config CFG = Qwen2Config.of(24, 32, 64, 2, 4, 2, 64, true);

  static GrpoConfig cfg(double lr, double beta) {
    return new GrpoConfig(beta, 0.2, 0.2, 0, LossType.BNPO, ScaleRewards.GROUP, 1, GrpoConfig.IsLevel.TOKEN, false, 2.0,
        8, 4, 1.0, lr, 1.0, 0.0);
  }

  static TrainBatch batch(float[] rewards, float behaviourLogp) {
    List<Completion> cs = new ArrayList<>();
    for (int i = 0; i < rewards.length; i++) {
      cs.add(new Completion(new int[] {3 + i, 5, 7}, new float[] {behaviourLogp, behaviourLogp, behaviourLogp}, "x",
          FinishReason.STOP, 0));
    }
    Group g = new Group(Prompt.ofProblem("p", "q", "1"), new int[] {1, 2}, cs, 0);
    float[][] m = new float[rewards.length][1];
    for (int i = 0; i < rewards.length; i++) {
      m[i][0] = rewards[i];
    }
    ScoredGroup sg = new ScoredGroup(g, List.of("accuracy"), m, rewards.clone());
    return new TrainBatch(List.of(sg), Advantages.compute(List.of(rewards), ScaleRewards.GROUP));
  }

  static Map<String, float[]> snapshot(Qwen2Model m) {
    Map<String, float[]> out = new HashMap<>();
    m.parameters().forEach((k, v) -> out.put(k, v.toFloatArray()));
    return out;
  }

  @Test
  void oneStepChangesEveryParameterAndAdvancesTheVersion() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 1);
        GrpoLearner l = new GrpoLearner(m, cfg(1e-2, 0.04), LrSchedule.of("constant", 1e-2, 10, 0, Map.of()))) {
      Map<String, float[]> before = snapshot(m);
      GrpoLearner.StepResult r = l.step(batch(new float[] {1, 0, 0, 1, 1, 0}, -3f), 0);
      assertEquals(1, r.version());
      assertFalse(r.skipped());
      for (String k : before.keySet()) {
        assertFalse(java.util.Arrays.equals(before.get(k), m.parameters().get(k).toFloatArray()), k + " unchanged");
      }
      for (String key : List.of("reward", "reward_std", "rewards/accuracy/mean", "frac_reward_zero_std", "kl", "entropy",
          "clip_ratio/region_mean", "completions/mean_length", "learning_rate", "grad_norm", "staleness/max")) {
        assertTrue(r.metrics().containsKey(key), key);
      }
      assertEquals(0.5, r.metrics().get("reward"), 1e-6);
      WeightSnapshot w = l.exportWeights(r.version(), DType.BF16);
      assertEquals(m.parameters().size(), w.tensors().size());
      assertEquals(1, w.version());
    }
  }

  /** An auxiliary loss c·Σ w over the final norm weight: its gradient is c on that tensor, 0 elsewhere. */
  static GrpoLearner.AuxiliaryLoss sumOfNorm(double c) {
    return policy -> {
      try (ai.djl.ndarray.NDManager s = ai.djl.ndarray.NDManager.newBaseManager();
          ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        ai.djl.ndarray.NDArray l = io.r1cluster.core.model.Nd.mul(policy.parameters().get("model.norm.weight").sum(), c);
        l.attach(s);
        gc.backward(l);
        return l.getFloat();
      }
    };
  }

  @Test
  void combinedStepAddsTheAuxiliaryGradientToTheGrpoGradient() {
    double[] norms = new double[3];
    double[] c = {0, 0.5, -0.5};
    double aux = 0;
    for (int i = 0; i < 3; i++) {
      try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 9);
          GrpoLearner l = new GrpoLearner(m, cfg(1e-3, 0), LrSchedule.of("constant", 1e-3, 10, 0, Map.of()))) {
        GrpoLearner.StepResult r = l.step(batch(new float[] {1, 0, 0, 1}, -3f), 0, i == 0 ? null : sumOfNorm(c[i]));
        norms[i] = r.metrics().get("grad_norm");
        if (i == 1) {
          aux = r.metrics().get("aux_loss");
          assertEquals(0.5 * CFG.hiddenSize(), aux, 1e-4, "c·Σw with w = 1 at init");
        }
      }
    }
    // |g + c·e|² + |g − c·e|² − 2|g|² = 2c²·n  (e = ones on model.norm.weight, n = hidden size)
    double lhs = norms[1] * norms[1] + norms[2] * norms[2] - 2 * norms[0] * norms[0];
    assertEquals(2 * 0.25 * CFG.hiddenSize(), lhs, 1e-3 * lhs);
    // a non-finite auxiliary loss skips the whole step
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 9);
        GrpoLearner l = new GrpoLearner(m, cfg(1e-3, 0), LrSchedule.of("constant", 1e-3, 10, 0, Map.of()))) {
      Map<String, float[]> before = snapshot(m);
      assertTrue(l.step(batch(new float[] {1, 0, 0, 1}, -3f), 0, policy -> Double.NaN).skipped());
      for (String k : before.keySet()) {
        assertTrue(java.util.Arrays.equals(before.get(k), m.parameters().get(k).toFloatArray()), k + " changed");
      }
    }
  }

  @Test
  void nonFiniteLossLeavesEveryParameterUnchanged() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 2);
        GrpoLearner l = new GrpoLearner(m, cfg(1e-2, 0), LrSchedule.of("constant", 1e-2, 10, 0, Map.of()))) {
      Map<String, float[]> before = snapshot(m);
      GrpoLearner.StepResult r = l.step(batch(new float[] {1, 0, 1, 0}, Float.NaN), 5);
      assertTrue(r.skipped());
      assertEquals(5, r.version());
      assertEquals(1.0, r.metrics().get("skipped_nonfinite"));
      for (String k : before.keySet()) {
        assertTrue(java.util.Arrays.equals(before.get(k), m.parameters().get(k).toFloatArray()), k + " changed");
      }
      // a finite step afterwards works and gradients of the failed step did not leak into it
      assertFalse(l.step(batch(new float[] {1, 0, 1, 0}, -3f), 5).skipped());
    }
  }

  @Test
  void syncRefModelMixesPolicyIntoReference() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 4);
        GrpoLearner l = new GrpoLearner(m, cfg(1e-2, 0.1), LrSchedule.of("constant", 1e-2, 10, 0, Map.of()))) {
      Map<String, float[]> ref0 = snapshot(m);
      l.syncReference(true, 0.5, 1);
      assertFalse(l.step(batch(new float[] {1, 0, 1, 0}, -3f), 0).skipped());
      String k = "model.layers.0.self_attn.q_proj.weight";
      float[] policy = m.parameters().get(k).toFloatArray();
      float[] ref = l.referenceParameters().get(k).toFloatArray();
      for (int i = 0; i < ref.length; i++) {
        assertEquals(0.5f * policy[i] + 0.5f * ref0.get(k)[i], ref[i], 1e-6f);
      }
      assertFalse(java.util.Arrays.equals(policy, ref0.get(k)));
    }
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 4);
        GrpoLearner l = new GrpoLearner(m, cfg(1e-2, 0), LrSchedule.of("constant", 1e-2, 10, 0, Map.of()))) {
      assertThrows(IllegalArgumentException.class, () -> l.syncReference(true, 0.6, 512));
    }
  }

  @Test
  void fullyTruncatedBatchWithMaskingContributesNoLoss() {
    GrpoConfig c = new GrpoConfig(0, 0.2, 0.2, 0, LossType.BNPO, ScaleRewards.GROUP, 1, GrpoConfig.IsLevel.TOKEN, true, 2.0,
        8, 4, 1.0, 1e-2, 1.0, 0.0);
    List<Completion> cs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      cs.add(new Completion(new int[] {3 + i, 5}, new float[] {-3f, -3f}, "x", FinishReason.LENGTH, 0));
    }
    float[] r = {1, 0, 1, 0};
    float[][] m = {{1}, {0}, {1}, {0}};
    ScoredGroup sg = new ScoredGroup(new Group(Prompt.ofProblem("p", "q", "1"), new int[] {1}, cs, 0), List.of("a"), m, r);
    try (Qwen2Model model = Qwen2Model.random(CFG, Device.cpu(), 6);
        GrpoLearner l = new GrpoLearner(model, c, LrSchedule.of("constant", 1e-2, 10, 0, Map.of()))) {
      Map<String, float[]> before = snapshot(model);
      GrpoLearner.StepResult res = l.step(new TrainBatch(List.of(sg), Advantages.compute(List.of(r), ScaleRewards.GROUP)), 0);
      assertFalse(res.skipped());
      assertEquals(0.0, res.metrics().get("loss"), 0.0);
      assertEquals(1.0, res.metrics().get("completions/clipped_ratio"), 0.0);
      for (String k : before.keySet()) {
        assertTrue(java.util.Arrays.equals(before.get(k), model.parameters().get(k).toFloatArray()), k + " moved without loss");
      }
    }
  }

  @Test
  void dynamicSamplingDropsZeroVarianceGroups() {
    ScoredGroup varied = batch(new float[] {1, 0}, -1f).groups().get(0);
    ScoredGroup flat = batch(new float[] {1, 1}, -1f).groups().get(0);
    assertEquals(List.of(varied), Advantages.dynamicFilter(List.of(varied, flat)));
  }

  /** sample → reward → learner step on a tiny model; reward 1 when the first completion token is 7. */
  @Test
  void meanRewardRisesOnATriviallyLearnableReward() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 3);
        GrpoLearner l = new GrpoLearner(m, cfg(2e-2, 0), LrSchedule.of("constant", 2e-2, 30, 0, Map.of()))) {
      Sampler sampler = new Sampler(m, ids -> "");
      SamplingParams sp = new SamplingParams(1.0, 1.0, 0, 0, 2, List.of(), List.of());
      long version = 0;
      double early = 0;
      double late = 0;
      int steps = 24;
      for (int step = 0; step < steps; step++) {
        List<ScoredGroup> groups = new ArrayList<>();
        List<float[]> rewards = new ArrayList<>();
        for (int p = 0; p < 2; p++) {
          int[] prompt = {1 + p, 2};
          List<Completion> cs = sampler.generate(java.util.Collections.nCopies(8, prompt), sp, step * 10L + p, version);
          float[] r = new float[cs.size()];
          float[][] mat = new float[cs.size()][1];
          for (int i = 0; i < r.length; i++) {
            r[i] = cs.get(i).tokenIds()[0] == 7 ? 1f : 0f;
            mat[i][0] = r[i];
          }
          groups.add(new ScoredGroup(new Group(Prompt.ofProblem("p" + p, "q", null), prompt, cs, version), List.of("seven"), mat, r));
          rewards.add(r);
        }
        GrpoLearner.StepResult res = l.step(new TrainBatch(groups, Advantages.compute(rewards, ScaleRewards.GROUP)), version);
        version = res.version();
        double mean = res.metrics().get("reward");
        if (step < 6) {
          early += mean / 6;
        }
        if (step >= steps - 6) {
          late += mean / 6;
        }
      }
      assertTrue(late > early + 0.3, "mean reward " + early + " -> " + late);
    }
  }
}
