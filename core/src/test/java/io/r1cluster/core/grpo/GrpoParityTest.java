package io.r1cluster.core.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.model.LogProbs;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.LrSchedule;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** TRL parity of the learner: frozen old log-probs for μ &gt; 1, Adam constants from the recipe, top_entropy_quantile. */
@Timeout(120)
class GrpoParityTest {
  static final int[] PROMPT = {1, 2};
  static final int[][] COMPLETIONS = {{3, 5, 7}, {4, 5, 7}, {6, 9, 2}, {8, 1, 7}};
  static final float[] REWARDS = {1, 0, 0, 1};

  static GrpoConfig config(int iterations, double lr) {
    return GrpoConfig.builder().beta(0).lossType(LossType.BNPO).numIterations(iterations).microBatch(8)
        .maxCompletionLength(8).learningRate(lr).maxGradNorm(0).offPolicyIsCap(2.0).build();
  }

  /** The batch with behaviour log-probs {@code behaviour[i]} per completion (its tokens). */
  static TrainBatch batch(float[][] behaviour) {
    List<Completion> cs = new ArrayList<>();
    for (int i = 0; i < COMPLETIONS.length; i++) {
      cs.add(new Completion(COMPLETIONS[i], behaviour[i], "x", FinishReason.STOP, 0));
    }
    float[][] m = new float[REWARDS.length][1];
    for (int i = 0; i < REWARDS.length; i++) {
      m[i][0] = REWARDS[i];
    }
    ScoredGroup sg = new ScoredGroup(new Group(Prompt.ofProblem("p", "q", "1"), PROMPT, cs, 0), List.of("accuracy"), m,
        REWARDS.clone());
    return new TrainBatch(List.of(sg), Advantages.compute(List.of(REWARDS), ScaleRewards.GROUP));
  }

  /** log p(completion token k | prefix) under {@code model}, per completion: what the learner's loss sees. */
  static float[][] completionLogProbs(Qwen2Model model) {
    float[][] out = new float[COMPLETIONS.length][];
    try (NDManager s = NDManager.newBaseManager()) {
      for (int i = 0; i < COMPLETIONS.length; i++) {
        int t = PROMPT.length + COMPLETIONS[i].length;
        long[][] ids = new long[1][t];
        long[][] seg = new long[1][t];
        long[][] pos = new long[1][t];
        for (int j = 0; j < t; j++) {
          ids[0][j] = j < PROMPT.length ? PROMPT[j] : COMPLETIONS[i][j - PROMPT.length];
          seg[0][j] = 1;
          pos[0][j] = j;
        }
        NDArray idArr = s.create(ids);
        NDArray logits = model.logits(s, idArr, s.create(seg), s.create(pos)).get(":, :-1, :").stopGradient();
        float[] all = LogProbs.of(logits, idArr.get(":, 1:"), 1.0).toFloatArray();
        out[i] = java.util.Arrays.copyOfRange(all, PROMPT.length - 1, all.length);
      }
    }
    return out;
  }

