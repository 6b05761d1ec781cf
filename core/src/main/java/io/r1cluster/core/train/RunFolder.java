package io.r1cluster.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.GenerationConfig;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.AdamW;
import io.r1cluster.core.recipe.TrainingSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A training run's folder ({@code output_dir}), shared by every trainer (SFT, distillation, GRPO in
 * process and on the actors):
 *
 * <pre>
 *   output_dir/
 *     metrics.jsonl            one line per logged step ({@link MetricsLog})
 *     checkpoint-N/            every save_steps, written atomically ({@link #writeCheckpoint}):
 *       config.json, model*.safetensors, tokenizer files,
 *       optimizer.safetensors, trainer_state.json,
 *       master_weights.safetensors (float32, only when the weights are saved narrower)
 *     config.json, model*.safetensors, generation_config.json, tokenizer files,
 *     trainer_state.json       the final save ({@link #saveFinal}) and open-r1's save_state()
 *     plots/                   one PNG per metric
 * </pre>
 *
 * A run resumes from the newest complete {@code checkpoint-N} ({@link #resumeCheckpoint}); a folder
 * without {@code trainer_state.json} is incomplete and ignored.
 */
public final class RunFolder {
  private static final ObjectMapper JSON = new ObjectMapper();
  public static final String STATE_FILE = "trainer_state.json";
  public static final String OPTIMIZER_FILE = "optimizer.safetensors";
  public static final String METRICS_FILE = "metrics.jsonl";

  private RunFolder() {}

  /**
   * Steps between a run's events ({@code logging_steps}, {@code save_steps}, {@code eval_steps}): a
   * value ≥ 1 is a step count, a value &lt; 1 a fraction of the total (TRL).
   */
  public static int interval(double v, int total) {
    int k = v >= 1 ? (int) v : (int) Math.ceil(v * total);
    return Math.max(1, k);
  }

  /** The checkpoint to resume from: {@code resume_from_checkpoint}, else the latest in output_dir unless overwriting. */
  public static Path resumeCheckpoint(Path out, TrainingSettings t) {
    HfCheckpoint.removeStaleTemps(out); // a run killed while writing a checkpoint left its temp folder
    String r = t.resumeFromCheckpoint();
    if (r != null && !r.equalsIgnoreCase("false")) {
      if (r.equalsIgnoreCase("true")) {
        Path latest = latestCheckpoint(out);
        if (latest == null) {
          throw new InputException(null, 0, "resume_from_checkpoint", "no checkpoint-N folder in " + out);
        }
        return latest;
      }
      Path p = Path.of(r);
      if (!Files.isRegularFile(p.resolve(STATE_FILE))) {
        throw new InputException(null, 0, "resume_from_checkpoint", p + " is not a checkpoint (no " + STATE_FILE + ")");
      }
      return p;
    }
    return t.overwriteOutputDir() ? null : latestCheckpoint(out);
  }

  /** The complete checkpoint-N with the largest N, or null. */
  public static Path latestCheckpoint(Path out) {
    return checkpoints(out).stream().reduce((a, b) -> b).orElse(null);
  }

  public static List<Path> checkpoints(Path out) {
    if (!Files.isDirectory(out)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(out)) {
      return s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
          .filter(p -> Files.isRegularFile(p.resolve(STATE_FILE)))
          .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(11))))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes {@code out/checkpoint-STEP} atomically (HF weights + config + tokenizer files,
   * {@code optimizer.safetensors}, {@code trainer_state.json} = {@code state}) and then deletes the
   * oldest checkpoints beyond {@code limit} (0 = keep all). Shared by every trainer (SFT, distillation, GRPO, the actors' learner).
   */
  public static void writeCheckpoint(Path out, long step, Models.Loaded loaded, AdamW opt, ObjectNode state, int limit) {
    writeCheckpoint(out, step, loaded.model(), loaded.tokenizerDir(), opt, state, limit);
  }

  /** {@link #writeCheckpoint(Path, long, Models.Loaded, AdamW, ObjectNode, int)} for a model and the folder of its tokenizer files. */
  public static void writeCheckpoint(Path out, long step, Qwen2Model model, Path tokenizerDir, AdamW opt,
      ObjectNode state, int limit) {
    List<TensorData> weights = model.toTensors(model.savedAs()); // the recipe's torch_dtype
    // weights saved narrower than the float32 master weights: keep the master weights too (exact resume)
    List<TensorData> master = model.savedAs() != io.r1cluster.core.checkpoint.DType.F32
        && model.dataType() == ai.djl.ndarray.types.DataType.FLOAT32 ? model.toTensors(io.r1cluster.core.checkpoint.DType.F32) : null;
    Map<String, TensorData> optState = opt.state();
    HfCheckpoint.writeAtomically(out.resolve("checkpoint-" + step), tmp -> {
      Files.writeString(tmp.resolve(HfCheckpoint.CONFIG_FILE),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(model.checkpointConfig()) + "\n");
      HfCheckpoint.writeWeights(tmp, weights, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES);
      HfCheckpoint.copyTokenizerFiles(tokenizerDir, tmp);
      SafeTensors.write(tmp.resolve(OPTIMIZER_FILE), optState.values(), Map.of());
      if (master != null) {
        SafeTensors.write(tmp.resolve(Models.MASTER_WEIGHTS_FILE), master, Map.of());
      }
      Files.writeString(tmp.resolve(STATE_FILE), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state) + "\n");
    });
    if (limit > 0) {
      List<Path> all = checkpoints(out);
      for (int i = 0; i < all.size() - limit; i++) {
        deleteTree(all.get(i));
      }
    }
  }

  /**
   * The final model into {@code output_dir} itself (as TRL's {@code save_model}): written completely
   * into a temporary folder first, then each file moved in atomically, weights last.
   */
  public static void saveFinal(Path out, Models.Loaded loaded) {
    saveFinal(out, loaded.model(), loaded.tokenizerDir());
  }

  /** {@link #saveFinal(Path, Models.Loaded)} for a model and the folder of its tokenizer files. */
  public static void saveFinal(Path out, Qwen2Model model, Path tokenizerDir) {
    Path tmp = out.resolve(".final-tmp");
    deleteTree(tmp);
    Integer eos = model.config().eosTokenId() >= 0 ? model.config().eosTokenId() : null;
    GenerationConfig gen = new GenerationConfig(model.config().bosTokenId() >= 0 ? model.config().bosTokenId() : null,
        eos == null ? List.of() : List.of(eos), null, null, null, null, null, null);
    HfCheckpoint.save(tmp, model.checkpointConfig(), model.toTensors(model.savedAs()), HfCheckpoint.DEFAULT_MAX_SHARD_BYTES, gen,
        tokenizerDir);
    try (Stream<Path> files = Files.list(tmp)) {
      List<Path> list = new ArrayList<>(files.toList());
      list.sort(Comparator.comparing((Path p) -> p.getFileName().toString().contains("safetensors")));
      for (Path f : list) {
        Files.move(f, out.resolve(f.getFileName()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    deleteTree(tmp);
  }

  public static void deleteTree(Path p) {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A JSON file of a checkpoint; unreadable is an InputException naming it. */
  public static JsonNode readJson(Path f) {
    try {
      return JSON.readTree(f.toFile());
    } catch (IOException e) {
      throw new InputException(f, 0, null, "unreadable: " + e.getMessage());
    }
  }
}
