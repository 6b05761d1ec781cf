package io.r1cluster.core.train;

import io.r1cluster.core.recipe.RecipeKeys;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.Value;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The recipe's {@code report_to} and {@code logging_dir}: where metrics go besides
 * {@code metrics.jsonl}, which is always written.
 *
 * <ul>
 *   <li>{@code tensorboard} or {@code all}: TensorBoard event files in {@code logging_dir}
 *       (default, as transformers: {@code OUTPUT_DIR/runs/MONDD_HH-MM-SS_HOST}, one folder per launch);
 *   <li>{@code wandb}: there is no W&amp;B client here; the same TensorBoard files are written and a
 *       note says to upload them with {@code wandb sync --sync-tensorboard LOGGING_DIR};
 *   <li>{@code none}, {@code null} or the key absent: nothing else;
 *   <li>another transformers integration ({@code mlflow}, {@code comet_ml}, …) is a validation error.
 * </ul>
 *
 * @param tensorboard whether TensorBoard event files are written
 * @param loggingDir {@code logging_dir} as given, or null for the per-launch default
 * @param notes lines to print once at the start of training
 */
public record ReportTo(boolean tensorboard, String loggingDir, List<String> notes) {
  /** transformers' integration names (4.5x), besides {@code all} and {@code none}. */
  static final List<String> INTEGRATIONS = List.of("azure_ml", "clearml", "codecarbon", "comet_ml", "dagshub",
      "dvclive", "flyte", "mlflow", "neptune", "swanlab", "tensorboard", "trackio", "wandb");
  static final List<String> SUPPORTED = List.of("tensorboard", "wandb", "all", "none");

  public ReportTo {
    notes = List.copyOf(notes);
  }

  /** The settings' reporting targets (assumes {@link #problems} found nothing: unknown names are skipped). */
  public static ReportTo of(RecipeSettings settings) {
    Value logging = settings.values().get("logging_dir");
    String dir = logging == null || logging.value() == null ? null : logging.value().toString();
    boolean tb = false;
    List<String> notes = new ArrayList<>();
    for (String name : names(settings.values().get("report_to"))) {
      switch (name) {
        case "tensorboard", "all" -> tb = true;
        case "wandb" -> {
          tb = true;
          notes.add("report_to wandb: no W&B client in r1-cluster; TensorBoard event files are written instead; "
              + "upload them with: wandb sync --sync-tensorboard " + (dir != null ? dir : "OUTPUT_DIR/runs/RUN"));
        }
        default -> { }
      }
    }
    return new ReportTo(tb, dir, notes);
  }

  /** Validation messages for a {@code report_to} value (empty when it is fine). */
  public static List<String> problems(Value reportTo) {
    List<String> out = new ArrayList<>();
    List<String> names = names(reportTo);
    for (String name : names) {
      if (SUPPORTED.contains(name)) {
        if (name.equals("none") && names.size() > 1) {
          out.add("'none' cannot be combined with other integrations: " + names);
        }
      } else if (INTEGRATIONS.contains(name)) {
        out.add("'" + name + "' is not supported by r1-cluster (supported: tensorboard, all = tensorboard, wandb = "
            + "TensorBoard files for wandb sync --sync-tensorboard, none); metrics.jsonl is always written");
      } else {
        List<String> all = new ArrayList<>(INTEGRATIONS);
        all.addAll(List.of("all", "none"));
        String sug = RecipeKeys.suggest(name, all);
        out.add("unknown integration '" + name + "' (expected one of " + String.join(", ", SUPPORTED) + ")"
            + (sug == null ? "" : " (did you mean '" + sug + "'?)"));
      }
    }
    return out;
  }

  /**
   * The sinks to open for a run writing into {@code outputDir}; {@code resumedAt} is the step a
   * resumed run continues from (0 for a fresh run).
   */
  public List<MetricsSink> sinks(Path outputDir, long resumedAt) {
    List<MetricsSink> sinks = new ArrayList<>();
    if (tensorboard) {
      sinks.add(new TensorBoardEvents(logDir(outputDir), resumedAt > 0 ? resumedAt + 1 : 0));
    }
    return sinks;
  }

  /** {@code logging_dir}, or transformers' default {@code OUTPUT_DIR/runs/MONDD_HH-MM-SS_HOST}. */
  public Path logDir(Path outputDir) {
    if (loggingDir != null) {
      return Path.of(loggingDir);
    }
    String time = LocalDateTime.now().format(DateTimeFormatter.ofPattern("MMMdd_HH-mm-ss", Locale.ROOT));
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      host = "localhost";
    }
    return outputDir.resolve("runs").resolve(time + "_" + host.replaceAll("[^A-Za-z0-9._-]", "_"));
  }

  private static List<String> names(Value v) {
    if (v == null || v.value() == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    if (v.value() instanceof List<?> l) {
      for (Object o : l) {
        out.add(String.valueOf(o).trim().toLowerCase(Locale.ROOT));
      }
    } else {
      for (String s : v.value().toString().split(",")) {
        if (!s.isBlank()) {
          out.add(s.trim().toLowerCase(Locale.ROOT));
        }
      }
    }
    return out;
  }
}
