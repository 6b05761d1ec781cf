package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.device.Casts;
import io.r1cluster.core.device.Devices;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bf16 weights on the transformers fixtures: logits near float32's, checkpoints that round-trip bit
 * for bit, and casts that autograd can see through.
 *
 * <p>Tolerance of bf16 logits against float32 logits of the same weights: max |diff| ≤ 0.05 ·
 * max |logit| over the non-padding positions (bf16 keeps 8 mantissa bits, ≈ 0.4 % per rounding; the
 * fixtures' logits reach |4|), and the arg-max token agrees at ≥ 90 % of positions.
 */
class Bf16Test {
  static final double REL_TOL = 0.05;

  static Path fixture(String name) throws Exception {
    return Paths.get(Bf16Test.class.getResource("/fixtures/" + name + "/model.safetensors").toURI()).getParent();
  }

  /**
   * {@code other}'s logits against {@code ref}'s over the unmasked positions: the largest |difference|,
   * the largest |ref| logit, the positions compared and those where both pick the same arg-max.
   */
  record Diff(double maxDiff, double maxAbs, int rows, int agree) {
    static Diff of(float[] ref, float[] other, long[][] mask, int v) {
      int t = mask[0].length;
      double maxDiff = 0;
      double maxAbs = 0;
      int rows = 0;
      int agree = 0;
      for (int i = 0; i < mask.length; i++) {
        for (int j = 0; j < t; j++) {
          if (mask[i][j] == 0) {
            continue;
          }
          int base = (i * t + j) * v;
          int am = 0;
          int bm = 0;
          for (int k = 0; k < v; k++) {
            maxDiff = Math.max(maxDiff, Math.abs(other[base + k] - ref[base + k]));
            maxAbs = Math.max(maxAbs, Math.abs(ref[base + k]));
            am = ref[base + k] > ref[base + am] ? k : am;
            bm = other[base + k] > other[base + bm] ? k : bm;
          }
          rows++;
          agree += am == bm ? 1 : 0;
        }
      }
      return new Diff(maxDiff, maxAbs, rows, agree);
    }
  }

  static float[] logits(Qwen2Model m, long[][] ids, long[][] mask, long[][] pos) {
    try (NDManager s = Devices.manager(m.device())) {
      NDArray l = m.logits(s, s.create(ids), s.create(mask), s.create(pos));
      assertEquals(DataType.FLOAT32, l.getDataType(), "logits leave the model in float32");
      return l.toFloatArray();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen2", "tiny-qwen2-tied", "tiny-qwen2-bf16"})
  void bf16LogitsStayWithinToleranceOfFloat32(String name) throws Exception {
    Path dir = fixture(name);
    JsonNode in = TransformersParityTest.JSON.readTree(dir.resolve("inputs.json").toFile());
    long[][] ids = TransformersParityTest.longs(in.get("input_ids"));
    long[][] mask = TransformersParityTest.longs(in.get("attention_mask"));
    long[][] pos = TransformersParityTest.longs(in.get("position_ids"));
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    float[] f32;
    float[] bf;
    try (Qwen2Model a = Qwen2Model.loadStreaming(dir, cfg, Devices.host(), DataType.FLOAT32);
        Qwen2Model b = Qwen2Model.loadStreaming(dir, cfg, Devices.host(), DataType.BFLOAT16)) {
      assertEquals(DataType.BFLOAT16, b.dataType());
      f32 = logits(a, ids, mask, pos);
      bf = logits(b, ids, mask, pos);
    }
    Diff d = Diff.of(f32, bf, mask, cfg.vocabSize());
    double maxDiff = d.maxDiff();
    double maxAbs = d.maxAbs();
    int rows = d.rows();
    int agree = d.agree();
    assertTrue(maxDiff > 0, "bf16 logits identical to float32: the bf16 path did not run");
    assertTrue(maxDiff <= REL_TOL * maxAbs, name + ": max |diff| " + maxDiff + " > " + REL_TOL + " x " + maxAbs);
    assertTrue(agree >= 0.9 * rows, name + ": arg-max agrees at " + agree + "/" + rows + " positions");
  }

  @Test
  void bf16CheckpointRoundTripsBitForBit(@TempDir Path tmp) throws Exception {
    Path dir = fixture("tiny-qwen2-bf16");
    Map<String, TensorData> original = SafeTensors.read(dir.resolve("model.safetensors"));
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    Path out = tmp.resolve("saved");
    try (Qwen2Model m = Qwen2Model.loadStreaming(dir, cfg, Devices.host(), DataType.BFLOAT16)) {
      HfCheckpoint.save(out, cfg.toJson(), m.toTensors(DType.BF16), HfCheckpoint.DEFAULT_MAX_SHARD_BYTES, null, null);
    }
    Path st = out.resolve("model.safetensors");
    String header = new String(Files.readAllBytes(st), 8, 400, java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(header.contains("\"dtype\":\"BF16\""), header);
    Map<String, TensorData> saved = SafeTensors.read(st);
    assertEquals(original.keySet(), saved.keySet());
    for (var e : original.entrySet()) {
      assertEquals(DType.BF16, saved.get(e.getKey()).dtype(), e.getKey());
      assertArrayEquals(bytes(e.getValue()), bytes(saved.get(e.getKey())), e.getKey() + " changed on save");
    }
    try (Qwen2Model again = Qwen2Model.loadStreaming(out, cfg, Devices.host(), DataType.BFLOAT16)) {
      List<TensorData> second = again.toTensors(DType.BF16);
      for (TensorData t : second) {
        assertArrayEquals(bytes(original.get(t.name())), bytes(t), t.name() + " changed on the second load");
      }
    }
  }

  @Test
  void aBf16WeightPushIsHalfTheBytesAndItsModelGenerates() {
    Qwen2Config cfg = Qwen2Config.of(64, 32, 80, 2, 4, 2, 128, true);
    try (Qwen2Model learner = Qwen2Model.random(cfg, Devices.host(), 5)) {
      List<TensorData> f32 = learner.toTensors(DType.F32);
      List<TensorData> bf = learner.toTensors(DType.BF16); // what GrpoJob publishes for torch_dtype: bfloat16
      long fb = f32.stream().mapToLong(TensorData::byteSize).sum();
      long bb = bf.stream().mapToLong(TensorData::byteSize).sum();
      assertEquals(fb, 2 * bb);
      Map<String, TensorData> named = new java.util.LinkedHashMap<>();
      bf.forEach(t -> named.put(t.name(), t));
      // the rollout engine's path: a bf16 push becomes a bf16 model
      try (Qwen2Model rollout = Qwen2Model.fromTensors(cfg, named, Devices.host(), DataType.BFLOAT16)) {
        var out = new io.r1cluster.core.generate.Sampler(rollout, ids -> "").generate(
            List.of(new int[] {1, 2, 3}, new int[] {4, 5}), io.r1cluster.core.generate.SamplingParams.greedy(6, List.of()), 0, 0);
        assertEquals(6, out.get(0).tokenIds().length);
        assertEquals(6, out.get(1).tokenIds().length);
        for (TensorData t : rollout.toTensors(DType.BF16)) { // and exports the pushed bits unchanged
          assertArrayEquals(bytes(named.get(t.name())), bytes(t), t.name());
        }
      }
    }
  }

  static byte[] bytes(TensorData t) {
    ByteBuffer b = t.data();
    byte[] out = new byte[b.remaining()];
    b.get(out);
    return out;
  }

  @Test
  void castsAreDifferentiableAndExact() {
    try (NDManager m = Devices.manager(Devices.host())) {
      NDArray w = m.create(new float[] {1.001f, 2f, -3f, 0.5f}, new Shape(2, 2));
      w.setRequiresGradient(true);
      try (GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
        NDArray wb = Casts.toBf16(w);
        assertTrue(Casts.isBf16(wb));
        NDArray y = Casts.toFloat32(wb.mul(wb)).sum(); // sum(bf16(w)^2)
        assertEquals(1f + 4f + 9f + 0.25f, y.getFloat(), 1e-6); // 1.001 rounds to 1 in bf16
        gc.backward(y);
      }
      // d/dw sum(cast(w)^2) = 2 cast(w), through both casts
      assertArrayEquals(new float[] {2f, 4f, -6f, 1f}, w.getGradient().toFloatArray(), 1e-6f);
    }
  }
}
