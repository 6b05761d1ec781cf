package io.r1cluster.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HfCheckpointTest {
  @TempDir Path tmp;

  /** Qwen2 parameter names and shapes (vocab V, hidden E, intermediate F, heads H, kv heads K, head dim D). */
  static List<TensorData> tinyQwen2(DType dtype) {
    int v = 32;
    int e = 8;
    int f = 16;
    int h = 2;
    int k = 1;
    int d = e / h;
    List<TensorData> ts = new ArrayList<>();
    ts.add(t("model.embed_tokens.weight", v, e));
    for (int l = 0; l < 2; l++) {
      String p = "model.layers." + l + ".";
      ts.add(t(p + "input_layernorm.weight", e));
      ts.add(t(p + "self_attn.q_proj.weight", h * d, e));
      ts.add(t(p + "self_attn.q_proj.bias", h * d));
      ts.add(t(p + "self_attn.k_proj.weight", k * d, e));
      ts.add(t(p + "self_attn.k_proj.bias", k * d));
      ts.add(t(p + "self_attn.v_proj.weight", k * d, e));
      ts.add(t(p + "self_attn.v_proj.bias", k * d));
      ts.add(t(p + "self_attn.o_proj.weight", e, h * d));
      ts.add(t(p + "post_attention_layernorm.weight", e));
      ts.add(t(p + "mlp.gate_proj.weight", f, e));
      ts.add(t(p + "mlp.up_proj.weight", f, e));
      ts.add(t(p + "mlp.down_proj.weight", e, f));
    }
    ts.add(t("model.norm.weight", e));
    ts.add(t("lm_head.weight", v, e));
    return ts.stream().map(x -> x.convert(dtype)).toList();
  }

  private static int seed = 1;

  private static TensorData t(String name, long... shape) {
    float[] vals = new float[Math.toIntExact(TensorData.numel(shape))];
    for (int i = 0; i < vals.length; i++) {
      // multiples of 1/64 in [-1, 1): exact in bf16
      vals[i] = ((seed++ * 37 + i * 11) % 128 - 64) / 64f;
    }
    return TensorData.ofFloats(name, shape, vals);
  }

  private static void assertSameTensors(List<TensorData> expected, Map<String, TensorData> actual) {
    assertEquals(expected.stream().map(TensorData::name).toList(), List.copyOf(actual.keySet()));
    for (TensorData e : expected) {
      TensorData a = actual.get(e.name());
      assertEquals(e.dtype(), a.dtype(), e.name());
      assertArrayEquals(e.shape(), a.shape(), e.name());
      assertEquals(e.data(), a.data(), e.name());
    }
  }

  @Test
  void bf16Qwen2CheckpointLoads() {
    List<TensorData> ts = tinyQwen2(DType.BF16);
    HfCheckpoint.writeWeights(tmp, ts, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
    assertTrue(Files.isRegularFile(tmp.resolve("model.safetensors")));
    assertFalse(Files.exists(tmp.resolve("model.safetensors.index.json")));
    var back = HfCheckpoint.readWeights(tmp);
    assertSameTensors(ts, back);
    TensorData k = back.get("model.layers.1.self_attn.k_proj.weight");
    assertArrayEquals(new long[] {4, 8}, k.shape());
    assertEquals(4 * 8 * 2, k.byteSize());
    TensorData expected = ts.stream().filter(x -> x.name().equals(k.name())).findFirst().orElseThrow();
    assertArrayEquals(expected.toFloats(), k.toFloats());
  }

  /** The checkpoint saved by transformers' save_pretrained (committed fixture) loads, and re-shards losslessly. */
  @Test
  void transformersFixtureLoadsAndReshards() throws Exception {
    Path dir = Path.of(getClass().getResource("/fixtures/tiny-qwen2-bf16/model.safetensors").toURI()).getParent();
    var w = HfCheckpoint.readWeights(dir);
    assertEquals(DType.BF16, w.get("model.embed_tokens.weight").dtype());
    assertTrue(w.containsKey("model.layers.0.self_attn.q_proj.bias"));
    GenerationConfig g = HfCheckpoint.readGenerationConfig(dir);
    assertEquals(List.of(), g.eosTokenIds());
    assertNull(g.temperature());
    Path out = tmp.resolve("resharded");
    HfCheckpoint.writeWeights(out, w.values(), 8192);
    assertTrue(Files.isRegularFile(out.resolve(HfCheckpoint.INDEX_FILE)));
    assertSameTensors(List.copyOf(w.values()), HfCheckpoint.readWeights(out));
  }

  @Test
  void shardedRoundTripAndIndex() throws IOException {
    List<TensorData> ts = tinyQwen2(DType.F32);
    long total = ts.stream().mapToLong(TensorData::byteSize).sum();
    HfCheckpoint.writeWeights(tmp, ts, 1200);
    JsonNode idx = new ObjectMapper().readTree(tmp.resolve("model.safetensors.index.json").toFile());
    assertEquals(total, idx.get("metadata").get("total_size").asLong());
    int shards;
    try (Stream<Path> s = Files.list(tmp)) {
      shards = (int) s.filter(p -> p.getFileName().toString().matches("model-\\d{5}-of-\\d{5}\\.safetensors")).count();
    }
    assertTrue(shards > 2, "shards " + shards);
    String last = String.format("model-%05d-of-%05d.safetensors", shards, shards);
    assertEquals(last, idx.get("weight_map").get("lm_head.weight").asText());
    assertEquals("model-00001-of-" + String.format("%05d", shards) + ".safetensors",
        idx.get("weight_map").get("model.embed_tokens.weight").asText());
    // every shard within the limit except a single oversized tensor (embeddings: 32*8*4 = 1024 B fits)
    for (int i = 1; i <= shards; i++) {
      Path p = tmp.resolve(String.format("model-%05d-of-%05d.safetensors", i, shards));
      long data = SafeTensors.read(p).values().stream().mapToLong(TensorData::byteSize).sum();
      assertTrue(data <= 1200, p + " " + data);
    }
    assertSameTensors(ts, HfCheckpoint.readWeights(tmp));

    // rewriting as a single file removes the stale shards and index
    HfCheckpoint.writeWeights(tmp, ts, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of("model.safetensors"), s.map(p -> p.getFileName().toString()).toList());
    }
  }

  @Test
  void missingShardIsNamed() throws IOException {
    HfCheckpoint.writeWeights(tmp, tinyQwen2(DType.F32), 1200);
    Files.delete(tmp.resolve(Files.list(tmp).map(p -> p.getFileName().toString())
        .filter(n -> n.startsWith("model-00002")).findFirst().orElseThrow()));
    InputException e = assertThrows(InputException.class, () -> HfCheckpoint.readWeights(tmp));
    assertTrue(e.getMessage().contains("model-00002-of-"), e.getMessage());
    InputException none = assertThrows(InputException.class, () -> HfCheckpoint.readWeights(tmp.resolve("x")));
    assertTrue(none.getMessage().contains("no model.safetensors"), none.getMessage());
  }

  @Test
  void generationConfigRoundTripAndEosList() throws IOException {
    var g = new GenerationConfig(151643, List.of(151645, 151643), 151643, true, 0.7, 0.8, 20, 512);
    HfCheckpoint.writeGenerationConfig(tmp, g);
    assertEquals(g, HfCheckpoint.readGenerationConfig(tmp));
    Files.writeString(tmp.resolve("generation_config.json"), "{\"eos_token_id\": 2, \"temperature\": 1}");
    var one = HfCheckpoint.readGenerationConfig(tmp);
    assertEquals(List.of(2), one.eosTokenIds());
    assertEquals(1.0, one.temperature());
    assertNull(one.topK());
    Files.writeString(tmp.resolve("generation_config.json"), "{\"top_k\": \"many\"}");
    InputException e = assertThrows(InputException.class, () -> HfCheckpoint.readGenerationConfig(tmp));
    assertTrue(e.getMessage().contains("top_k: expected an integer"), e.getMessage());
  }

  @Test
  void atomicSaveReplacesAndFailureLeavesOldIntact() throws IOException {
    Path tok = Files.createDirectories(tmp.resolve("tok"));
    Files.writeString(tok.resolve("tokenizer.json"), "{}");
    Files.writeString(tok.resolve("tokenizer_config.json"), "{\"eos_token\": \"<|im_end|>\"}");
    Path ckpt = tmp.resolve("ckpt");
    var config = new ObjectMapper().createObjectNode().put("model_type", "qwen2");
    HfCheckpoint.save(ckpt, config, tinyQwen2(DType.F32), 1_000_000, new GenerationConfig(null, List.of(3),
        null, null, null, null, null, null), tok);
    for (String f : List.of("config.json", "model.safetensors", "generation_config.json", "tokenizer.json",
        "tokenizer_config.json")) {
      assertTrue(Files.isRegularFile(ckpt.resolve(f)), f);
    }
    RuntimeException boom = new IllegalStateException("crash mid-write");
    assertThrows(IllegalStateException.class, () -> HfCheckpoint.writeAtomically(ckpt, d -> {
      HfCheckpoint.writeWeights(d, tinyQwen2(DType.BF16), 1_000_000);
      throw boom;
    }));
    assertEquals(DType.F32, HfCheckpoint.readWeights(ckpt).get("lm_head.weight").dtype());
    try (Stream<Path> s = Files.list(tmp)) {
      assertEquals(List.of("ckpt", "tok"), s.map(p -> p.getFileName().toString()).sorted().toList());
    }
    HfCheckpoint.save(ckpt, config, tinyQwen2(DType.BF16), 1_000_000, null, null);
    assertEquals(DType.BF16, HfCheckpoint.readWeights(ckpt).get("lm_head.weight").dtype());
    assertFalse(Files.exists(ckpt.resolve("tokenizer.json")));
  }

  @Test
  void hubCacheResolves() throws IOException {
    Path cache = tmp.resolve("hub");
    String hash = "0123456789abcdef0123456789abcdef01234567";
    Path snap = Files.createDirectories(cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct/snapshots/" + hash));
    Files.createDirectories(cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct/refs"));
    Files.writeString(cache.resolve("models--Qwen--Qwen2.5-0.5B-Instruct/refs/main"), hash + "\n");
    assertEquals(snap, HfCache.resolve(HfCache.RepoType.MODEL, "Qwen/Qwen2.5-0.5B-Instruct", null, cache));
    assertEquals(snap, HfCache.resolve(HfCache.RepoType.MODEL, "Qwen/Qwen2.5-0.5B-Instruct", hash, cache));
    Path ds = Files.createDirectories(cache.resolve("datasets--open-r1--OpenR1-Math-220k/snapshots/" + hash));
    assertEquals(ds, HfCache.resolve(HfCache.RepoType.DATASET, "open-r1/OpenR1-Math-220k", hash, cache));
    // a local directory wins
    assertEquals(snap, HfCache.resolve(HfCache.RepoType.MODEL, snap.toString(), null, cache));

    InputException e = assertThrows(InputException.class,
        () -> HfCache.resolve(HfCache.RepoType.MODEL, "Qwen/Qwen2.5-7B", null, cache));
    String m = e.getMessage();
    assertTrue(m.contains(cache.resolve("models--Qwen--Qwen2.5-7B").toAbsolutePath().toString()), m);
    assertTrue(m.contains("huggingface-cli download Qwen/Qwen2.5-7B"), m);
    assertTrue(m.contains("local directory"), m);
    e = assertThrows(InputException.class,
        () -> HfCache.resolve(HfCache.RepoType.MODEL, "Qwen/Qwen2.5-0.5B-Instruct", "v2", cache));
    assertTrue(e.getMessage().contains("refs/v2"), e.getMessage());

    assertEquals(Path.of("/h/hub"), HfCache.hubCacheDir(Map.of("HF_HOME", "/h")));
    assertEquals(Path.of("/c"), HfCache.hubCacheDir(Map.of("HF_HOME", "/h", "HF_HUB_CACHE", "/c")));
  }
}
