package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.checkpoint.SafeTensors;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ground truth: tiny random Qwen2 checkpoints written by transformers' own save_pretrained and the
 * logits transformers computed for them (scripts/make_transformers_fixture.py, transformers 5.17,
 * torch 2.11). Our model must load them and give the same logits (max |diff| ≤ 1e-4 in float32) at
 * every non-padding position, including a left-padded row.
 */
class TransformersParityTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static long[][] longs(JsonNode n) {
    long[][] out = new long[n.size()][];
    for (int i = 0; i < n.size(); i++) {
      out[i] = new long[n.get(i).size()];
      for (int j = 0; j < out[i].length; j++) {
        out[i][j] = n.get(i).get(j).asLong();
      }
    }
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"tiny-qwen2", "tiny-qwen2-tied", "tiny-qwen2-bf16"})
  void logitsMatchTransformers(String name) throws Exception {
    var url = getClass().getResource("/fixtures/" + name + "/model.safetensors");
    Assumptions.assumeTrue(url != null, "fixture " + name + " absent");
    Path dir = Paths.get(url.toURI()).getParent();
    JsonNode in = JSON.readTree(dir.resolve("inputs.json").toFile());
    long[][] ids = longs(in.get("input_ids"));
    long[][] mask = longs(in.get("attention_mask"));
    long[][] pos = longs(in.get("position_ids"));
    float[] expected = SafeTensors.read(dir.resolve("logits.safetensors")).get("logits").toFloats();
    try (Qwen2Model model = Qwen2Model.load(dir, Device.cpu()); NDManager scope = NDManager.newBaseManager()) {
      NDArray logits = model.logits(scope, scope.create(ids), scope.create(mask), scope.create(pos));
      int b = ids.length;
      int t = ids[0].length;
      int v = model.config().vocabSize();
      assertEquals(b * t * v, logits.size());
      float[] got = logits.toFloatArray();
      double maxDiff = 0;
      int compared = 0;
      for (int i = 0; i < b; i++) {
        for (int j = 0; j < t; j++) {
          if (mask[i][j] == 0) {
            continue;
          }
          for (int k = 0; k < v; k++) {
            int idx = (i * t + j) * v + k;
            maxDiff = Math.max(maxDiff, Math.abs(got[idx] - expected[idx]));
            compared++;
          }
        }
      }
      assertTrue(compared > 0);
      assertTrue(maxDiff <= 1e-4, name + ": max |diff| = " + maxDiff);
    }
  }
}
