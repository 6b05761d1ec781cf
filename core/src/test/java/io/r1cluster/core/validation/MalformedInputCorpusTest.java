package io.r1cluster.core.validation;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.pipeline.DatasetPreflight;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.reward.cli.RewardCommand;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

/**
 * Malformed inputs of every kind the project reads — recipes, datasets, checkpoints, {@code r1 reward
 * --jsonl} lines — each with the message it must produce: an {@link InputException} whose text is
 * {@code file:line: key: message} (exit 2 in the CLI), never a stack trace, never silently accepted.
 * A case passes only if the expected text (file name, line and key included where the input has
 * them) appears in the message.
 */
class MalformedInputCorpusTest {
  @TempDir static Path dir;

  /** One malformed input and the message text it must produce. */
  record Case(String name, String input, String expected) {}

  // ---- recipes: the YAML text and the expected "r.yaml:LINE: key: ..." fragment ----
  static final List<Case> RECIPES = List.of(
      new Case("learning_rate .inf", "learning_rate: .inf\n", "r.yaml:1: learning_rate: must be a finite number"),
      new Case("learning_rate -.inf", "learning_rate: -.inf\n", "r.yaml:1: learning_rate:"),
      new Case("learning_rate .nan", "learning_rate: .nan\n", "r.yaml:1: learning_rate:"),
      new Case("negative learning_rate", "learning_rate: -1.0e-5\n", "r.yaml:1: learning_rate:"),
      new Case("negative code_timeout_s", "reward_funcs: [code]\ncode_timeout_s: -5\n", "r.yaml:2: code_timeout_s:"),
      new Case("zero code_timeout_s", "reward_funcs: [code]\ncode_timeout_s: 0\n", "r.yaml:2: code_timeout_s:"),
      new Case("unknown reward function", "reward_funcs: [accuracy, acuracy]\n", "r.yaml:1: reward_funcs: unknown reward function 'acuracy'"),
      new Case("reward_weights count", "reward_funcs: [accuracy, format]\nreward_weights: [1.0]\n",
          "r.yaml:2: reward_weights: has 1 weights for 2 reward_funcs"),
      new Case("num_generations 1", "num_generations: 1\n", "r.yaml:1: num_generations: GRPO needs at least 2"),
      new Case("string for int", "per_device_train_batch_size: sixteen\n", "r.yaml:1: per_device_train_batch_size:"),
      new Case("list for number", "learning_rate: [1, 2]\n", "r.yaml:1: learning_rate:"),
      new Case("unknown key", "learning_rat: 1.0e-5\n", "r.yaml:1: learning_rat: unknown key (did you mean 'learning_rate'?)"),
      new Case("bad enum", "lr_scheduler_type: cosin\n", "r.yaml:1: lr_scheduler_type:"),
      new Case("bad loss_type", "loss_type: ppo\n", "r.yaml:1: loss_type:"),
      new Case("top_p above 1", "top_p: 1.5\n", "r.yaml:1: top_p:"),
      new Case("negative temperature", "temperature: -0.5\n", "r.yaml:1: temperature:"),
      new Case("negative max_completion_length", "max_completion_length: -3\n", "r.yaml:1: max_completion_length:"),
      new Case("yaml syntax error", "learning_rate: 1.0e-5\nseed: [1, 2\n", "r.yaml:"),
      new Case("yaml tab indentation", "pipeline:\n\t- {name: a, type: sft}\n", "r.yaml:2:"),
      new Case("yaml not a mapping", "- just\n- a list\n", "r.yaml:1:"),
      new Case("yaml duplicate key", "seed: 1\nseed: 2\n", "r.yaml:2: seed:"),
      new Case("yaml alias bomb", aliasBomb(), "refusing a YAML alias bomb"),
      new Case("yaml deep nesting", "a: " + "[".repeat(200) + "]".repeat(200) + "\n", "nested more than"),
      new Case("stage named base", "pipeline:\n  - {name: base, type: sft}\n", "r.yaml:2: pipeline.base: 'base' is reserved"),
      new Case("stage named state.json", "pipeline:\n  - {name: state.json, type: sft}\n", "r.yaml:2: pipeline.state.json:"),
      new Case("stage name with slash", "pipeline:\n  - {name: a/b, type: sft}\n", "r.yaml:2: pipeline.a/b:"),
      new Case("stage name with dotdot", "pipeline:\n  - {name: ../escape, type: sft}\n", "r.yaml:2: pipeline.../escape:"),
      new Case("stage name absolute", "pipeline:\n  - {name: /tmp/x, type: sft}\n", "r.yaml:2: pipeline./tmp/x:"),
      new Case("stage name dot", "pipeline:\n  - {name: ., type: sft}\n", "r.yaml:2:"),
      new Case("stage without name", "pipeline:\n  - {type: sft}\n", "stage 1 needs a 'name'"),
      new Case("duplicate stage name", "pipeline:\n  - {name: a, type: sft}\n  - {name: a, type: sft}\n",
          "r.yaml:3: pipeline.a: duplicate stage name"),
      new Case("from missing stage", "pipeline:\n  - {name: a, type: sft}\n  - {name: b, type: sft, from: zzz}\n",
          "r.yaml:3: pipeline.b.from:"),
      new Case("from later stage", "pipeline:\n  - {name: a, type: sft, from: b}\n  - {name: b, type: sft}\n",
          "r.yaml:2: pipeline.a.from: stage 'b' runs later"),
      new Case("bad stage type", "pipeline:\n  - {name: a, type: distil}\n", "did you mean 'distill'"),
      new Case("stage not a mapping", "pipeline:\n  - sft\n", "r.yaml:2: pipeline: each stage is a mapping"),
      new Case("teacher_url not a URL", "pipeline:\n  - {name: g, type: generate, teacher_url: ftp://x}\n",
          "r.yaml:2: teacher_url: expected an http:// or https:// URL"),
      new Case("cluster transport", "cluster:\n  transport: carrier-pigeon\n", "r.yaml:2: cluster.transport:"),
      new Case("code_sandbox value", "reward_funcs: [code]\ncode_sandbox: maybe\n", "r.yaml:2: code_sandbox:"),
      new Case("mixture weight above 1", "dataset_mixture:\n  datasets:\n    - {id: x, weight: 1.5}\n",
          "weight: a mixture weight is the fraction of rows kept"),
      new Case("max_prompts zero", "pipeline:\n  - {name: g, type: generate, max_prompts: 0}\n", "max_prompts: must be at least 1"));

