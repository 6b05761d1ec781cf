package io.r1cluster.core.eval.cli;

import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.eval.Evaluator;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.DataSettings;
import io.r1cluster.core.sft.cli.SftCommand;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code r1 eval --model DIR --dataset D}: pass@1 / pass@k, format rate and mean length on a split. */
@Command(name = "eval", mixinStandardHelpOptions = true,
    description = {"Evaluate a checkpoint: pass@1 (greedy) or pass@k (n samples, unbiased estimator), scored with",
        "the accuracy reward against the `solution` column, plus format-reward rate and mean completion length.",
        "Writes eval.json and eval_samples.jsonl into --out (default: the model folder)."})
public final class EvalCommand implements CliCommand {
  @Option(names = "--model", required = true, description = "Hugging Face checkpoint folder") Path model;
  @Option(names = "--dataset", required = true, description = "dataset folder, file or hub id in the local cache") String dataset;
  @Option(names = "--split", defaultValue = "test", description = "split (default: ${DEFAULT-VALUE})") String split;
  @Option(names = "--prompt-column", defaultValue = "problem", description = "prompt column (default: ${DEFAULT-VALUE})") String promptColumn;
  @Option(names = "--system-prompt", description = "system prompt prepended to every prompt") String systemPrompt;
  @Option(names = "--n", defaultValue = "1", description = "samples per prompt (1 = greedy)") int n;
  @Option(names = "--k", defaultValue = "0", description = "k of pass@k (default: n)") int k;
  @Option(names = "--temperature", defaultValue = "0.6", description = "sampling temperature when n > 1 (default: ${DEFAULT-VALUE}, DeepSeek-R1's protocol)") double temperature;
  @Option(names = "--top-p", defaultValue = "0.95", description = "nucleus sampling when n > 1 (default: ${DEFAULT-VALUE})") double topP;
  @Option(names = "--max-new-tokens", defaultValue = "256") int maxNewTokens;
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
    DataSettings ds = new DataSettings(dataset, null, "train", split, promptColumn, systemPrompt, null, false);
    List<Prompt> prompts = Datasets.prompts(ds, split).items();
    if (prompts.isEmpty()) {
      throw new io.r1cluster.core.InputException(null, 0, "--split", "split '" + split + "' of " + dataset
          + " has no usable rows; an empty evaluation would report pass@1 0.000");
    }
    if (limit > 0 && prompts.size() > limit) {
      prompts = prompts.subList(0, limit);
    }
    int toWrite = samples < 0 ? Integer.MAX_VALUE : samples;
    Evaluator.Options o = n <= 1 ? Evaluator.Options.greedy(maxNewTokens).withSamplesToWrite(toWrite)
        : new Evaluator.Options(n, k <= 0 ? n : k, temperature, topP, maxNewTokens, batchSize, seed, toWrite);
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
    }
    return 0;
  }
}
