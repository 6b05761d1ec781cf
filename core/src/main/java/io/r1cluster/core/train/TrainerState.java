package io.r1cluster.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.recipe.TrainingSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code trainer_state.json} as transformers' {@code TrainerState.save_to_json} writes it: the
 * dataclass fields (keys sorted, two-space indent), with {@code log_history} = one dict per logged
 * record ({@code loss}, {@code grad_norm}, {@code learning_rate}, …, then {@code epoch} and
 * {@code step}; evaluation records carry {@code eval_*}), and at the end of a completed run the
 * {@code train_runtime} summary record. Our own resume fields ({@code skipped_nonfinite},
 * {@code policy_version}, the prompt ledger) sit beside them at the top level: {@code json.load}
 * readers (plots, notebooks) see the transformers layout, but transformers' own
 * {@code TrainerState.load_from_json} would refuse the extra keys, so our checkpoints do not resume
 * under transformers.
 *
 * <p>{@code log_history} is rebuilt from {@code metrics.jsonl}, which holds the same records (a
 * resumed run has already cut it back to its checkpoint), so a checkpoint's history is exactly the
 * records logged up to its step.
 */
public final class TrainerState {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

  private TrainerState() {}

  /** The {@code log_history} list from a {@code metrics.jsonl} file (empty when it does not exist). */
  public static ArrayNode logHistory(Path metricsFile) {
    ArrayNode out = JSON.createArrayNode();
    if (!Files.exists(metricsFile)) {
      return out;
    }
    try {
      for (String line : Files.readAllLines(metricsFile, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          out.add(entry(JSON.readTree(line)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + metricsFile, e);
    }
    return out;
  }

  /** One metrics.jsonl record as a log_history entry: its values, then {@code epoch}, then {@code step}. */
  static ObjectNode entry(JsonNode rec) {
    ObjectNode e = JSON.createObjectNode();
    for (Iterator<Map.Entry<String, JsonNode>> it = rec.fields(); it.hasNext(); ) {
      var f = it.next();
      if (!f.getKey().equals("step") && !f.getKey().equals("epoch")) {
        e.set(f.getKey(), f.getValue());
      }
    }
    if (rec.has("epoch")) {
      e.set("epoch", rec.get("epoch"));
    }
    e.set("step", rec.get("step"));
    return e;
  }

  /**
   * The transformers fields of a state at {@code globalStep} of {@code maxSteps} with the history of
   * {@code metricsFile}; {@code own} (resume fields of this project) is merged in.
   */
  public static ObjectNode of(Path metricsFile, long globalStep, long maxSteps, double epoch, TrainingSettings t,
      int trainBatchSize, ObjectNode own) {
    ObjectNode s = JSON.createObjectNode();
    s.put("best_global_step", (String) null);
    s.put("best_metric", (String) null);
    s.put("best_model_checkpoint", (String) null);
    s.put("epoch", epoch);
    s.set("eval_steps", JSON.valueToTree(number(t.evalSteps() != null ? t.evalSteps() : t.loggingSteps())));
    s.put("global_step", globalStep);
    s.put("is_hyper_param_search", false);
    s.put("is_local_process_zero", true);
    s.put("is_world_process_zero", true);
    s.set("log_history", logHistory(metricsFile));
    s.set("logging_steps", JSON.valueToTree(number(t.loggingSteps())));
    s.put("max_steps", maxSteps);
    s.put("num_input_tokens_seen", 0);
    s.put("num_train_epochs", (long) Math.ceil(t.numTrainEpochs()));
    s.set("save_steps", JSON.valueToTree(number(t.saveSteps())));
    s.set("stateful_callbacks", JSON.createObjectNode());
    s.put("total_flos", 0.0);
    s.put("train_batch_size", trainBatchSize);
    s.put("trial_name", (String) null);
    s.set("trial_params", null);
    if (own != null) {
      own.fields().forEachRemaining(e -> s.set(e.getKey(), e.getValue()));
    }
    return sorted(s);
  }

  /**
   * transformers' end-of-training record ({@code speed_metrics("train", …)} plus {@code total_flos}
   * and {@code train_loss}); rounded as transformers rounds them. FLOPs are not counted here: 0.
   */
  public static Map<String, Object> summary(double runtimeSeconds, long samples, long steps, double trainLoss) {
    Map<String, Object> m = new LinkedHashMap<>();
    double rt = Math.max(runtimeSeconds, 1e-9);
    m.put("train_runtime", round(rt, 4));
    m.put("train_samples_per_second", round(samples / rt, 3));
    m.put("train_steps_per_second", round(steps / rt, 3));
    m.put("total_flos", 0.0);
    m.put("train_loss", trainLoss);
    return m;
  }

  /** Mean of the {@code loss} values of a history (NaN when there are none): {@code train_loss}. */
  public static double meanLoss(ArrayNode history) {
    double sum = 0;
    int n = 0;
    for (JsonNode e : history) {
      JsonNode l = e.get("loss");
      if (l != null && l.isNumber() && Double.isFinite(l.asDouble())) {
        sum += l.asDouble();
        n++;
      }
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /** Appends the summary record (with {@code epoch}, {@code step}) to the state's log_history. */
  public static void appendSummary(ObjectNode state, Map<String, Object> summary) {
    ObjectNode e = JSON.createObjectNode();
    summary.forEach((k, v) -> e.set(k, JSON.valueToTree(v)));
    e.set("epoch", state.get("epoch"));
    e.set("step", state.get("global_step"));
    ((ArrayNode) state.get("log_history")).add(e);
  }

  /** Writes {@code state} as transformers does (sorted keys, indent 2, trailing newline). */
  public static void write(Path file, ObjectNode state) {
    try {
      Files.writeString(file, toJson(state));
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  /** The file text of a state. */
  public static String toJson(ObjectNode state) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(state) + "\n";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode sorted(ObjectNode s) {
    ObjectNode out = JSON.createObjectNode();
    new TreeMap<String, JsonNode>(toMap(s)).forEach(out::set);
    return out;
  }

  private static Map<String, JsonNode> toMap(ObjectNode s) {
    Map<String, JsonNode> m = new LinkedHashMap<>();
    s.fields().forEachRemaining(e -> m.put(e.getKey(), e.getValue()));
    return m;
  }

  private static double round(double v, int digits) {
    double p = Math.pow(10, digits);
    return Math.round(v * p) / p;
  }

  /** transformers stores logging/save/eval steps as int when whole, else the fraction. */
  private static Number number(double v) {
    return v == Math.rint(v) ? (Number) (long) v : (Number) v;
  }
}