  static String aliasBomb() {
    StringBuilder b = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x]\n");
    char prev = 'a';
    for (char c = 'b'; c <= 'k'; c++) {
      b.append(c).append(": &").append(c).append(" [");
      for (int i = 0; i < 9; i++) {
        b.append(i == 0 ? "" : ", ").append('*').append(prev);
      }
      b.append("]\n");
      prev = c;
    }
    return b.toString();
  }

  @TestFactory
  Stream<DynamicTest> recipes() {
    return RECIPES.stream().map(c -> dynamicTest(c.name(), () -> {
      Path d = Files.createDirectories(dir.resolve("recipe-" + Math.abs(c.name().hashCode())));
      Path f = d.resolve("r.yaml");
      Files.writeString(f, c.input());
      InputException e = assertThrows(InputException.class, () -> Recipe.load(f), c.name());
      assertTrue(e.getMessage().contains(c.expected()), c.name() + ": " + e.getMessage());
      try (Stream<Path> s = Files.list(d)) {
        assertTrue(s.count() == 1, "validation wrote nothing");
      }
    }));
  }

  @Test
  void nonUtf8RecipeNamesTheLine() throws IOException {
    Path f = dir.resolve("latin1.yaml");
    Files.write(f, "seed: 1\nsystem_prompt: \"caf\u00e9\"\n".getBytes(StandardCharsets.ISO_8859_1));
    InputException e = assertThrows(InputException.class, () -> Recipe.load(f));
    assertTrue(e.getMessage().contains("latin1.yaml:2:") && e.getMessage().contains("not UTF-8"), e.getMessage());
  }

  // ---- datasets: train.jsonl content, the stage type, and the expected "FILE:ROW: column:" fragment ----
  static final List<Case> DATASETS = List.of(
      new Case("row not JSON", "{\"prompt\": \"1+1\", \"solution\": \"2\"}\n{oops\n", "train.jsonl:2:"),
      new Case("row not an object", "{\"prompt\": \"1+1\", \"solution\": \"2\"}\n[1, 2]\n", "train.jsonl:2:"),
      new Case("missing prompt column", "{\"question_typo\": \"1+1\", \"solution\": \"2\"}\n", "train.jsonl:1: prompt: stage 'rl': missing prompt column"),
      new Case("prompt column wrong type", "{\"prompt\": 17, \"solution\": \"2\"}\n", "train.jsonl:1:"),
      new Case("empty train split", "\n", "split 'train' has no usable rows"));

  @TestFactory
  Stream<DynamicTest> datasets() {
    return DATASETS.stream().map(c -> dynamicTest(c.name(), () -> {
      Path d = Files.createDirectories(dir.resolve("data-" + Math.abs(c.name().hashCode())));
      Files.writeString(d.resolve("train.jsonl"), c.input());
      Files.writeString(d.resolve("test.jsonl"), "{\"prompt\": \"2+2\", \"solution\": \"4\"}\n");
      Path f = d.resolve("r.yaml");
      Files.writeString(f, "model_name_or_path: demo\ndataset_name: " + d + "\npipeline:\n  - {name: rl, type: grpo}\n");
      Recipe r = Recipe.load(f);
      InputException e = assertThrows(InputException.class, () -> DatasetPreflight.check(r, r.stages()), c.name());
      assertTrue(e.getMessage().contains(c.expected()), c.name() + ": " + e.getMessage());
      assertTrue(e.getMessage().contains("stage 'rl'"), e.getMessage());
    }));
  }

  @Test
  void emptyEvalSplitIsAnErrorNotPassAtOneZero() throws IOException {
    Path d = Files.createDirectories(dir.resolve("data-empty-eval"));
    Files.writeString(d.resolve("train.jsonl"), "{\"prompt\": \"1+1\", \"solution\": \"2\"}\n");
    Files.writeString(d.resolve("test.jsonl"), "");
    Path f = d.resolve("r.yaml");
    Files.writeString(f, "model_name_or_path: demo\ndataset_name: " + d + "\npipeline:\n  - {name: rl, type: grpo}\n"
        + "  - {name: check, type: eval}\n");
    Recipe r = Recipe.load(f);
    InputException e = assertThrows(InputException.class, () -> DatasetPreflight.check(r, r.stages()));
    assertTrue(e.getMessage().contains("stage 'check'") && e.getMessage().contains("dataset_test_split")
        && e.getMessage().contains("no usable rows"), e.getMessage());
  }

  @Test
  void evaluatingNoPromptsIsAnErrorNotAScore() {
    InputException e = assertThrows(InputException.class, () -> io.r1cluster.core.eval.Evaluator.evaluate(null, null,
        null, List.of(), io.r1cluster.core.eval.Evaluator.Options.greedy(8), dir, System.out));
    assertTrue(e.getMessage().contains("dataset_test_split: the evaluation split has no usable rows"), e.getMessage());
  }

  @Test
  void badDatasetOfTheSecondStageIsFoundBeforeTheFirst() throws IOException {
    Path good = Files.createDirectories(dir.resolve("data-good"));
    Files.writeString(good.resolve("train.jsonl"), "{\"prompt\": \"1+1\", \"solution\": \"2\"}\n");
    Path bad = Files.createDirectories(dir.resolve("data-bad"));
    Files.writeString(bad.resolve("train.jsonl"), "{\"prompt\": \"1+1\", \"solution\": \"2\"}\nnot json\n");
    Path f = dir.resolve("two-stages.yaml");
    Files.writeString(f, "model_name_or_path: demo\npipeline:\n  - {name: one, type: grpo, dataset_name: " + good
        + "}\n  - {name: two, type: grpo, dataset_name: " + bad + "}\n");
    Recipe r = Recipe.load(f);
    InputException e = assertThrows(InputException.class, () -> DatasetPreflight.check(r, r.stages()));
    assertTrue(e.getMessage().contains("train.jsonl:2:") && e.getMessage().contains("stage 'two'"), e.getMessage());
  }

  // ---- checkpoints: config.json content and the expected "config.json: key:" fragment ----
  static final List<Case> CONFIGS = List.of(
      new Case("num_hidden_layers -1", config("\"num_hidden_layers\": -1"), "num_hidden_layers: must be at least 1, got -1"),
      new Case("num_hidden_layers 0", config("\"num_hidden_layers\": 0"), "num_hidden_layers: must be at least 1"),
      new Case("num_hidden_layers float", config("\"num_hidden_layers\": 2.5"), "num_hidden_layers:"),
      new Case("num_hidden_layers string", config("\"num_hidden_layers\": \"two\""), "num_hidden_layers:"),
      new Case("hidden_size missing", config(null), "hidden_size"),
      new Case("config not JSON", "{\"model_type\": \"qwen2\",", "config.json"),
      new Case("num_key_value_heads 0", config("\"num_key_value_heads\": 0"), "num_key_value_heads: must be at least 1"));

  static String config(String override) {
    List<String> kv = new ArrayList<>(List.of("\"model_type\": \"qwen2\"", "\"vocab_size\": 64",
        "\"intermediate_size\": 32", "\"num_attention_heads\": 2", "\"rms_norm_eps\": 1e-6"));
    if (override != null) {
      kv.add("\"hidden_size\": 16");
      if (!override.contains("num_hidden_layers")) {
        kv.add("\"num_hidden_layers\": 2");
      }
      kv.add(override);
    } else {
      kv.add("\"num_hidden_layers\": 2");
    }
    return "{" + String.join(", ", kv) + "}";
  }

  @TestFactory
  Stream<DynamicTest> checkpointConfigs() {
    return CONFIGS.stream().map(c -> dynamicTest(c.name(), () -> {
      Path d = Files.createDirectories(dir.resolve("ckpt-" + Math.abs(c.name().hashCode())));
      Path f = d.resolve("config.json");
      Files.writeString(f, c.input());
      InputException e = assertThrows(InputException.class, () -> Qwen2Config.read(f), c.name());
      assertTrue(e.getMessage().contains(c.expected()), c.name() + ": " + e.getMessage());
      assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }));
  }

  /** A 2-layer Qwen2 checkpoint's tensors (hidden 8, vocab 32); {@code poison} replaces one value of one tensor. */
  static List<io.r1cluster.core.checkpoint.TensorData> twoLayers(String poisonTensor, float poison) {
    List<io.r1cluster.core.checkpoint.TensorData> ts = new ArrayList<>();
    int v = 32, e = 8, f = 16, d = 4;
    List<Object[]> specs = new ArrayList<>();
    specs.add(new Object[] {"model.embed_tokens.weight", new long[] {v, e}});
    for (int l = 0; l < 2; l++) {
      String p = "model.layers." + l + ".";
      specs.add(new Object[] {p + "input_layernorm.weight", new long[] {e}});
      specs.add(new Object[] {p + "self_attn.q_proj.weight", new long[] {2 * d, e}});
      specs.add(new Object[] {p + "self_attn.q_proj.bias", new long[] {2 * d}});
      specs.add(new Object[] {p + "self_attn.k_proj.weight", new long[] {d, e}});
      specs.add(new Object[] {p + "self_attn.k_proj.bias", new long[] {d}});
      specs.add(new Object[] {p + "self_attn.v_proj.weight", new long[] {d, e}});
      specs.add(new Object[] {p + "self_attn.v_proj.bias", new long[] {d}});
      specs.add(new Object[] {p + "self_attn.o_proj.weight", new long[] {e, 2 * d}});
      specs.add(new Object[] {p + "post_attention_layernorm.weight", new long[] {e}});
      specs.add(new Object[] {p + "mlp.gate_proj.weight", new long[] {f, e}});
      specs.add(new Object[] {p + "mlp.up_proj.weight", new long[] {f, e}});
      specs.add(new Object[] {p + "mlp.down_proj.weight", new long[] {e, f}});
    }
    specs.add(new Object[] {"model.norm.weight", new long[] {e}});
    specs.add(new Object[] {"lm_head.weight", new long[] {v, e}});
    for (Object[] sp : specs) {
      long[] shape = (long[]) sp[1];
      float[] vals = new float[Math.toIntExact(io.r1cluster.core.checkpoint.TensorData.numel(shape))];
      for (int i = 0; i < vals.length; i++) {
        vals[i] = ((i * 7) % 13 - 6) / 64f;
      }
      if (sp[0].equals(poisonTensor)) {
        vals[vals.length / 2] = poison;
      }
      ts.add(io.r1cluster.core.checkpoint.TensorData.ofFloats((String) sp[0], shape, vals));
    }
    return ts;
  }

  static Path checkpoint(String name, int configLayers, String poisonTensor, float poison) throws IOException {
    Path d = Files.createDirectories(dir.resolve(name));
    Files.writeString(d.resolve("config.json"), Qwen2Config.of(32, 8, 16, configLayers, 2, 1, 64, false).toJson().toString());
    SafeTensors.write(d.resolve("model.safetensors"), twoLayers(poisonTensor, poison), java.util.Map.of());
    return d;
  }

  @Test
  void checkpointsWithNonFiniteWeightsOrMoreLayersThanTheConfigAreRefused() throws IOException {
    ai.djl.Device cpu = ai.djl.Device.cpu();
    Path nan = checkpoint("ckpt-nan", 2, "model.layers.1.mlp.up_proj.weight", Float.NaN);
    InputException e1 = assertThrows(InputException.class, () -> io.r1cluster.core.model.Qwen2Model.load(nan, cpu));
    assertTrue(e1.getMessage().contains("model.safetensors") && e1.getMessage().contains("model.layers.1.mlp.up_proj.weight")
        && e1.getMessage().contains("non-finite"), e1.getMessage());
    Path inf = checkpoint("ckpt-inf", 2, "lm_head.weight", Float.NEGATIVE_INFINITY);
    InputException e2 = assertThrows(InputException.class, () -> io.r1cluster.core.model.Qwen2Model.load(inf, cpu));
    assertTrue(e2.getMessage().contains("lm_head.weight: a non-finite value"), e2.getMessage());
    Path fewer = checkpoint("ckpt-fewer-layers", 1, null, 0);
    InputException e3 = assertThrows(InputException.class, () -> io.r1cluster.core.model.Qwen2Model.load(fewer, cpu));
    assertTrue(e3.getMessage().contains("weights for layer 1 but config.json says num_hidden_layers: 1"), e3.getMessage());
    io.r1cluster.core.model.Qwen2Model.load(checkpoint("ckpt-ok", 2, null, 0), cpu).close(); // the same files, sound
  }

  // ---- safetensors files: raw bytes (8-byte little-endian header length, JSON header, data) ----
  static byte[] safetensors(String header, int dataBytes, long declaredLength) {
    byte[] h = header.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(declaredLength < 0 ? h.length : declaredLength).put(h);
    return b.array();
  }

  static final List<Object[]> SAFETENSORS = List.of(
      new Object[] {"header length beyond the file", safetensors("{}", 0, 1L << 40), "model.safetensors"},
      new Object[] {"header not JSON", safetensors("{not json", 0, -1), "model.safetensors"},
      new Object[] {"offsets beyond the data", safetensors(
          "{\"w\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 8, -1), "w"},
      new Object[] {"shape disagrees with offsets", safetensors(
          "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", 16, -1), "w"},
      new Object[] {"unknown dtype", safetensors(
          "{\"w\": {\"dtype\": \"F7\", \"shape\": [4], \"data_offsets\": [0, 16]}}", 16, -1), "w"},
      new Object[] {"negative dimension", safetensors(
          "{\"w\": {\"dtype\": \"F32\", \"shape\": [-4], \"data_offsets\": [0, 16]}}", 16, -1), "w"},
      new Object[] {"truncated file", new byte[] {1, 2, 3}, "model.safetensors"});

  @TestFactory
  Stream<DynamicTest> safetensorsFiles() {
    return SAFETENSORS.stream().map(c -> dynamicTest((String) c[0], () -> {
      Path d = Files.createDirectories(dir.resolve("st-" + Math.abs(c[0].hashCode())));
      Path f = d.resolve("model.safetensors");
      Files.write(f, (byte[]) c[1]);
      InputException e = assertThrows(InputException.class, () -> SafeTensors.read(f), (String) c[0]);
      assertTrue(e.getMessage().contains((String) c[2]), c[0] + ": " + e.getMessage());
      assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    }));
  }

  // ---- r1 reward --jsonl lines: line 2 is the bad one; expected "in.jsonl:2: key: ..." ----
  static final String GOOD_LINE = "{\"reward\": \"format\", \"completions\": [\"<think>a</think><answer>b</answer>\"]}";
  static final List<Case> JSONL = List.of(
      new Case("not JSON", "{\"reward\": ", "in.jsonl:2: malformed JSON line"),
      new Case("no reward", "{\"completions\": [\"x\"]}", "in.jsonl:2: reward/completions:"),
      new Case("completions not an array", "{\"reward\": \"format\", \"completions\": \"x\"}", "in.jsonl:2: reward/completions:"),
      new Case("unknown reward", "{\"reward\": \"acuracy\", \"completions\": [\"x\"]}", "in.jsonl:2:"),
      new Case("solution count", "{\"reward\": \"accuracy\", \"completions\": [\"x\", \"y\"], \"solution\": [\"1\"]}",
          "in.jsonl:2: solution: 1 entries for 2 completions"),
      new Case("verification_info count", "{\"reward\": \"code\", \"completions\": [\"x\"], \"verification_info\": []}",
          "in.jsonl:2: verification_info: needs an array with one entry per completion"),
      new Case("verification_info without test_cases",
          "{\"reward\": \"code\", \"completions\": [\"x\"], \"verification_info\": [{\"language\": \"python\"}]}",
          "in.jsonl:2: verification_info: entry 1 needs"),
      new Case("completion not a string", "{\"reward\": \"format\", \"completions\": [{\"text\": \"x\"}]}",
          "in.jsonl:2: completions: entry 1 is not a string"),
      new Case("completion_ids not integers",
          "{\"reward\": \"format\", \"completions\": [\"x\"], \"completion_ids\": [[1, \"two\"]]}",
          "in.jsonl:2: completion_ids:"),
      new Case("completion_ids count", "{\"reward\": \"format\", \"completions\": [\"x\"], \"completion_ids\": []}",
          "in.jsonl:2: completion_ids:"),
      new Case("kwargs not an object", "{\"reward\": \"format\", \"completions\": [\"x\"], \"kwargs\": [1]}",
          "in.jsonl:2: kwargs:"));

  @TestFactory
  Stream<DynamicTest> rewardJsonlLines() {
    return JSONL.stream().map(c -> dynamicTest(c.name(), () -> {
      Path d = Files.createDirectories(dir.resolve("jsonl-" + Math.abs(c.name().hashCode())));
      Path f = d.resolve("in.jsonl");
      Files.writeString(f, GOOD_LINE + "\n" + c.input() + "\n");
      RewardCommand cmd = picocli.CommandLine.populateCommand(new RewardCommand(), "--jsonl", f.toString());
      InputException e = assertThrows(InputException.class, cmd::call, c.name());
      assertTrue(e.getMessage().contains(c.expected()), c.name() + ": " + e.getMessage());
    }));
  }

  @Test
  void corpusHasAtLeastFiftyCases() {
    int n = RECIPES.size() + 1 + DATASETS.size() + 2 + 3 + CONFIGS.size() + SAFETENSORS.size() + JSONL.size();
    assertTrue(n >= 50, "corpus size " + n);
    assertFalse(RECIPES.isEmpty() || DATASETS.isEmpty() || CONFIGS.isEmpty() || JSONL.isEmpty());
  }
}
