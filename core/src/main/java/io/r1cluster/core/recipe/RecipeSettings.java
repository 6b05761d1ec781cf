package io.r1cluster.core.recipe;

import io.r1cluster.core.grpo.GrpoConfig;
import io.r1cluster.core.grpo.LossType;
import io.r1cluster.core.grpo.ScaleRewards;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The typed, immutable settings of one recipe (or one pipeline stage, with the stage's overrides
 * merged over the top level), grouped per concern. Defaults are those of the upstream trainer for
 * {@link #kind()}.
 */
public final class RecipeSettings {
  /** Keys passed through to the reward functions ({@code RewardRegistry.create(names, kwargs)}). */
  static final List<String> REWARD_KWARGS = List.of("cosine_min_value_wrong", "cosine_max_value_wrong",
      "cosine_min_value_correct", "cosine_max_value_correct", "cosine_max_len", "repetition_n_grams",
      "repetition_max_penalty", "code_language", "max_completion_len", "soft_punish_cache", "code_timeout_s", "code_memory_mb",
      "code_sandbox", "language");

  private final StageType kind;
  private final Map<String, Value> values;
  private final ModelSettings model;
  private final DataSettings data;
  private final TrainingSettings training;
  private final SftSettings sft;
  private final GrpoSettings grpo;
  private final ClusterSettings cluster;
  private final DistillSettings distill;
  private final EvalSettings eval;

  private RecipeSettings(StageType kind, Map<String, Value> values, RecipeParser errors) {
    this.kind = kind;
    this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    Reader r = new Reader(values, errors);
    model = new ModelSettings(r.str("model_name_or_path", null), r.str("model_revision", "main"),
        r.str("torch_dtype", null), r.str("attn_implementation", null), r.str("chat_template", null),
        r.str("eos_token", null), r.bool("use_cpu", false), r.bool("bf16", false), r.dict("chat_template_kwargs"));
    data = new DataSettings(r.str("dataset_name", null), r.str("dataset_config", null),
        r.str("dataset_train_split", "train"), r.str("dataset_test_split", "test"),
        r.str("dataset_prompt_column", "prompt"), r.str("system_prompt", null), mixture(r, errors),
        r.bool("skip_bad_rows", false));
    double lrDefault = switch (kind) {
      case SFT, DISTILL -> 2e-5;
      case GRPO, COMBINED -> 1e-6;
      default -> 5e-5;
    };
    training = new TrainingSettings(r.str("output_dir", "trainer_output"), r.bool("overwrite_output_dir", false),
        r.positive("learning_rate", lrDefault),
        LrSchedulerType.valueOf(r.str("lr_scheduler_type", "linear").toUpperCase(Locale.ROOT)),
        r.dict("lr_scheduler_kwargs"), r.fraction("warmup_ratio", 0.0), r.nonNegativeInt("warmup_steps", 0),
        r.dbl("num_train_epochs", 3.0), (int) r.integer("max_steps", -1), r.positiveInt("per_device_train_batch_size", 8),
        r.positiveInt("gradient_accumulation_steps", 1), r.dbl("max_grad_norm", 1.0), r.dbl("weight_decay", 0.0),
        r.dbl("adam_beta1", 0.9), r.dbl("adam_beta2", 0.999), r.dbl("adam_epsilon", 1e-8), r.integer("seed", 42),
        strategy(r.str("logging_strategy", "steps")), r.positive("logging_steps", 500),
        r.bool("logging_first_step", false), strategy(r.str("save_strategy", "steps")), r.positive("save_steps", 500),
        r.nonNegativeInt("save_total_limit", 0),
        strategy(r.str("eval_strategy", r.str("evaluation_strategy", "no"))), r.dblOrNull("eval_steps"),
        r.str("resume_from_checkpoint", null));
    Integer maxSeq = r.intOrNull("max_seq_length");
    sft = new SftSettings(r.positiveInt("max_length", maxSeq == null ? 1024 : maxSeq), r.bool("packing", false),
        r.boolOrNull("completion_only_loss"), r.str("dataset_text_field", "text"),
        r.nonNegative("sft_loss_weight", 0.1));
    Map<String, Value> clusterValues = r.section("cluster");
    Reader c = new Reader(clusterValues, errors);
    boolean dyn = r.agree("dynamic_sampling", clusterValues, Boolean.FALSE);
    int maxGen = r.agree("max_num_gen_batches", clusterValues, 10);
    double isCap = r.agree("off_policy_is_cap", clusterValues, 2.0);
    cluster = new ClusterSettings(c.nonNegativeInt("max_staleness", 1), c.intOrNull("prompts_per_step"),
        c.positiveInt("rollout_slots", 1), c.positiveInt("weight_sync_steps", 1), dyn, maxGen, isCap,
        Transport.valueOf(c.str("transport", "ipc").toUpperCase(Locale.ROOT)), c.bool("inflight_weight_update", false));
    double eps = r.nonNegative("epsilon", 0.2);
    List<String> funcs = r.list("reward_funcs", kind == StageType.GENERATE ? List.of("accuracy", "format")
        : List.of("accuracy", "format", "tag_count"));
    for (String f : funcs) {
      String problem = io.r1cluster.core.reward.RewardRegistry.problem(f);
      if (problem != null) {
        r.error("reward_funcs", problem);
      }
    }
    if (values.containsKey("language")) {
      try {
        io.r1cluster.core.reward.LanguageConsistency.create(r.str("language", "en"));
      } catch (IllegalArgumentException e) {
        r.error("language", e.getMessage());
      }
    }
    List<Double> weights = r.doubles("reward_weights");
    if (weights != null && weights.size() != funcs.size()) {
      r.error("reward_weights", "has " + weights.size() + " weights for " + funcs.size() + " reward_funcs");
    }
    Map<String, Object> kw = new LinkedHashMap<>();
    for (String k : REWARD_KWARGS) {
      Value v = values.get(k);
      if (v != null && v.value() != null) {
        kw.put(k, v.value());
      }
    }
    if (values.containsKey("code_timeout_s")) {
      r.positive("code_timeout_s", 10.0);
    }
    if (values.containsKey("code_memory_mb") && r.integer("code_memory_mb", 1024) < 16) {
      r.error("code_memory_mb", "must be at least 16 (MiB), got " + r.integer("code_memory_mb", 1024));
    }
    int numGen = r.positiveInt("num_generations", 8);
    if ((kind == StageType.GRPO || kind == StageType.COMBINED) && numGen < 2) {
      r.error("num_generations", "GRPO needs at least 2 generations per prompt, got " + numGen);
    }
    grpo = new GrpoSettings(numGen, r.positiveInt("max_prompt_length", 512),
        r.positiveInt("max_completion_length", 256), r.nonNegative("temperature", 1.0), r.fraction("top_p", 1.0),
        r.intOrNull("top_k"), r.dblOrNull("min_p"), r.nonNegative("beta", 0.04), r.positiveInt("num_iterations", 1),
        eps, r.dbl("epsilon_high", eps), r.dblOrNull("delta"),
        ScaleRewards.valueOf(r.str("scale_rewards", "group").toUpperCase(Locale.ROOT)),
        LossType.valueOf(r.str("loss_type", "bnpo").toUpperCase(Locale.ROOT)),
        GrpoConfig.IsLevel.valueOf(r.str("importance_sampling_level", "token").toUpperCase(Locale.ROOT)),
        r.bool("mask_truncated_completions", false), r.bool("sync_ref_model", false),
        r.fraction("ref_model_mixup_alpha", 0.6), r.positiveInt("ref_model_sync_steps", 512), funcs, weights, kw,
        r.intOrNull("generation_batch_size"), r.bool("shuffle_dataset", true), r.bool("log_completions", false), dyn,
        maxGen, isCap, topEntropyQuantile(r), r.intOrNull("steps_per_generation"));
    checkGenerationBatch(r, training, grpo, cluster);
    distill = new DistillSettings(r.fraction("alpha", 0.5), r.positive("temperature", kind == StageType.DISTILL ? 2.0 : 1.0),
        r.str("teacher_model", null), r.str("teacher_url", null), r.intOrNull("max_prompts"),
        r.str("teacher_api_key_env", "OPENAI_API_KEY"), r.bool("teacher_allow_insecure_http", false));
    if (distill.maxPrompts() != null && distill.maxPrompts() < 1) {
      r.error("max_prompts", "must be at least 1, got " + distill.maxPrompts());
    }
    if (distill.teacherUrl() != null && !distill.teacherUrl().matches("https?://.+")) {
      r.error("teacher_url", "expected an http:// or https:// URL, got '" + distill.teacherUrl() + "'");
    } else if (distill.teacherUrl() != null && !distill.teacherAllowInsecureHttp()
        && !io.r1cluster.core.generate.ChatCompletionsTeacher.keyTravelsSafely(distill.teacherUrl())
        && distill.teacherApiKeyEnv() != null && System.getenv(distill.teacherApiKeyEnv()) != null
        && !System.getenv(distill.teacherApiKeyEnv()).isBlank()) {
      r.error("teacher_url", "the API key in $" + distill.teacherApiKeyEnv() + " would be sent over plain http to a"
          + " non-loopback host (" + distill.teacherUrl() + "); use https, a loopback host, or set"
          + " teacher_allow_insecure_http: true");
    }
    eval = new EvalSettings(r.bool("do_eval", false), r.bool("eval_after_stage", false),
        r.positiveInt("eval_num_samples", 1), r.positiveInt("per_device_eval_batch_size", 8),
        r.dbl("eval_temperature", 0.6), r.dbl("eval_top_p", 0.95), r.intOrNull("eval_max_new_tokens"));
    if (eval.maxNewTokens() != null && eval.maxNewTokens() < 1) {
      r.error("eval_max_new_tokens", "must be at least 1, got " + eval.maxNewTokens());
    }
    if (!(eval.temperature() > 0)) {
      r.error("eval_temperature", "must be > 0 (eval_num_samples: 1 means greedy decoding)");
    }
    if (!(eval.topP() > 0 && eval.topP() <= 1)) {
      r.error("eval_top_p", "must be in (0, 1]");
    }
    for (String problem : io.r1cluster.core.train.ReportTo.problems(values.get("report_to"))) {
      r.error("report_to", problem);
    }
  }

  static RecipeSettings of(StageType kind, Map<String, Value> values, RecipeParser errors) {
    return new RecipeSettings(kind, values, errors);
  }

  /**
   * These settings with some top-level keys replaced (e.g. the pipeline runner's per-stage
   * {@code output_dir} and {@code model_name_or_path}). Values are plain Java values of the key's
   * type; an unknown key or a bad value is an {@link IllegalArgumentException}.
   */
  public RecipeSettings with(Map<String, Object> overrides) {
    Map<String, Value> v = new LinkedHashMap<>(values);
    for (var e : overrides.entrySet()) {
      KeySpec spec = RecipeKeys.topLevel().get(e.getKey());
      if (spec == null) {
        throw new IllegalArgumentException("unknown recipe key " + e.getKey());
      }
      v.put(e.getKey(), new Value(spec, e.getValue(), 0));
    }
    RecipeParser p = new RecipeParser(java.nio.file.Path.of("<overrides>"));
    RecipeSettings s = new RecipeSettings(kind, v, p);
    if (!p.errors().isEmpty()) {
      throw new IllegalArgumentException(p.errors().toString());
    }
    return s;
  }

  private static IntervalStrategy strategy(String s) {
    return IntervalStrategy.valueOf(s.toUpperCase(Locale.ROOT));
  }

  private static DatasetMixture mixture(Reader r, RecipeParser errors) {
    Map<String, Value> mix = r.section("dataset_mixture");
    if (mix.isEmpty()) {
      return null;
    }
    Reader m = new Reader(mix, errors);
    List<DatasetMixture.Entry> entries = new ArrayList<>();
    Value ds = mix.get("datasets");
    if (ds != null && ds.value() instanceof List<?> list) {
      for (Object o : list) {
        @SuppressWarnings("unchecked")
        Map<String, Value> e = (Map<String, Value>) o;
        Reader d = new Reader(e, errors);
        Double w = d.dblOrNull("weight");
        if (w != null && (w <= 0 || w > 1)) {
          d.error("weight", "a mixture weight is the fraction of rows kept, in (0, 1]; got " + w);
        }
        entries.add(new DatasetMixture.Entry(d.str("id", "?"), d.str("config", null), d.str("split", "train"),
            d.list("columns", null), w));
      }
    }
    Double test = m.dblOrNull("test_split_size");
    if (test != null && (test <= 0 || test >= 1)) {
      m.error("test_split_size", "must be in (0, 1), got " + test);
    }
    return new DatasetMixture(entries, m.integer("seed", 0), test);
  }

  /** The stage type whose defaults apply. */
  public StageType kind() {
    return kind;
  }

  /** The validated values given in the recipe (top level merged with stage overrides), by key. */
  public Map<String, Value> values() {
    return values;
  }

  public ModelSettings model() {
    return model;
  }

  public DataSettings data() {
    return data;
  }

  public TrainingSettings training() {
    return training;
  }

  public SftSettings sft() {
    return sft;
  }

  public GrpoSettings grpo() {
    return grpo;
  }

  public ClusterSettings cluster() {
    return cluster;
  }

  public DistillSettings distill() {
    return distill;
  }

  public EvalSettings eval() {
    return eval;
  }

  /** Reads typed values with defaults, recording range errors with the value's line. */
  /** {@code top_entropy_quantile} (TRL): a fraction in (0, 1], 1 = every completion token trains. */
  private static double topEntropyQuantile(Reader r) {
    double q = r.dbl("top_entropy_quantile", 1.0);
    if (!(q > 0 && q <= 1)) {
      r.error("top_entropy_quantile", "must be in (0, 1] (the fraction of highest-entropy completion tokens that"
          + " train; 1 = all), got " + q);
    }
    return q;
  }

  /**
   * TRL's {@code generation_batch_size} / {@code steps_per_generation} split one generation into several
   * optimizer steps. Here every optimizer step generates its own batch (per_device_train_batch_size ×
   * gradient_accumulation_steps completions, or cluster.prompts_per_step × num_generations), so the only
   * values acted on are the ones that describe exactly that; anything else fails with what to use instead.
   */
  private static void checkGenerationBatch(Reader r, TrainingSettings t, GrpoSettings g, ClusterSettings c) {
    int perStep = c.promptsPerStep() != null ? c.promptsPerStep() * g.numGenerations()
        : t.perDeviceTrainBatchSize() * t.gradientAccumulationSteps();
    if (g.generationBatchSize() != null && g.stepsPerGeneration() != null) {
      r.error("generation_batch_size", "set either generation_batch_size or steps_per_generation, not both (as TRL)");
    }
    if (g.generationBatchSize() != null && g.generationBatchSize() != perStep) {
      r.error("generation_batch_size", "is " + g.generationBatchSize() + ", but this project generates one batch per"
          + " optimizer step: " + perStep + " completions (" + (c.promptsPerStep() != null
              ? "cluster.prompts_per_step x num_generations" : "per_device_train_batch_size x gradient_accumulation_steps")
          + "); remove the key or set it to " + perStep + " (to reuse rollouts across steps use cluster.max_staleness,"
          + " to train several passes on one batch use num_iterations)");
    }
    if (g.stepsPerGeneration() != null && g.stepsPerGeneration() != t.gradientAccumulationSteps()) {
      r.error("steps_per_generation", "is " + g.stepsPerGeneration() + ", but this project takes one optimizer step per"
          + " generation (steps_per_generation = gradient_accumulation_steps = " + t.gradientAccumulationSteps()
          + "); remove the key (to reuse rollouts across steps use cluster.max_staleness, to train several passes on"
          + " one batch use num_iterations)");
    }
  }

  private static final class Reader {
    private final Map<String, Value> values;
    private final RecipeParser errors;

    Reader(Map<String, Value> values, RecipeParser errors) {
      this.values = values;
      this.errors = errors;
    }

    private Object raw(String key) {
      Value v = values.get(key);
      return v == null ? null : v.value();
    }

    void error(String key, String message) {
      Value v = values.get(key);
      errors.error(v == null ? 0 : v.line(), key, message);
    }

    String str(String key, String def) {
      Object o = raw(key);
      return o == null ? def : o.toString();
    }

    boolean bool(String key, boolean def) {
      Object o = raw(key);
      return o instanceof Boolean b ? b : def;
    }

    Boolean boolOrNull(String key) {
      return raw(key) instanceof Boolean b ? b : null;
    }

    long integer(String key, long def) {
      return raw(key) instanceof Number n ? n.longValue() : def;
    }

    Integer intOrNull(String key) {
      return raw(key) instanceof Number n ? n.intValue() : null;
    }

    int positiveInt(String key, int def) {
      int v = raw(key) instanceof Number n ? n.intValue() : def;
      if (v < 1) {
        error(key, "must be at least 1, got " + v);
      }
      return v;
    }

    int nonNegativeInt(String key, int def) {
      int v = raw(key) instanceof Number n ? n.intValue() : def;
      if (v < 0) {
        error(key, "must not be negative, got " + v);
      }
      return v;
    }

    double dbl(String key, double def) {
      return raw(key) instanceof Number n ? n.doubleValue() : def;
    }

    Double dblOrNull(String key) {
      return raw(key) instanceof Number n ? n.doubleValue() : null;
    }

    double positive(String key, double def) {
      double v = dbl(key, def);
      if (!(v > 0)) {
        error(key, "must be positive, got " + v);
      }
      return v;
    }

    double nonNegative(String key, double def) {
      double v = dbl(key, def);
      if (!(v >= 0)) {
        error(key, "must not be negative, got " + v);
      }
      return v;
    }

    double fraction(String key, double def) {
      double v = dbl(key, def);
      if (!(v >= 0 && v <= 1)) {
        error(key, "must be in [0, 1], got " + v);
      }
      return v;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> dict(String key) {
      Object o = raw(key);
      if (o instanceof String s && !s.isBlank()) {
        // transformers also takes these mappings as JSON text
        try {
          return new com.fasterxml.jackson.databind.ObjectMapper().readValue(s, Map.class);
        } catch (java.io.IOException e) {
          error(key, "expected a mapping or JSON object text: " + e.getMessage());
          return Map.of();
        }
      }
      return o instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    Map<String, Value> section(String key) {
      return raw(key) instanceof Map<?, ?> m ? (Map<String, Value>) m : Map.of();
    }

    @SuppressWarnings("unchecked")
    List<String> list(String key, List<String> def) {
      return raw(key) instanceof List<?> l ? (List<String>) l : def;
    }

    @SuppressWarnings("unchecked")
    List<Double> doubles(String key) {
      return raw(key) instanceof List<?> l ? (List<Double>) l : null;
    }

    /** A key allowed both at the top level and in {@code cluster:}; both given with different values is an error. */
    @SuppressWarnings("unchecked")
    <T> T agree(String key, Map<String, Value> cluster, T def) {
      Value top = values.get(key);
      Value sec = cluster.get(key);
      if (top != null && sec != null && top.value() != null && !top.value().equals(sec.value())) {
        errors.error(sec.line(), "cluster." + key,
            "differs from the top-level " + key + " (line " + top.line() + "): give it once");
      }
      Value v = sec != null && sec.value() != null ? sec : top;
      if (v == null || v.value() == null) {
        return def;
      }
      Object o = v.value();
      if (def instanceof Double && o instanceof Number n) {
        return (T) Double.valueOf(n.doubleValue());
      }
      return (T) o;
    }
  }
}
