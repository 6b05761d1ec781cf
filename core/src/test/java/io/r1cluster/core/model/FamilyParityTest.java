package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.SafeTensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Qwen3 (q/k norms, head_dim 16 ≠ hidden/heads, tied), Llama 3 (no biases, llama3 rope scaling) and
 * Qwen2 with yarn rope scaling: tiny random checkpoints and their logits from our independent
 * PyTorch reference written from the transformers source ({@code scripts/reference_decoder.py make};
 * no transformers on this machine — the same reference reproduces transformers' own logits for the
 * tiny-qwen2 fixtures to 4e-6, {@code reference_decoder.py check-qwen2}). Positions run to 63, past the
 * 16/32-token original contexts, so the scalings change the result. Max |diff| ≤ 1e-4 (float32) at
 * every real position, also after our save and reload.
 */
class FamilyParityTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static Path fixture(String name) throws Exception {
    return Paths.get(FamilyParityTest.class.getResource("/fixtures/" + name + "/model.safetensors").toURI()).getParent();
  }

  static double maxDiff(Qwen2Model model, Path dir) throws Exception {
    JsonNode in = JSON.readTree(dir.resolve("inputs.json").toFile());
    long[][] ids = TransformersParityTest.longs(in.get("input_ids"));
    long[][] mask = TransformersParityTest.longs(in.get("attention_mask"));
    long[][] pos = TransformersParityTest.longs(in.get("position_ids"));
    float[] expected = SafeTensors.read(dir.resolve("logits.safetensors")).get("logits").toFloats();
    try (NDManager scope = NDManager.newBaseManager()) {
      NDArray logits = model.logits(scope, scope.create(ids), scope.create(mask), scope.create(pos));
      float[] got = logits.toFloatArray();
      int t = ids[0].length;
      int v = model.config().vocabSize();
      assertEquals(expected.length, got.length);
      double max = 0;
      for (int i = 0; i < ids.length; i++) {
        for (int j = 0; j < t; j++) {
          if (mask[i][j] == 0) {
            continue;
          }
          for (int k = 0; k < v; k++) {
            int idx = (i * t + j) * v + k;
            max = Math.max(max, Math.abs(got[idx] - expected[idx]));
          }
        }
      }
      return max;
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen3", "tiny-llama3", "tiny-qwen2-yarn"})
  void logitsMatchReferenceAndSurviveSaveReload(String name, @TempDir Path tmp) throws Exception {
    Path dir = fixture(name);
    try (Qwen2Model model = Qwen2Model.load(dir, Device.cpu())) {
      double d = maxDiff(model, dir);
      System.out.printf("%s: max |ours - reference| = %.3g%n", name, d);
      assertTrue(d <= 1e-4, name + ": max |diff| = " + d);
      model.save(tmp);
    }
    JsonNode saved = JSON.readTree(tmp.resolve("config.json").toFile());
    JsonNode orig = JSON.readTree(dir.resolve("config.json").toFile());
    assertEquals(orig.get("model_type"), saved.get("model_type"));
    assertEquals(orig.get("architectures"), saved.get("architectures"));
    assertEquals(orig.path("rope_scaling").isObject() ? orig.get("rope_scaling") : null,
        saved.path("rope_scaling").isObject() ? saved.get("rope_scaling") : null);
    if (orig.has("head_dim")) {
      assertEquals(orig.get("head_dim").asInt(), saved.get("head_dim").asInt());
    }
    try (Qwen2Model again = Qwen2Model.load(tmp, Device.cpu())) {
      assertTrue(maxDiff(again, dir) <= 1e-4);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen3", "tiny-llama3", "tiny-qwen2-yarn"})
  void cachedDecodingMatchesTheFullForward(String name) throws Exception {
    Path dir = fixture(name);
    JsonNode in = JSON.readTree(dir.resolve("inputs.json").toFile());
    long[][] ids = TransformersParityTest.longs(in.get("input_ids"));
    long[][] valid = TransformersParityTest.longs(in.get("attention_mask"));
    long[][] pos = TransformersParityTest.longs(in.get("position_ids"));
    try (Qwen2Model m = Qwen2Model.load(dir, Device.cpu()); NDManager s = NDManager.newBaseManager();
        Qwen2Model.KvCache cache = m.newCache()) {
      NDArray full = m.logits(s, s.create(ids), s.create(valid), s.create(pos));
      double max = 0;
      for (int t = 0; t < ids[0].length; t++) {
        NDArray step = m.forwardCached(s, s.create(KvCacheAndSamplingTest.cut(ids, t, t + 1)),
            s.create(KvCacheAndSamplingTest.cut(valid, t, t + 1)), s.create(KvCacheAndSamplingTest.cut(pos, t, t + 1)),
            cache);
        for (int b = 0; b < ids.length; b++) {
          if (valid[b][t] == 1) {
            max = Math.max(max, step.get(b + ", 0, :").sub(full.get(b + ", " + t + ", :")).abs().max().getFloat());
          }
        }
      }
      assertTrue(max <= 1e-4, name + ": cache vs full max |diff| " + max);
    }
  }

  @Test
  void theFamilyDifferencesMatter() throws Exception {
    // Dropping llama3's scaling (or yarn's) must break parity: the fixture positions reach past the original context.
    for (String name : new String[] {"tiny-llama3", "tiny-qwen2-yarn"}) {
      Path dir = fixture(name);
      Qwen2Config c = Qwen2Config.read(dir.resolve("config.json"));
      ModelFamily f = c.family();
      Qwen2Config plain = new Qwen2Config(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
          c.numAttentionHeads(), c.numKeyValueHeads(), c.maxPositionEmbeddings(), c.rmsNormEps(), c.ropeTheta(),
          c.tieWordEmbeddings(), c.torchDtype(), c.bosTokenId(), c.eosTokenId(), c.initializerRange(), c.extra(),
          new ModelFamily(f.modelType(), f.headDim(), f.qkvBias(), f.qkNorm(), null));
      try (Qwen2Model m = Qwen2Model.fromTensors(plain, SafeTensors.read(dir.resolve("model.safetensors")),
          Device.cpu())) {
        assertTrue(maxDiff(m, dir) > 1e-2, name + " without rope scaling should differ");
      }
    }
  }

  private static Path config(Path tmp, String fixture, String key, String json) throws Exception {
    ObjectNode n = (ObjectNode) JSON.readTree(fixture(fixture).resolve("config.json").toFile());
    n.set(key, JSON.readTree(json));
    Path f = tmp.resolve("config.json");
    Files.writeString(f, n.toString());
    return f;
  }

  @Test
  void unsupportedTypesNameTheFileAndKey(@TempDir Path tmp) throws Exception {
    InputException e = assertThrows(InputException.class,
        () -> Qwen2Config.read(config(tmp, "tiny-qwen3", "model_type", "\"mistral\"")));
    assertTrue(e.getMessage().contains("config.json: model_type: 'mistral' is not supported"), e.getMessage());
    e = assertThrows(InputException.class, () -> Qwen2Config.read(config(tmp, "tiny-llama3", "rope_scaling",
        "{\"rope_type\": \"longrope\", \"factor\": 2.0}")));
    assertTrue(e.getMessage().contains("config.json: rope_scaling.rope_type: rotary scaling 'longrope' is not supported"),
        e.getMessage());
    e = assertThrows(InputException.class, () -> Qwen2Config.read(config(tmp, "tiny-llama3", "rope_scaling",
        "{\"rope_type\": \"llama3\", \"factor\": 8.0, \"low_freq_factor\": 1.0}")));
    assertTrue(e.getMessage().contains("rope_scaling.high_freq_factor: missing"), e.getMessage());
    e = assertThrows(InputException.class, () -> Qwen2Config.read(config(tmp, "tiny-qwen2-yarn", "rope_scaling",
        "{\"type\": \"yarn\", \"factor\": 4.0, \"bogus\": 1}")));
    assertTrue(e.getMessage().contains("rope_scaling.bogus: not a key of rope type 'yarn'"), e.getMessage());
    e = assertThrows(InputException.class, () -> Qwen2Config.read(config(tmp, "tiny-llama3", "mlp_bias", "true")));
    assertTrue(e.getMessage().contains("mlp_bias"), e.getMessage());
    e = assertThrows(InputException.class,
        () -> Qwen2Config.read(config(tmp, "tiny-qwen3", "use_sliding_window", "true")));
    assertTrue(e.getMessage().contains("use_sliding_window"), e.getMessage());
  }
}
