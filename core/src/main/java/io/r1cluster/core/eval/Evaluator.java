package io.r1cluster.core.eval;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.generate.StopTokens;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.reward.RewardFunction;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import io.r1cluster.core.train.Progress;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * pass@1 and pass@k on a split: greedy decoding for n = 1, else n samples per prompt at the given
 * temperature with the unbiased pass@k estimator. Correctness is open-r1's {@code accuracy} reward
 * against the row's {@code solution} (no score counts as wrong); the format rate is its
 * {@code format} reward. Writes {@code eval.json} and a sample of completions.
 */
public final class Evaluator {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** Evaluation settings. */
  public record Options(int n, int k, double temperature, double topP, int maxNewTokens, int batchSize, long seed,
      int samplesToWrite) {
    public static Options greedy(int maxNewTokens) {
      return new Options(1, 1, 0, 1.0, maxNewTokens, 64, 0, 20);
    }

    /** These options, writing up to {@code count} completions to {@code eval_samples.jsonl}. */
    public Options withSamplesToWrite(int count) {
      return new Options(n, k, temperature, topP, maxNewTokens, batchSize, seed, count);
    }

    /** The same prompts, greedy (the companion figure of a sampled evaluation). */
    public Options asGreedy() {
      return new Options(1, 1, 0, 1.0, maxNewTokens, Math.max(batchSize, 64), 0, samplesToWrite);
    }

    /**
     * A recipe's evaluation: {@code eval_num_samples} samples (1 = greedy) at
     * {@code eval_temperature} / {@code eval_top_p}, completions up to {@code eval_max_new_tokens}
     * (default {@code max_completion_length}; no other cap), {@code per_device_eval_batch_size}
     * prompts per batch when sampling.
     */
    public static Options of(io.r1cluster.core.recipe.RecipeSettings s) {
      int maxNew = s.eval().maxNewTokens() != null ? s.eval().maxNewTokens() : s.grpo().maxCompletionLength();
      int n = Math.max(1, s.eval().numSamples());
      return n == 1 ? greedy(maxNew)
          : new Options(n, n, s.eval().temperature(), s.eval().topP(), maxNew, s.eval().perDeviceEvalBatchSize() * n,
              s.training().seed(), 20);
    }
  }