  /**
   * μ = 2 with a step size that moves the policy: iteration 1 is an ordinary step (ratio 1), iteration 2
   * sees ratio = π_after-iteration-1 / π_step-start, which we compute by hand from two separate models —
   * its mean, its clipped fraction and the clipped BNPO loss −Σ min(ρA, clip(ρ)A)·w / Σ 1.
   */
  @Test
  void numIterationsFreezesOldLogProbsAtTheStepStartAndClipsOnTheSecondPass() {
    float[][] lp0;
    float[][] lp1;
    try (Qwen2Model start = Qwen2Model.random(GrpoLearnerTest.CFG, Device.cpu(), 11)) {
      lp0 = completionLogProbs(start);
    }
    // behaviour log-probs slightly off the start policy: the truncated IS weight is not 1 either
    float[][] behaviour = new float[lp0.length][];
    for (int i = 0; i < lp0.length; i++) {
      behaviour[i] = lp0[i].clone();
      for (int k = 0; k < behaviour[i].length; k++) {
        behaviour[i][k] -= 0.1f * (k + 1);
      }
    }
    double lr = 5e-2;
    // the first iteration of μ = 2 is exactly a μ = 1 step: its result is the policy of the second iteration
    try (Qwen2Model one = Qwen2Model.random(GrpoLearnerTest.CFG, Device.cpu(), 11);
        GrpoLearner l = new GrpoLearner(one, config(1, lr), LrSchedule.of("constant", lr, 10, 0, Map.of()))) {
      assertFalse(l.step(batch(behaviour), 0).skipped());
      lp1 = completionLogProbs(one);
    }
    float[] adv = batch(behaviour).advantages().get(0);
    double eps = 0.2;
    double ratioSum = 0;
    double lossSum = 0;
    int clipped = 0;
    int n = 0;
    for (int i = 0; i < lp0.length; i++) {
      for (int k = 0; k < lp0[i].length; k++) {
        double rho = Math.exp(lp1[i][k] - lp0[i][k]);
        double w = Math.min(Math.exp(lp0[i][k] - behaviour[i][k]), 2.0);
        double a = adv[i];
        lossSum += -Math.min(rho * a, Math.max(1 - eps, Math.min(1 + eps, rho)) * a) * w;
        ratioSum += rho;
        if ((rho < 1 - eps && a < 0) || (rho > 1 + eps && a > 0)) {
          clipped++;
        }
        n++;
      }
    }
    try (Qwen2Model two = Qwen2Model.random(GrpoLearnerTest.CFG, Device.cpu(), 11);
        GrpoLearner l = new GrpoLearner(two, config(2, lr), LrSchedule.of("constant", lr, 10, 0, Map.of()))) {
      GrpoLearner.StepResult r = l.step(batch(behaviour), 0);
      assertFalse(r.skipped());
      Map<String, Double> m = r.metrics();
      assertEquals(1.0, m.get("iterations/1/ratio_mean"), 1e-5, "first pass: the policy is the old policy");
      assertEquals(0.0, m.get("iterations/1/clip_ratio/region_mean"), 0.0);
      assertTrue(Math.abs(ratioSum / n - 1) > 0.05, "the step moved the policy: mean ratio " + ratioSum / n);
      assertTrue(clipped > 0, "some tokens clip on the second pass");
      assertEquals(ratioSum / n, m.get("iterations/2/ratio_mean"), 1e-3);
      assertEquals(clipped / (double) n, m.get("iterations/2/clip_ratio/region_mean"), 1e-6);
      assertEquals(lossSum / n, m.get("iterations/2/loss"), 1e-4);
    }
  }

  /** An auxiliary loss c·Σ w on the final norm weight: gradient c there and (zero advantages) 0 elsewhere. */
  static GrpoLearner.AuxiliaryLoss constantGradient(double c) {
    return GrpoLearnerTest.sumOfNorm(c);
  }

  /** Two AdamW steps with gradients c1 then c2, computed by hand with the recipe's β1, β2 and ε. */
  @Test
  void adamBetasAndEpsilonComeFromTheConfig() {
    double b1 = 0.5;
    double b2 = 0.7;
    double e = 1e-3;
    double lr = 1e-2;
    double c1 = 2e-3;
    double c2 = -1e-3;
    float[] flat = {1, 1, 1, 1};
    float[][] beh = new float[COMPLETIONS.length][];
    for (int i = 0; i < beh.length; i++) {
      beh[i] = new float[] {-1, -1, -1};
    }
    List<Completion> cs = new ArrayList<>();
    for (int[] c : COMPLETIONS) {
      cs.add(new Completion(c, new float[] {-1, -1, -1}, "x", FinishReason.STOP, 0));
    }
    ScoredGroup sg = new ScoredGroup(new Group(Prompt.ofProblem("p", "q", "1"), PROMPT, cs, 0), List.of("a"),
        new float[][] {{1}, {1}, {1}, {1}}, flat);
    TrainBatch zeroAdvantage = new TrainBatch(List.of(sg), Advantages.compute(List.of(flat), ScaleRewards.GROUP));
    GrpoConfig cfg = config(1, lr).toBuilder().adam(b1, b2, e).build();
    try (Qwen2Model m = Qwen2Model.random(GrpoLearnerTest.CFG, Device.cpu(), 5);
        GrpoLearner l = new GrpoLearner(m, cfg, LrSchedule.of("constant", lr, 10, 0, Map.of()))) {
      float w0 = m.parameters().get("model.norm.weight").toFloatArray()[0];
      l.step(zeroAdvantage, 0, constantGradient(c1));
      l.step(zeroAdvantage, 1, constantGradient(c2));
      double mm = (1 - b1) * c1;
      double vv = (1 - b2) * c1 * c1;
      double w = w0 - lr * (mm / (1 - b1)) / (Math.sqrt(vv / (1 - b2)) + e);
      mm = b1 * mm + (1 - b1) * c2;
      vv = b2 * vv + (1 - b2) * c2 * c2;
      w -= lr * (mm / (1 - b1 * b1)) / (Math.sqrt(vv / (1 - b2 * b2)) + e);
      float[] after = m.parameters().get("model.norm.weight").toFloatArray();
      assertEquals(w, after[0], 1e-6);
      // with the defaults (0.9, 0.999, 1e-8) the same two steps land elsewhere
      double d1 = (1 - 0.9) * c1;
      double d2 = (1 - 0.999) * c1 * c1;
      double wd = w0 - lr * (d1 / 0.1) / (Math.sqrt(d2 / 0.001) + 1e-8);
      d1 = 0.9 * d1 + 0.1 * c2;
      d2 = 0.999 * d2 + 0.001 * c2 * c2;
      wd -= lr * (d1 / (1 - 0.81)) / (Math.sqrt(d2 / (1 - 0.999 * 0.999)) + 1e-8);
      assertTrue(Math.abs(wd - w) > 1e-3, "the constants matter in this test: " + wd + " vs " + w);
    }
  }

