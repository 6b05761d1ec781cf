package io.r1cluster.core.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.recipe.GrpoSettings;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.reward.RewardScorer;
import io.r1cluster.core.train.Progress;
import io.r1cluster.core.train.RunFolder;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The {@code generate} stage: rejection sampling of teacher traces into an SFT dataset.
 *
 * <p>The teacher answers every prompt of the train split (the first {@code max_prompts}) with
 * {@code num_generations} completions; each completion is scored by the {@code reward_funcs}
 * (default {@code accuracy} and {@code format}) against the row's {@code solution}. A completion
 * is <b>verified</b>, and kept, when every named reward gives it a score ≥ 1 — for the binary
 * rewards that is accuracy = 1 and format = 1; a reward that gives no score (NaN) rejects.
 *
 * <p>Output, in the Hugging Face layout the SFT loader reads:
 *
 * <pre>
 * OUT/train.jsonl             one row per kept completion: id (PROMPT_ID-K), prompt_id, prompt (messages),
 *                             completion ([assistant message]), messages (prompt + completion), solution
 * OUT/generation_stats.json   teacher, reward_funcs, total, kept, keep_rate, passed per reward,
 *                             per_prompt [{id, kept, total}]
 * </pre>
 *
 * OUT is written in a temporary sibling folder and renamed into place only when complete, so a
 * crash or a failing teacher never leaves a partial dataset; leftovers of a killed run are deleted
 * when the stage starts again.
 */
public final class TraceGenerator {
  public static final String DATA_FILE = "train.jsonl";
  public static final String STATS_FILE = "generation_stats.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RecipeSettings settings;
  private final PrintStream log;
  private long stopAfterBatches = Long.MAX_VALUE;
  private java.util.function.BooleanSupplier stopWhen = () -> false;

  public TraceGenerator(RecipeSettings settings, PrintStream log) {
    this.settings = settings;
    this.log = log;
  }

  /** Stops (as if killed) after this many batches of prompts, before the dataset is in place: for tests. */
  public TraceGenerator stopAfter(long batches) {
    this.stopAfterBatches = batches;
    return this;
  }

  /**
   * Stops before the next batch once {@code signal} is true (a cancelled pipeline), or within a batch
   * when the teacher throws {@link TraceTeacher.Cancelled}: nothing is written.
   */
  public TraceGenerator stopWhen(java.util.function.BooleanSupplier signal) {
    this.stopWhen = signal;
    return this;
  }

  /**
   * Counts of a run.
   *
   * @param prompts prompts asked
   * @param total completions scored
   * @param kept completions verified and written
   * @param passed per reward function, completions that passed it
   * @param completed false when stopped ({@link #stopAfter}, {@link #stopWhen}; nothing written)
   */
  public record Stats(int prompts, int total, int kept, Map<String, Integer> passed, double seconds, boolean completed) {
    public double keepRate() {
      return total == 0 ? 0 : kept / (double) total;
    }
  }

  private static final class Stopped extends RuntimeException {
    Stopped() {
      super("stopped", null, false, false);
    }
  }

