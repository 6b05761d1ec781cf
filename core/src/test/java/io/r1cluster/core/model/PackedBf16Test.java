package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.checkpoint.TensorData;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import io.r1cluster.core.device.Casts;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.device.PackedLinear;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * bf16 models on the CPU run their projections and LM head on weights packed once for oneDNN
 * ({@link PackedLinear}). Packed and plain bf16 models of the same checkpoint compute the same function
 * up to accumulation order (both round an fp32 sum of the same bf16 products to bf16, and those
 * roundings compound through the layers): the packed model must be as close to float32 as the plain
 * one (max |diff| ≤ 2× plain's; measured 0.6–1.5×, within {@link Bf16Test#REL_TOL}) and export the same bits.
 * The KV-cache decode of a packed model matches its full forward.
 */
class PackedBf16Test {
  static Qwen2Model load(Path dir, Qwen2Config cfg, boolean packed) {
    String old = System.getProperty(PackedLinear.PROPERTY);
    System.setProperty(PackedLinear.PROPERTY, Boolean.toString(packed));
    try {
      return Qwen2Model.loadStreaming(dir, cfg, Devices.host(), DataType.BFLOAT16);
    } finally {
      if (old == null) {
        System.clearProperty(PackedLinear.PROPERTY);
      } else {
        System.setProperty(PackedLinear.PROPERTY, old);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen2", "tiny-qwen2-tied", "tiny-qwen2-bf16"})
  void packedAndPlainBf16ComputeTheSameLogitsAndExportTheSameBits(String name) throws Exception {
    Path dir = Bf16Test.fixture(name);
    JsonNode in = TransformersParityTest.JSON.readTree(dir.resolve("inputs.json").toFile());
    long[][] ids = TransformersParityTest.longs(in.get("input_ids"));
    long[][] mask = TransformersParityTest.longs(in.get("attention_mask"));
    long[][] pos = TransformersParityTest.longs(in.get("position_ids"));
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    assertTrue(PackedLinear.available(Devices.host()), "the CPU build of libtorch packs bf16 weights");
    try (Qwen2Model f32 = Qwen2Model.loadStreaming(dir, cfg, Devices.host(), DataType.FLOAT32);
        Qwen2Model plain = load(dir, cfg, false); Qwen2Model packed = load(dir, cfg, true)) {
      assertFalse(plain.packed());
      assertTrue(packed.packed());
      // per layer: fused q/k/v, o, fused gate/up, down; and the LM head
      assertEquals(4 * cfg.numHiddenLayers() + 1, packed.packedMatrices());
      float[] ref = Bf16Test.logits(f32, ids, mask, pos);
      float[] a = Bf16Test.logits(plain, ids, mask, pos);
      float[] b = Bf16Test.logits(packed, ids, mask, pos);
      double plainDiff = Bf16Test.Diff.of(ref, a, mask, cfg.vocabSize()).maxDiff();
      Bf16Test.Diff d = Bf16Test.Diff.of(ref, b, mask, cfg.vocabSize());
      double packedDiff = d.maxDiff();
      double maxAbs = d.maxAbs();
      int rows = d.rows();
      int agree = d.agree();
      System.out.printf("%s: max |logit - float32| plain bf16 %.4f, packed bf16 %.4f (max |logit| %.3f)%n", name,
          plainDiff, packedDiff, maxAbs);
      assertTrue(packedDiff > 0, "packed bf16 identical to float32: the bf16 path did not run");
      assertTrue(packedDiff <= Bf16Test.REL_TOL * maxAbs, name + ": packed max |diff| " + packedDiff + " vs " + maxAbs);
      assertTrue(packedDiff <= 2 * plainDiff, name + ": packing made bf16 less accurate: " + packedDiff + " vs plain "
          + plainDiff);
      assertTrue(agree >= 0.9 * rows, name + ": arg-max agrees with float32 at " + agree + "/" + rows);
      List<TensorData> x = plain.toTensors(DType.BF16);
      List<TensorData> y = packed.toTensors(DType.BF16);
      assertEquals(x.size(), y.size());
      for (int i = 0; i < x.size(); i++) {
        assertEquals(x.get(i).name(), y.get(i).name());
        assertArrayEquals(x.get(i).shape(), y.get(i).shape(), x.get(i).name());
        assertEquals(x.get(i).data(), y.get(i).data(), x.get(i).name() + ": exported bits differ");
      }
    }
  }

  /**
   * One packed linear against the plain bf16 linear, packed for one row and run at 1, 3 and 40 rows:
   * both round an fp32 sum to bf16, so they agree to one bf16 rounding (2⁻⁸ relative) plus the fp32
   * order difference; a wrong layout would be off by the size of the outputs.
   */
  @ParameterizedTest
  @ValueSource(ints = {1, 3, 40})
  void aPackedLinearEqualsThePlainOneToOneRounding(int rows) {
    try (NDManager s = Devices.manager(Devices.host())) {
      for (long[] oi : new long[][] {{4864, 896}, {128, 896}, {896, 4864}}) {
        NDArray w = Casts.toBf16(s.randomNormal(0, 0.02f, new Shape(oi[0], oi[1]), DataType.FLOAT32));
        NDArray bias = Casts.toBf16(s.randomNormal(0, 0.02f, new Shape(oi[0]), DataType.FLOAT32));
        NDArray x = Casts.toBf16(s.randomNormal(0, 1, new Shape(rows, oi[1]), DataType.FLOAT32));
        NDArray p = PackedLinear.pack(w);
        NDArray want = Casts.toFloat32(Linear.linear(x, w, bias).get(0));
        for (int rep = 0; rep < 2; rep++) {
          NDArray got = Casts.toFloat32(PackedLinear.linear(x, p, bias));
          assertEquals(want.getShape(), got.getShape());
          NDArray excess = got.sub(want).abs().sub(want.abs().mul(1f / 128)).sub(1e-3f);
          assertTrue(excess.max().getFloat() <= 0, rows + " rows, " + java.util.Arrays.toString(oi) + ": |diff| "
              + got.sub(want).abs().max().getFloat() + " exceeds one bf16 rounding");
        }
        assertTrue(Casts.toFloat32(PackedLinear.unpack(p)).eq(Casts.toFloat32(w)).all().getBoolean(), "unpack is exact");
      }
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen2", "tiny-qwen2-tied"})
  void packedDecodeMatchesThePackedFullForward(String name) throws Exception {
    Path dir = Bf16Test.fixture(name);
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    long[] seq = {3, 17, 5, 42, 8, 11, 29, 2};
    try (Qwen2Model m = load(dir, cfg, true); NDManager s = Devices.manager(m.device());
        Qwen2Model.KvCache c = m.newCache()) {
      assertTrue(m.packed());
      int n = seq.length;
      long[][] ones = new long[1][n];
      long[][] pos = new long[1][n];
      for (int j = 0; j < n; j++) {
        ones[0][j] = 1;
        pos[0][j] = j;
      }
      float[] full = m.logits(s, s.create(new long[][] {seq}), s.create(ones), s.create(pos)).toFloatArray();
      int v = cfg.vocabSize();
      double maxAbs = 0;
      double maxDiff = 0;
      for (int j = 0; j < n; j++) {
        NDArray step = m.forwardCached(s, s.create(new long[][] {{seq[j]}}), s.create(new long[][] {{1}}),
            s.create(new long[][] {{j}}), c);
        float[] got = step.toFloatArray();
        assertEquals(v, got.length);
        for (int k = 0; k < v; k++) {
          maxDiff = Math.max(maxDiff, Math.abs(got[k] - full[j * v + k]));
          maxAbs = Math.max(maxAbs, Math.abs(full[j * v + k]));
        }
      }
      // bf16 activations: one token at a time rounds differently from the whole sequence at once
      assertTrue(maxDiff <= 0.05 * maxAbs, name + ": decode vs full forward max |diff| " + maxDiff + " vs max " + maxAbs);
    }
  }
}
