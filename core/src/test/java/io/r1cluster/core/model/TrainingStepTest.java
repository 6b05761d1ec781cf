package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.r1cluster.core.optim.AdamW;
import io.r1cluster.core.optim.LrSchedule;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class TrainingStepTest {
  static Qwen2Config tiny(boolean tied) {
    return Qwen2Config.of(40, 32, 64, 2, 4, 2, 64, tied);
  }

  /** The tiny config of a family: qwen2 as {@link #tiny(boolean)}; qwen3 with head_dim 16 ≠ 32/4; llama with llama3 rope scaling. */
  static Qwen2Config tiny(String family) {
    Qwen2Config c = tiny(false);
    ModelFamily f = switch (family) {
      case "qwen3" -> new ModelFamily("qwen3", 16, false, true, null);
      case "llama" -> new ModelFamily("llama", 8, false, false, RopeScaling.of(Map.of("rope_type", "llama3",
          "factor", 8.0, "low_freq_factor", 1.0, "high_freq_factor", 4.0, "original_max_position_embeddings", 4), 64));
      default -> c.family();
    };
    return new Qwen2Config(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
        c.numAttentionHeads(), c.numKeyValueHeads(), c.maxPositionEmbeddings(), c.rmsNormEps(), c.ropeTheta(),
        c.tieWordEmbeddings(), c.torchDtype(), c.bosTokenId(), c.eosTokenId(), c.initializerRange(), c.extra(), f);
  }

  static final long[][] IDS = {{1, 5, 9, 3, 7, 2, 8, 4}, {0, 0, 6, 6, 1, 3, 5, 9}};
  static final long[][] SEG = {{1, 1, 1, 1, 1, 1, 1, 1}, {0, 0, 1, 1, 1, 1, 1, 1}};
  static final long[][] POS = {{0, 1, 2, 3, 4, 5, 6, 7}, {0, 0, 0, 1, 2, 3, 4, 5}};

  /** Mean next-token cross-entropy over non-pad targets. */
  static NDArray loss(Qwen2Model m, NDManager s) {
    NDArray ids = s.create(IDS);
    NDArray logits = m.logits(s, ids, s.create(SEG), s.create(POS)).get(":, :-1, :");
    NDArray targets = ids.get(":, 1:");
    NDArray lp = LogProbs.of(logits, targets, 1.0);
    NDArray mask = s.create(SEG).get(":, 1:").toType(ai.djl.ndarray.types.DataType.FLOAT32, false);
    return lp.mul(mask).sum().div(mask.sum()).neg();
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"qwen2", "qwen3", "llama"})
  void adamwStepsReduceLossChangeEveryParameterAndLeakNothing(String family) {
    try (Qwen2Model m = Qwen2Model.random(tiny(family), Device.cpu(), 7);
        AdamW opt = new AdamW(m.parameters(), new AdamW.Config(0.9, 0.999, 1e-8, 0.01))) {
      Map<String, float[]> before = new HashMap<>();
      m.parameters().forEach((k, v) -> before.put(k, v.toFloatArray()));
      LrSchedule sched = LrSchedule.of("cosine", 3e-3, 20, 2, Map.of());
      float first = Float.NaN;
      float last = Float.NaN;
      int baseline = -1;
      for (int step = 0; step < 20; step++) {
        try (NDManager s = NDManager.newBaseManager()) {
          try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray l = loss(m, s);
            gc.backward(l);
            last = l.getFloat();
          }
          if (step == 0) {
            first = last;
          }
          double norm = AdamW.clipGradNorm(m.parameters().values(), 1.0);
          assertTrue(Double.isFinite(norm) && norm > 0);
          opt.step(sched.lr(step));
          opt.zeroGrad();
        }
        int managed = m.manager().getManagedArrays().size();
        if (step == 1) {
          baseline = managed;
        } else if (step > 1) {
          assertEquals(baseline, managed, "a training step left arrays in the model's manager");
        }
      }
      assertTrue(last < first * 0.7, "loss " + first + " -> " + last);
      for (var e : m.parameters().entrySet()) {
        float[] a = before.get(e.getKey());
        float[] b = e.getValue().toFloatArray();
        boolean changed = false;
        for (int i = 0; i < a.length && !changed; i++) {
          changed = a[i] != b[i];
        }
        assertTrue(changed, e.getKey() + " did not change");
      }
    }
  }

  @Test
  void packedSegmentsDoNotAttendToEachOther() {
    try (Qwen2Model m = Qwen2Model.random(tiny(true), Device.cpu(), 3); NDManager s = NDManager.newBaseManager()) {
      long[][] packed = {{4, 8, 15, 16, 23, 32}};
      NDArray both = m.logits(s, s.create(packed), s.create(new long[][] {{1, 1, 1, 2, 2, 2}}), s.create(new long[][] {{0, 1, 2, 0, 1, 2}}));
      NDArray alone = m.logits(s, s.create(new long[][] {{16, 23, 32}}), s.create(new long[][] {{1, 1, 1}}), s.create(new long[][] {{0, 1, 2}}));
      float diff = both.get(":, 3:, :").sub(alone).abs().max().getFloat();
      assertTrue(diff < 1e-5, "packed second sequence differs by " + diff);
    }
  }

  @Test
  void saveLoadRoundTripIsExact(@TempDir Path dir) throws Exception {
    try (Qwen2Model m = Qwen2Model.random(tiny(false), Device.cpu(), 11); NDManager s = NDManager.newBaseManager()) {
      m.save(dir);
      try (Qwen2Model back = Qwen2Model.load(dir, Device.cpu())) {
        NDArray a = m.logits(s, s.create(IDS), s.create(SEG), s.create(POS));
        NDArray b = back.logits(s, s.create(IDS), s.create(SEG), s.create(POS));
        assertEquals(0f, a.sub(b).abs().max().getFloat());
      }
    }
  }

  @Test
  void schedules() {
    LrSchedule lin = LrSchedule.of("linear", 1.0, 10, 2, Map.of());
    assertEquals(0.0, lin.lr(0));
    assertEquals(0.5, lin.lr(1));
    assertEquals(1.0, lin.lr(2));
    assertEquals(0.5, lin.lr(6), 1e-12);
    LrSchedule cos = LrSchedule.of("cosine_with_min_lr", 2.0, 12, 2, Map.of("min_lr_rate", 0.1));
    assertEquals(2.0, cos.lr(2), 1e-12);
    assertEquals(2.0 * (0.1 + 0.9 * 0.5), cos.lr(7), 1e-12);
    assertEquals(0.2, cos.lr(12), 1e-12);
    assertEquals(3, LrSchedule.warmupSteps(0.1, 25));
  }
}