  /** TRL's test_compute_entropy_mask cases: 10 unpadded tokens, quantile 0.8 keeps the top 2 (ties at the threshold kept). */
  @Test
  void highEntropyMaskKeepsTheTopQuantileOfCompletionTokens() {
    float[] ent = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, 0.9f, 1.0f, 1.1f, 1.2f};
    float[] mask = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
    // rho 0.2: threshold = the 0.8 quantile of 0.1..1.0 = 0.1 + 0.9·0.8 = 0.82 (linear) -> 0.9, 1.0 kept; pads never
    assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0}, GrpoLoss.highEntropyMask(ent, mask, 0.2));
    // rho 1: everything that counts
    assertArrayEquals(mask, GrpoLoss.highEntropyMask(ent, mask, 1.0));
    // rho 0.5: median of 0.1..1.0 = 0.55 -> 0.6..1.0
    assertArrayEquals(new float[] {0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0}, GrpoLoss.highEntropyMask(ent, mask, 0.5));
    // equal entropies: all at the threshold are kept
    assertArrayEquals(new float[] {1, 1, 1, 0}, GrpoLoss.highEntropyMask(new float[] {2, 2, 2, 9}, new float[] {1, 1, 1, 0}, 0.1));
    assertArrayEquals(new float[3], GrpoLoss.highEntropyMask(new float[] {1, 2, 3}, new float[3], 0.5));
  }

  /** ρ &lt; 1 trains only some tokens: the loss is the masked sum over all tokens' count, so it changes, and so does the step. */
  @Test
  void topEntropyQuantileChangesTheLossAsTheMaskSays() {
    float[][] beh = new float[COMPLETIONS.length][];
    for (int i = 0; i < beh.length; i++) {
      beh[i] = new float[] {-3, -3, -3};
    }
    double all;
    double top;
    try (Qwen2Model m = Qwen2Model.random(GrpoLearnerTest.CFG, Device.cpu(), 3);
        GrpoLearner l = new GrpoLearner(m, config(1, 1e-3), LrSchedule.of("constant", 1e-3, 10, 0, Map.of()))) {
      all = l.step(batch(beh), 0).metrics().get("loss");
    }
    try (Qwen2Model m = Qwen2Model.random(GrpoLearnerTest.CFG, Device.cpu(), 3);
        GrpoLearner l = new GrpoLearner(m, config(1, 1e-3).toBuilder().topEntropyQuantile(0.3).build(),
            LrSchedule.of("constant", 1e-3, 10, 0, Map.of()))) {
      top = l.step(batch(beh), 0).metrics().get("loss");
    }
    // ratio 1 on a first pass: per-token loss = −A·w, w = min(exp(old + 3), 2) = 2 here (old > −3 + ln 2 on this tiny vocab)
    assertTrue(Math.abs(all - top) > 1e-4, all + " vs " + top);
  }
}