  /** Results. */
  public record Result(int prompts, int n, int k, double passAt1, double passAtK, double formatRate, double meanLength,
      double seconds) {
    public Map<String, Object> asMap() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("prompts", prompts);
      m.put("n", n);
      m.put("pass@1", passAt1);
      m.put("pass@" + k, passAtK);
      m.put("format", formatRate);
      m.put("mean_length", meanLength);
      m.put("seconds", seconds);
      return m;
    }
  }

  private Evaluator() {}

  public static Result evaluate(Qwen2Model model, Tokenizer tok, ChatTemplate template, List<Prompt> prompts, Options o,
      Path outDir, PrintStream log) {
    if (prompts.isEmpty()) {
      // pass@1 of nothing is not 0.000: refuse rather than report a number
      throw new io.r1cluster.core.InputException(null, 0, "dataset_test_split",
          "the evaluation split has no usable rows; nothing to evaluate");
    }
    long t0 = System.nanoTime();
    List<RewardFunction> fns = RewardRegistry.create(List.of("accuracy", "format"), Map.of());
    List<Integer> eos = StopTokens.of(tok, model.config());
    SamplingParams sp = o.n() == 1 && o.temperature() == 0 ? SamplingParams.greedy(o.maxNewTokens(), eos)
        : new SamplingParams(o.temperature(), o.topP(), 0, 0, o.maxNewTokens(), eos, List.of());
    Sampler sampler = new Sampler(model, ids -> tok.decode(ids, true));
    int context = model.config().maxPositionEmbeddings();
    boolean clampNoted = false;
    double sum1 = 0;
    double sumK = 0;
    double fmt = 0;
    double len = 0;
    long samples = 0;
    List<Map<String, Object>> shown = new ArrayList<>();
    Progress progress = new Progress("eval", 0, prompts.size(), "prompts", log, 5000);
    int perBatch = Math.max(1, o.batchSize() / o.n());
    for (int i = 0; i < prompts.size(); i += perBatch) {
      List<Prompt> part = prompts.subList(i, Math.min(prompts.size(), i + perBatch));
      List<int[]> ids = new ArrayList<>();
      for (Prompt p : part) {
        int[] e = tok.encode(template.render(p.messages(), true));
        for (int s = 0; s < o.n(); s++) {
          ids.add(e);
        }
      }
      int longest = ids.stream().mapToInt(a -> a.length).max().orElse(0);
      SamplingParams batchSp = sp;
      if (longest + sp.maxNewTokens() > context) { // as vLLM's max_model_len: prompt + completion fit the context
        int fit = Math.max(1, context - longest);
        batchSp = new SamplingParams(sp.temperature(), sp.topP(), sp.topK(), sp.minP(), fit, sp.eosIds(), sp.stop());
        if (!clampNoted) {
          log.printf("eval: max_new_tokens %d does not fit max_position_embeddings %d after a %d-token prompt: "
              + "generating at most %d%n", sp.maxNewTokens(), context, longest, fit);
          clampNoted = true;
        }
      }
      List<Completion> comps = sampler.generate(ids, batchSp, o.seed() + i, 0);
      List<String> texts = new ArrayList<>();
      List<int[]> cids = new ArrayList<>();
      List<Object> sols = new ArrayList<>();
      for (int j = 0; j < comps.size(); j++) {
        texts.add(comps.get(j).text());
        cids.add(comps.get(j).tokenIds());
        sols.add(part.get(j / o.n()).solution());
      }
      RewardInput in = new RewardInput(texts, cids, Map.of("solution", sols));
      float[] acc = fns.get(0).score(in);
      float[] form = fns.get(1).score(in);
      for (int p = 0; p < part.size(); p++) {
        int c = 0;
        for (int s = 0; s < o.n(); s++) {
          int j = p * o.n() + s;
          c += acc[j] == 1f ? 1 : 0;
          fmt += form[j] == 1f ? 1 : 0;
          len += comps.get(j).tokenIds().length;
          samples++;
          if (shown.size() < o.samplesToWrite()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", part.get(p).id());
            row.put("prompt", part.get(p).messages().get(part.get(p).messages().size() - 1).content());
            row.put("solution", part.get(p).solution());
            row.put("completion", comps.get(j).text());
            row.put("correct", acc[j] == 1f);
            shown.add(row);
          }
        }
        sum1 += PassAtK.estimate(o.n(), c, 1);
        sumK += PassAtK.estimate(o.n(), c, Math.min(o.k(), o.n()));
      }
      progress.update(Math.min(prompts.size(), i + perBatch), null);
    }
    int np = Math.max(1, prompts.size());
    Result r = new Result(prompts.size(), o.n(), Math.min(o.k(), o.n()), sum1 / np, sumK / np,
        fmt / Math.max(1, samples), len / Math.max(1, samples), (System.nanoTime() - t0) / 1e9);
    if (outDir != null) {
      write(outDir, r, o, shown);
    }
    return r;
  }

  static void write(Path dir, Result r, Options o, List<Map<String, Object>> shown) {
    try {
      Files.createDirectories(dir);
      ObjectNode n = JSON.valueToTree(r.asMap());
      n.put("max_new_tokens", o.maxNewTokens());
      n.put("temperature", o.temperature());
      n.put("top_p", o.topP());
      Path tmp = dir.resolve(".eval.json.tmp");
      Files.writeString(tmp, JSON.writeValueAsString(n) + "\n");
      Files.move(tmp, dir.resolve("eval.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      try (BufferedWriter w = Files.newBufferedWriter(dir.resolve("eval_samples.jsonl"), StandardCharsets.UTF_8)) {
        for (Map<String, Object> row : shown) {
          w.write(new ObjectMapper().writeValueAsString(row));
          w.newLine();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
