package io.r1cluster.core.recipe;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * A validated recipe: open-r1/TRL keys plus r1-cluster's own ({@code pipeline}, {@code cluster}, …).
 *
 * <p>{@link #load(Path)} reads and validates everything before any work starts: unknown keys (with a
 * "did you mean"), wrong types, bad enum values, out-of-range numbers and pipeline mistakes are all
 * reported together as a {@link RecipeException} ({@code file:line: key: message}, exit 2). Keys that
 * are recognised but not acted on are listed by {@link #ignoredKeys()}.
 */
public final class Recipe {
  /** Keys only GRPO recipes set; a flat recipe with any of them is a GRPO recipe. */
  private static final Set<String> GRPO_ONLY = Set.of("reward_funcs", "reward_weights", "num_generations", "beta",
      "max_prompt_length", "max_completion_length", "loss_type", "scale_rewards", "use_vllm", "epsilon",
      "num_iterations");

  /** Stage names: one plain folder name each inside the run folder. */
  private static final java.util.regex.Pattern STAGE_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  /** Names the run folder uses itself ({@code base} is the base model's eval in state.json). */
  private static final Set<String> RESERVED_STAGE_NAMES = Set.of("base", "base-eval", "report", "state", "state.json");

  private final Path file;
  private final List<RecipeOverride> overrides;
  private final RecipeSettings settings;
  private final List<Stage> stages;
  private final List<IgnoredKey> ignored;

  private Recipe(Path file, List<RecipeOverride> overrides, RecipeSettings settings, List<Stage> stages,
      List<IgnoredKey> ignored) {
    this.file = file;
    this.overrides = List.copyOf(overrides);
    this.settings = settings;
    this.stages = List.copyOf(stages);
    this.ignored = List.copyOf(ignored);
  }

  /**
   * Reads and validates a recipe.
   *
   * @throws RecipeException listing every problem found
   */
  public static Recipe load(Path file) {
    return load(file, List.of());
  }

  /**
   * Reads a recipe, applies command-line {@code --key value} overrides to it and validates the result.
   *
   * @throws RecipeException listing every problem found (an override's as {@code command line: --key value: …})
   */
  public static Recipe load(Path file, List<RecipeOverride> overrides) {
    RecipeParser p = new RecipeParser(file, overrides);
    RecipeParser.Parsed parsed = p.parse();
    if (parsed == null) {
      throw new RecipeException(p.errors());
    }
    StageType flatKind = parsed.top().keySet().stream().anyMatch(GRPO_ONLY::contains) ? StageType.GRPO : StageType.SFT;
    RecipeSettings top = RecipeSettings.of(flatKind, parsed.top(), p);
    List<Stage> stages = new ArrayList<>();
    Set<String> names = new HashSet<>();
    List<String> allNames = new ArrayList<>();
    for (Map<String, Value> s : parsed.stages()) {
      Value n = s.get("name");
      allNames.add(n == null || n.value() == null ? null : n.value().toString());
    }
    for (int i = 0; i < parsed.stages().size(); i++) {
      Map<String, Value> s = parsed.stages().get(i);
      int line = parsed.stageLines().get(i);
      String name = allNames.get(i);
      if (name == null) {
        p.error(line, "pipeline", "stage " + (i + 1) + " needs a 'name'");
        name = "stage" + (i + 1);
      } else if (RESERVED_STAGE_NAMES.contains(name.toLowerCase(Locale.ROOT))) {
        p.error(s.get("name").line(), "pipeline." + name, "'" + name + "' is reserved (the run folder uses it); pick another stage name");
      } else if (!STAGE_NAME.matcher(name).matches()) {
        p.error(s.get("name").line(), "pipeline." + name, "a stage name is a folder name in the run folder: letters, digits, '.', '_', '-',"
            + " starting with a letter or digit, at most 64 characters (no '/', no '..')");
      } else if (!names.add(name)) {
        p.error(s.get("name").line(), "pipeline." + name, "duplicate stage name");
      }
      Value t = s.get("type");
      if (t == null || t.value() == null) {
        p.error(line, "pipeline." + name, "needs a 'type' (generate, sft, grpo, combined, distill or eval)");
        continue;
      }
      StageType type = StageType.valueOf(t.value().toString().toUpperCase(Locale.ROOT));
      From from = from(s.get("from"), name, i, allNames, p);
      Map<String, Value> merged = new LinkedHashMap<>(parsed.top());
      merged.remove("pipeline");
      for (Map.Entry<String, Value> e : s.entrySet()) {
        if (!RecipeKeys.stageOnly().containsKey(e.getKey())) {
          merged.put(e.getKey(), e.getValue());
        }
      }
      Value fd = s.get("from_dataset");
      if (fd != null && fd.value() != null) {
        int at = allNames.indexOf(fd.value().toString());
        if (at < 0 || at >= i) {
          p.error(fd.line(), "pipeline." + name + ".from_dataset",
              "'" + fd.value() + "' is not an earlier stage; from_dataset names an earlier generate stage");
        } else if (!"generate".equals(String.valueOf(parsed.stages().get(at).get("type") == null ? null
            : parsed.stages().get(at).get("type").value()))) {
          p.error(fd.line(), "pipeline." + name + ".from_dataset",
              "stage '" + fd.value() + "' is not a generate stage, it writes no dataset");
        } else if (!type.trains()) {
          p.error(fd.line(), "pipeline." + name + ".from_dataset", "only a training stage reads a dataset from a generate stage");
        }
      }
      stages.add(new Stage(name, type, from, RecipeSettings.of(type, merged, p), line, s));
    }
    if (!p.errors().isEmpty()) {
      List<RecipeError> errs = new ArrayList<>(p.errors());
      // the command line's errors first, in the order the overrides were given; then the file's, by line
      List<String> args = overrides.stream().map(RecipeOverride::arg).toList();
      errs.sort(java.util.Comparator.comparingInt((RecipeError e) -> e.file() != null
              && e.file().toString().equals(RecipeOverride.ORIGIN) ? args.indexOf(e.key()) - args.size() : e.line()));
      throw new RecipeException(dedupe(errs));
    }
    List<IgnoredKey> ignored = new ArrayList<>();
    collectIgnored("", parsed.top(), ignored);
    for (int i = 0; i < parsed.stages().size(); i++) {
      collectIgnored("pipeline." + allNames.get(i) + ".", parsed.stages().get(i), ignored);
    }
    return new Recipe(file, overrides, top, stages, ignored);
  }

  private static List<RecipeError> dedupe(List<RecipeError> errs) {
    List<RecipeError> out = new ArrayList<>();
    for (RecipeError e : errs) {
      if (!out.contains(e)) {
        out.add(e);
      }
    }
    return out;
  }

  private static From from(Value v, String stage, int index, List<String> names, RecipeParser p) {
    if (v == null || v.value() == null || v.value().toString().equals("previous")) {
      return new From.Previous();
    }
    String s = v.value().toString();
    int at = names.indexOf(s);
    if (at >= 0 && at < index) {
      return new From.Stage(s);
    }
    if (at >= index) {
      p.error(v.line(), "pipeline." + stage + ".from",
          at == index ? "a stage cannot start from itself" : "stage '" + s + "' runs later; 'from' must name an earlier stage");
      return new From.Previous();
    }
    if (!s.contains("/") && !io.r1cluster.core.model.Models.isBuiltIn(s) && !Files.isDirectory(Path.of(s)) && !Files.isDirectory(p.file().toAbsolutePath().resolveSibling(s))) {
      p.error(v.line(), "pipeline." + stage + ".from", "'" + s + "' is neither a stage of this pipeline " + names
          + " nor a checkpoint folder (write a path, e.g. ./" + s + ", for a folder made later)");
      return new From.Previous();
    }
    return new From.Checkpoint(Path.of(s));
  }

  private static void collectIgnored(String prefix, Map<String, Value> values, List<IgnoredKey> out) {
    for (Map.Entry<String, Value> e : values.entrySet()) {
      KeySpec spec = e.getValue().spec();
      if (!spec.acted()) {
        String src = spec.sources().stream().map(Enum::name).sorted().collect(Collectors.joining("/"));
        out.add(new IgnoredKey(prefix + e.getKey(), e.getValue().line(), src));
      }
    }
  }

  /** The recipe file. */
  public Path file() {
    return file;
  }

  /**
   * The top-level settings; for a recipe without {@code pipeline:} these are the run's settings, typed as
   * a GRPO recipe when it sets a GRPO-only key ({@code reward_funcs}, {@code num_generations}, {@code beta}, …),
   * else as an SFT recipe.
   */
  public RecipeSettings settings() {
    return settings;
  }

  /** The top-level settings typed with the defaults of the given trainer (e.g. the {@code r1 sft} command). */
  public RecipeSettings settings(StageType kind) {
    RecipeParser p = new RecipeParser(file, overrides);
    RecipeSettings s = RecipeSettings.of(kind, settings.values(), p);
    if (!p.errors().isEmpty()) {
      throw new RecipeException(p.errors());
    }
    return s;
  }

  /** The pipeline stages in order (empty when the recipe has no {@code pipeline:}). */
  public List<Stage> stages() {
    return stages;
  }

  /** Keys set in the recipe that r1-cluster recognises but does not act on, each once, in file order. */
  public List<IgnoredKey> ignoredKeys() {
    return ignored;
  }

  /**
   * Every acted-on key with its effective value (given or default), sorted by key, for printing; values
   * the recipe sets are marked by {@link #givenKeys()}.
   */
  public Map<String, Object> resolved() {
    Map<String, Object> out = new TreeMap<>();
    for (KeySpec k : RecipeKeys.topLevel().values()) {
      if (!k.acted() || k.name().equals("pipeline")) {
        continue;
      }
      Value v = settings.values().get(k.name());
      if (v != null) {
        out.put(k.name(), v.value() instanceof Map<?, ?> m ? unwrap(m) : v.value());
      }
    }
    out.putAll(typedDefaults());
    for (Map.Entry<String, Value> e : settings.values().entrySet()) {
      if (e.getValue().spec().acted() && !e.getKey().equals("pipeline")) {
        Object v = e.getValue().value();
        out.put(e.getKey(), v instanceof Map<?, ?> m ? unwrap(m) : v);
      }
    }
    return out;
  }

  /** Keys given in the recipe's top level. */
  public Set<String> givenKeys() {
    return settings.values().keySet();
  }

  /** The command-line overrides applied to the file (empty when none). */
  public List<RecipeOverride> overrides() {
    return overrides;
  }

  /**
   * Where a top-level key's value came from: {@code file:line}, {@code command line (--key value)}, or
   * {@code default} when neither sets it. A dotted {@code cluster.KEY} names a key of the cluster section.
   */
  public String origin(String key) {
    Value v;
    if (key.startsWith("cluster.")) {
      Value c = settings.values().get("cluster");
      v = c != null && c.value() instanceof Map<?, ?> m && m.get(key.substring(8)) instanceof Value inner ? inner : null;
    } else {
      v = settings.values().get(key);
    }
    return origin(v);
  }

  /** Where a value came from (see {@link #origin(String)}); {@code null} is a default. */
  public String origin(Value v) {
    if (v == null) {
      return "default";
    }
    if (v.line() < 0 && -v.line() <= overrides.size()) {
      return RecipeOverride.ORIGIN + " (" + overrides.get(-v.line() - 1).arg() + ")";
    }
    return v.line() > 0 ? file + ":" + v.line() : file.toString();
  }

  private Map<String, Object> typedDefaults() {
    Map<String, Object> d = new TreeMap<>();
    TrainingSettings t = settings.training();
    d.put("output_dir", t.outputDir());
    d.put("learning_rate", t.learningRate());
    d.put("lr_scheduler_type", t.lrSchedulerType().hfName());
    d.put("warmup_ratio", t.warmupRatio());
    d.put("num_train_epochs", t.numTrainEpochs());
    d.put("max_steps", t.maxSteps());
    d.put("per_device_train_batch_size", t.perDeviceTrainBatchSize());
    d.put("gradient_accumulation_steps", t.gradientAccumulationSteps());
    d.put("max_grad_norm", t.maxGradNorm());
    d.put("seed", t.seed());
    d.put("logging_steps", t.loggingSteps());
    d.put("save_strategy", t.saveStrategy().name().toLowerCase(Locale.ROOT));
    d.put("save_steps", t.saveSteps());
    d.put("eval_strategy", t.evalStrategy().name().toLowerCase(Locale.ROOT));
    d.put("dataset_train_split", settings.data().trainSplit());
    d.put("dataset_test_split", settings.data().testSplit());
    d.put("dataset_prompt_column", settings.data().promptColumn());
    d.put("skip_bad_rows", settings.data().skipBadRows());
    if (settings.kind() == StageType.SFT) {
      d.put("max_length", settings.sft().maxLength());
      d.put("packing", settings.sft().packing());
    } else {
      GrpoSettings g = settings.grpo();
      d.put("num_generations", g.numGenerations());
      d.put("max_prompt_length", g.maxPromptLength());
      d.put("max_completion_length", g.maxCompletionLength());
      d.put("temperature", g.temperature());
      d.put("beta", g.beta());
      d.put("epsilon", g.epsilon());
      d.put("epsilon_high", g.epsilonHigh());
      d.put("loss_type", g.lossType().name().toLowerCase(Locale.ROOT));
      d.put("scale_rewards", g.scaleRewards().name().toLowerCase(Locale.ROOT));
      d.put("importance_sampling_level", g.importanceSamplingLevel().name().toLowerCase(Locale.ROOT));
      d.put("reward_funcs", g.rewardFuncs());
    }
    return d;
  }

  private static Object unwrap(Map<?, ?> m) {
    Map<String, Object> out = new LinkedHashMap<>();
    for (Map.Entry<?, ?> e : m.entrySet()) {
      Object v = e.getValue();
      if (v instanceof Value val) {
        v = val.value();
      }
      if (v instanceof Map<?, ?> inner) {
        v = unwrap(inner);
      } else if (v instanceof List<?> l) {
        List<Object> lo = new ArrayList<>();
        for (Object o : l) {
          lo.add(o instanceof Map<?, ?> mm ? unwrap(mm) : o);
        }
        v = lo;
      }
      out.put(String.valueOf(e.getKey()), v);
    }
    return out;
  }
}