  /** Generates, verifies and writes the dataset to {@code out} (replacing it when it exists). */
  public Stats run(TraceTeacher teacher, Path out) {
    GrpoSettings g = settings.grpo();
    List<Prompt> prompts = Datasets.prompts(settings.data(), settings.data().trainSplit()).items();
    Integer max = settings.distill().maxPrompts();
    if (max != null && max < prompts.size()) {
      prompts = prompts.subList(0, max);
    }
    if (prompts.isEmpty()) {
      throw new InputException(null, 0, "dataset_name", "the training split has no prompts to generate for");
    }
    RewardScorer scorer = new RewardScorer(RewardRegistry.create(g.rewardFuncs(), g.rewardKwargs()), null);
    int n = g.numGenerations();
    int perBatch = Math.max(1, settings.eval().perDeviceEvalBatchSize());
    long seed = settings.training().seed();
    deleteLeftovers(out);
    log.printf(Locale.ROOT, "generate: %d prompts × %d completions from %s, kept when %s all score >= 1%n", prompts.size(),
        n, teacher.describe(), String.join(", ", scorer.names()));
    List<Prompt> all = prompts;
    long t0 = System.nanoTime();
    int[] counts = new int[2];
    Map<String, Integer> passed = new LinkedHashMap<>();
    scorer.names().forEach(f -> passed.put(f, 0));
    try {
      HfCheckpoint.writeAtomically(out, tmp -> {
        ArrayNode perPrompt = JSON.createArrayNode();
        Progress progress = new Progress("generate", 0, all.size(), "prompts", log, 2000);
        try (BufferedWriter w = Files.newBufferedWriter(tmp.resolve(DATA_FILE), StandardCharsets.UTF_8)) {
          long batch = 0;
          for (int i = 0; i < all.size(); i += perBatch, batch++) {
            if (batch >= stopAfterBatches || stopWhen.getAsBoolean()) {
              throw new Stopped();
            }
            List<Prompt> part = all.subList(i, Math.min(all.size(), i + perBatch));
            List<List<TraceTeacher.Answer>> answers = teacher.answer(part, n, seed * 1_000_003L + batch);
            for (int p = 0; p < part.size(); p++) {
              int kept = writeVerified(w, part.get(p), answers.get(p), scorer, passed);
              perPrompt.addObject().put("id", part.get(p).id()).put("kept", kept).put("total", answers.get(p).size());
              counts[0] += answers.get(p).size();
              counts[1] += kept;
            }
            progress.update(Math.min(all.size(), i + perBatch), String.format(Locale.ROOT, "kept %d/%d (%.1f%%)",
                counts[1], counts[0], 100.0 * counts[1] / Math.max(1, counts[0])));
          }
        }
        ObjectNode st = JSON.createObjectNode();
        st.put("teacher", teacher.describe());
        st.putPOJO("reward_funcs", scorer.names());
        st.put("verified", "every reward in reward_funcs scores >= 1");
        st.put("num_generations", n);
        st.put("prompts", all.size());
        st.put("total", counts[0]);
        st.put("kept", counts[1]);
        st.put("keep_rate", counts[0] == 0 ? 0 : counts[1] / (double) counts[0]);
        ObjectNode pass = st.putObject("passed");
        passed.forEach(pass::put);
        st.set("per_prompt", perPrompt);
        Files.writeString(tmp.resolve(STATS_FILE),
            JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(st) + "\n");
      });
    } catch (Stopped | TraceTeacher.Cancelled s) {
      return new Stats(all.size(), counts[0], counts[1], passed, (System.nanoTime() - t0) / 1e9, false);
    }
    Stats st = new Stats(all.size(), counts[0], counts[1], passed, (System.nanoTime() - t0) / 1e9, true);
    log.printf(Locale.ROOT, "generate: kept %d of %d completions (%.1f%%) in %.1f s -> %s%n", st.kept(), st.total(),
        100 * st.keepRate(), st.seconds(), out.resolve(DATA_FILE));
    return st;
  }

  /** Scores one prompt's answers and writes the verified ones; returns how many were kept. */
  private static int writeVerified(BufferedWriter w, Prompt p, List<TraceTeacher.Answer> answers, RewardScorer scorer,
      Map<String, Integer> passed) throws IOException {
    List<String> texts = new ArrayList<>();
    List<int[]> ids = new ArrayList<>();
    for (TraceTeacher.Answer a : answers) {
      texts.add(a.text());
      ids.add(a.tokenIds());
    }
    Map<String, List<Object>> cols = new HashMap<>();
    p.metadata().forEach((k, v) -> cols.put(k, java.util.Collections.nCopies(answers.size(), v)));
    cols.put("solution", java.util.Collections.nCopies(answers.size(), p.solution()));
    float[][] m = scorer.scoreMatrix(new RewardInput(texts, ids, cols));
    List<String> names = scorer.names();
    int kept = 0;
    for (int k = 0; k < answers.size(); k++) {
      boolean ok = true;
      for (int f = 0; f < names.size(); f++) {
        boolean pass = m[k][f] >= 1f; // NaN fails
        ok &= pass;
        if (pass) {
          passed.merge(names.get(f), 1, Integer::sum);
        }
      }
      if (!ok) {
        continue;
      }
      kept++;
      ObjectNode row = JSON.createObjectNode();
      row.put("id", p.id() + "-" + k);
      row.put("prompt_id", p.id());
      ArrayNode prompt = row.putArray("prompt");
      ArrayNode messages = row.putArray("messages");
      for (ChatMessage c : p.messages()) {
        prompt.addObject().put("role", c.role()).put("content", c.content());
        messages.addObject().put("role", c.role()).put("content", c.content());
      }
      row.putArray("completion").addObject().put("role", "assistant").put("content", texts.get(k));
      messages.addObject().put("role", "assistant").put("content", texts.get(k));
      if (p.solution() != null) {
        row.put("solution", p.solution());
      }
      w.write(JSON.writeValueAsString(row));
      w.newLine();
    }
    return kept;
  }

  /** Deletes temporary folders a killed run left next to {@code out}. */
  static void deleteLeftovers(Path out) {
    Path abs = out.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    if (parent == null || !Files.isDirectory(parent)) {
      return;
    }
    String prefix = "." + abs.getFileName() + ".tmp-";
    try (Stream<Path> s = Files.list(parent)) {
      for (Path p : s.filter(x -> x.getFileName().toString().startsWith(prefix)).toList()) {
        RunFolder.deleteTree(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
