package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Qwen2ConfigTest {
  static Path fixture(String name) throws Exception {
    return Paths.get(Qwen2ConfigTest.class.getResource("/fixtures/" + name + "/config.json").toURI());
  }

  @Test
  void readsTransformers5ConfigWrittenBySavePretrained() throws Exception {
    Qwen2Config c = Qwen2Config.read(fixture("tiny-qwen2"));
    assertEquals(64, c.vocabSize());
    assertEquals(32, c.hiddenSize());
    assertEquals(80, c.intermediateSize());
    assertEquals(2, c.numHiddenLayers());
    assertEquals(4, c.numAttentionHeads());
    assertEquals(2, c.numKeyValueHeads());
    assertEquals(8, c.headDim());
    assertEquals(10000.0, c.ropeTheta());
    assertEquals(1e-6, c.rmsNormEps());
    assertEquals("float32", c.torchDtype());
    assertFalse(c.tieWordEmbeddings());
    assertEquals(-1, c.eosTokenId());
    assertTrue(Qwen2Config.read(fixture("tiny-qwen2-tied")).tieWordEmbeddings());
    assertEquals("bfloat16", Qwen2Config.read(fixture("tiny-qwen2-bf16")).torchDtype());
  }

  @Test
  void roundTripKeepsValuesAndUnknownKeys(@TempDir Path dir) throws Exception {
    Qwen2Config c = Qwen2Config.read(fixture("tiny-qwen2"));
    Path out = dir.resolve("config.json");
    c.write(out);
    Qwen2Config back = Qwen2Config.read(out);
    assertEquals(c.vocabSize(), back.vocabSize());
    assertEquals(c.ropeTheta(), back.ropeTheta());
    assertEquals(c.extra().get("layer_types"), back.extra().get("layer_types"));
    String text = Files.readString(out);
    assertTrue(text.contains("\"model_type\" : \"qwen2\""), text);
    assertTrue(text.contains("\"rope_theta\""), text);
  }

  @Test
  void badConfigNamesFileAndKey(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("config.json");
    Files.writeString(f, "{\"model_type\":\"gemma\"}"); // llama, qwen3 are supported since issue 17
    InputException e = assertThrows(InputException.class, () -> Qwen2Config.read(f));
    assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("model_type"), e.getMessage());
    Files.writeString(f, "{\"model_type\":\"qwen2\",\"hidden_size\":32}");
    e = assertThrows(InputException.class, () -> Qwen2Config.read(f));
    assertTrue(e.getMessage().contains("vocab_size") || e.getMessage().contains("num_attention_heads"), e.getMessage());
    Files.writeString(f, "{\"model_type\": ");
    e = assertThrows(InputException.class, () -> Qwen2Config.read(f));
    assertTrue(e.getMessage().contains("malformed JSON"), e.getMessage());
  }
}
