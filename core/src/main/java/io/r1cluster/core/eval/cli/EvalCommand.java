package io.r1cluster.core.eval.cli;

import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.eval.Benchmark;
import io.r1cluster.core.eval.Evaluator;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.DataSettings;
import io.r1cluster.core.sft.cli.SftCommand;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1 eval --model DIR --dataset D} or {@code --benchmark math500}: pass@1 / pass@k, format
 * rate and mean length on a split or a shipped benchmark.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Evaluate a checkpoint: pass@1 (greedy) or pass@k (n samples, unbiased estimator), scored with",
        "the accuracy reward against the `solution` column, plus format-reward rate and mean completion length.",
        "--benchmark math500: the 500 MATH test problems (shipped; openai/prm800k, MIT) with open-r1's prompt",
        "and generation settings (sampled at temperature 0.6, top-p 0.95, up to 32768 new tokens, pass@1 over n samples).",
        "Writes eval.json and eval_samples.jsonl into --out (default: the model folder)."})
public final class EvalCommand implements CliCommand {
  @Option(names = "--model", required = true, description = "Hugging Face checkpoint folder") Path model;
  @Option(names = "--dataset", description = "dataset folder, file or hub id in the local cache") String dataset;
  @Option(names = "--benchmark", paramLabel = "NAME", description = "a shipped benchmark instead of --dataset: math500") String benchmark;
  @Option(names = "--split", defaultValue = "test", description = "split (default: ${DEFAULT-VALUE})") String split;
  @Option(names = "--prompt-column", defaultValue = "problem", description = "prompt column (default: ${DEFAULT-VALUE})") String promptColumn;
  @Option(names = "--system-prompt", description = "system prompt prepended to every prompt") String systemPrompt;
  @Option(names = "--n", defaultValue = "1", description = "samples per prompt (1 = greedy)") int n;
  @Option(names = "--k", defaultValue = "0", description = "k of pass@k (default: n)") int k;
  @Option(names = "--temperature", defaultValue = "0.6", description = "sampling temperature when n > 1 or with --benchmark"
      + " (default: ${DEFAULT-VALUE}, DeepSeek-R1's protocol; 0 = greedy)") double temperature;
  @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus sampling when sampling (default: ${DEFAULT-VALUE})") double topP;
  @Option(names = "--max-new-tokens", description = "longest completion (default: 32768 with --benchmark, as open-r1's"
      + " lighteval runs; else 256); at most the model's max_position_embeddings minus the prompt") Integer maxNewTokens;
  @Option(names = "--batch-size", defaultValue = "64") int batchSize;
  @Option(names = "--limit", defaultValue = "0", description = "evaluate only the first N prompts (0 = all)") int limit;
  @Option(names = "--seed", defaultValue = "0") long seed;
  @Option(names = "--samples", defaultValue = "20",
      description = "completions written to eval_samples.jsonl (default: ${DEFAULT-VALUE}; -1 = all)") int samples;
  @Option(names = "--out", description = "where eval.json goes (default: the model folder)") Path out;
  @Option(names = "--chat-template-kwargs",
      description = "JSON object of chat-template variables, e.g. '{\"enable_thinking\": false}' (recipe key chat_template_kwargs)")
  String chatTemplateKwargs;
  @Option(names = "--dtype", defaultValue = "float32",
      description = "weights and activations: float32 or bfloat16 (default: ${DEFAULT-VALUE})") String dtype;

  /** {@code --chat-template-kwargs} JSON text as a map; bad JSON names the option. */
  @SuppressWarnings("unchecked")
  static java.util.Map<String, Object> kwargs(String json) {
    if (json == null || json.isBlank()) {
      return java.util.Map.of();
    }
    try {
      Object o = new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, Object.class);
      if (o instanceof java.util.Map<?, ?> m) {
        return (java.util.Map<String, Object>) m;
      }
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new io.r1cluster.core.InputException(null, 0, "--chat-template-kwargs", "not JSON: " + e.getOriginalMessage());
    }
    throw new io.r1cluster.core.InputException(null, 0, "--chat-template-kwargs", "must be a JSON object");
  }

  @Override
  public Integer call() {
    if ((dataset == null) == (benchmark == null)) {
      throw new io.r1cluster.core.InputException(null, 0, "--dataset", "give either --dataset or --benchmark");
    }
    List<Prompt> prompts;
    Benchmark bench = benchmark == null ? null : Benchmark.of(benchmark);
    if (bench != null) {
      prompts = bench.prompts();
    } else {
      DataSettings ds = new DataSettings(dataset, null, "train", split, promptColumn, systemPrompt, null, false);
      prompts = Datasets.prompts(ds, split).items();
      if (prompts.isEmpty()) {
        throw new io.r1cluster.core.InputException(null, 0, "--split", "split '" + split + "' of " + dataset
            + " has no usable rows; an empty evaluation would report pass@1 0.000");
      }
    }
    int maxNew = maxNewTokens != null ? maxNewTokens : bench != null ? Benchmark.MAX_NEW_TOKENS : 256;
    if (maxNew < 1) {
      throw new io.r1cluster.core.InputException(null, 0, "--max-new-tokens", "must be at least 1, got " + maxNew);
    }
    if (limit > 0 && prompts.size() > limit) {
      prompts = prompts.subList(0, limit);
    }
    int toWrite = samples < 0 ? Integer.MAX_VALUE : samples;
    // n = 1 is greedy, except on a benchmark: open-r1 samples its one completion per problem at temperature 0.6
    boolean greedy = temperature == 0 || (n <= 1 && bench == null);
    Evaluator.Options o = greedy ? new Evaluator.Options(Math.max(1, n), 1, 0, 1.0, maxNew, batchSize, seed, toWrite)
        : new Evaluator.Options(Math.max(1, n), k <= 0 ? Math.max(1, n) : k, temperature, topP, maxNew, batchSize, seed, toWrite);
    if (!dtype.equals("float32") && !dtype.equals("bfloat16")) {
      throw new io.r1cluster.core.InputException(null, 0, "--dtype", "'" + dtype + "': use float32 or bfloat16");
    }
    try (Models.Loaded m = Models.loadCheckpoint(model, io.r1cluster.core.device.Devices.selected(),
        dtype.equals("bfloat16") ? ai.djl.ndarray.types.DataType.BFLOAT16 : ai.djl.ndarray.types.DataType.FLOAT32)) {
      Evaluator.Result r = Evaluator.evaluate(m.model(), m.tokenizer(),
          m.tokenizer().chatTemplate().withKwargs(kwargs(chatTemplateKwargs)), prompts, o,
          out == null ? model : out, System.out);
      SftCommand.printTable(System.out, model.getFileName().toString(), r);
      if (o.n() > 1) {
        System.out.printf(Locale.ROOT, "pass@%d %.3f (n=%d)%n", o.k(), r.passAtK(), o.n());
      }
      if (bench != null) {
        System.out.printf(Locale.ROOT, "%s pass@1 %.4f over %d problems (n=%d, temperature %s, top_p %s, max_new_tokens %d)%n",
            bench.id(), r.passAt1(), r.prompts(), o.n(), o.temperature(), o.topP(), o.maxNewTokens());
      }
    }
    return 0;
  }
}
