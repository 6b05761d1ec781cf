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
    Reader r = new Reader(values, errors, key -> RecipeKeys.defaultFor(key, kind));
    model = new ModelSettings(r.str("model_name_or_path"), r.str("model_revision"),
        r.str("torch_dtype"), r.str("attn_implementation"), r.str("chat_template"),
        r.str("eos_token"), r.bool("use_cpu"), r.bool("bf16"), r.dict("chat_template_kwargs"));
    data = new DataSettings(r.str("dataset_name"), r.str("dataset_config"),
        r.str("dataset_train_split"), r.str("dataset_test_split"),
        r.str("dataset_prompt_column"), r.str("system_prompt"), mixture(r, errors),
        r.bool("skip_bad_rows"));
    training = new TrainingSettings(r.str("output_dir"), r.bool("overwrite_output_dir"),
        r.positive("learning_rate"),
        LrSchedulerType.valueOf(r.str("lr_scheduler_type").toUpperCase(Locale.ROOT)),
        r.dict("lr_scheduler_kwargs"), r.fraction("warmup_ratio"), r.nonNegativeInt("warmup_steps"),
        r.dbl("num_train_epochs"), (int) r.integer("max_steps"), r.positiveInt("per_device_train_batch_size"),
        r.positiveInt("gradient_accumulation_steps"), r.dbl("max_grad_norm"), r.dbl("weight_decay"),
        r.dbl("adam_beta1"), r.dbl("adam_beta2"), r.dbl("adam_epsilon"), r.integer("seed"),
        strategy(r.str("logging_strategy")), r.positive("logging_steps"),
        r.bool("logging_first_step"), strategy(r.str("save_strategy")), r.positive("save_steps"),
        r.nonNegativeInt("save_total_limit"),
        strategy(r.str("eval_strategy", r.str("evaluation_strategy"))), r.dblOrNull("eval_steps"),
        r.str("resume_from_checkpoint"));
    Integer maxSeq = r.intOrNull("max_seq_length");
    int maxLength = maxSeq == null ? ((Number) r.def("max_length")).intValue() : maxSeq; // max_seq_length: TRL's old name
    sft = new SftSettings(r.positiveInt("max_length", maxLength), r.bool("packing"),
        r.boolOrNull("completion_only_loss"), r.str("dataset_text_field"),
        r.nonNegative("sft_loss_weight"));
    Map<String, Value> clusterValues = r.section("cluster");
    Reader c = new Reader(clusterValues, errors, RecipeKeys::clusterDefault);
    boolean dyn = r.agree("dynamic_sampling", clusterValues, (Boolean) r.def("dynamic_sampling"));
    int maxGen = r.agree("max_num_gen_batches", clusterValues, ((Number) r.def("max_num_gen_batches")).intValue());
    double isCap = r.agree("off_policy_is_cap", clusterValues, ((Number) r.def("off_policy_is_cap")).doubleValue());
    cluster = new ClusterSettings(c.nonNegativeInt("max_staleness"), c.intOrNull("prompts_per_step"),
        c.positiveInt("rollout_slots"), c.positiveInt("weight_sync_steps"), dyn, maxGen, isCap,
        Transport.valueOf(c.str("transport").toUpperCase(Locale.ROOT)), c.bool("inflight_weight_update"));
    double eps = r.nonNegative("epsilon");
    List<String> funcs = r.list("reward_funcs");
    for (String f : funcs) {
      String problem = io.r1cluster.core.reward.RewardRegistry.problem(f);
      if (problem != null) {
        r.error("reward_funcs", problem);
      }
    }
    if (values.containsKey("language")) {
      try {
        io.r1cluster.core.reward.LanguageConsistency.create(r.str("language"));
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
      r.positive("code_timeout_s");
    }
    if (values.containsKey("code_memory_mb") && r.integer("code_memory_mb") < 16) {
      r.error("code_memory_mb", "must be at least 16 (MiB), got " + r.integer("code_memory_mb"));
    }
    int numGen = r.positiveInt("num_generations");
    if ((kind == StageType.GRPO || kind == StageType.COMBINED) && numGen < 2) {
      r.error("num_generations", "GRPO needs at least 2 generations per prompt, got " + numGen);
    }
    // the sampling temperature takes GRPO's default in every stage (a distill stage's default is its KD temperature's)
    double samplingTemperature = ((Number) RecipeKeys.defaultFor("temperature", StageType.GRPO)).doubleValue();
    grpo = new GrpoSettings(numGen, r.positiveInt("max_prompt_length"),
        r.positiveInt("max_completion_length"), r.nonNegative("temperature", samplingTemperature), r.fraction("top_p"),
        r.intOrNull("top_k"), r.dblOrNull("min_p"), r.nonNegative("beta"), r.positiveInt("num_iterations"),
        eps, r.dbl("epsilon_high", eps), r.dblOrNull("delta"),
        ScaleRewards.valueOf(r.str("scale_rewards").toUpperCase(Locale.ROOT)),
        LossType.valueOf(r.str("loss_type").toUpperCase(Locale.ROOT)),
        GrpoConfig.IsLevel.valueOf(r.str("importance_sampling_level").toUpperCase(Locale.ROOT)),
        r.bool("mask_truncated_completions"), r.bool("sync_ref_model"),
        r.fraction("ref_model_mixup_alpha"), r.positiveInt("ref_model_sync_steps"), funcs, weights, kw,
        r.intOrNull("generation_batch_size"), r.bool("shuffle_dataset"), r.bool("log_completions"), dyn,
        maxGen, isCap, topEntropyQuantile(r), r.intOrNull("steps_per_generation"));
    checkGenerationBatch(r, training, grpo, cluster);
    distill = new DistillSettings(r.fraction("alpha"), r.positive("temperature"),
        r.str("teacher_model"), r.str("teacher_url"), r.intOrNull("max_prompts"),
        r.str("teacher_api_key_env"), r.bool("teacher_allow_insecure_http"));
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
    eval = new EvalSettings(r.bool("do_eval"), r.bool("eval_after_stage"),
        r.positiveInt("eval_num_samples"), r.positiveInt("per_device_eval_batch_size"),
        r.dbl("eval_temperature"), r.dbl("eval_top_p"), r.intOrNull("eval_max_new_tokens"));
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
    Reader m = new Reader(mix, errors, RecipeKeys::mixtureDefault);
    List<DatasetMixture.Entry> entries = new ArrayList<>();
    Value ds = mix.get("datasets");
    if (ds != null && ds.value() instanceof List<?> list) {
      for (Object o : list) {
        @SuppressWarnings("unchecked")
        Map<String, Value> e = (Map<String, Value>) o;
        Reader d = new Reader(e, errors, RecipeKeys::mixtureDefault);
        Double w = d.dblOrNull("weight");
        if (w != null && (w <= 0 || w > 1)) {
          d.error("weight", "a mixture weight is the fraction of rows kept, in (0, 1]; got " + w);
        }
        entries.add(new DatasetMixture.Entry(d.str("id", "?"), d.str("config"), d.str("split"),
            d.list("columns", null), w));
      }
    }
    Double test = m.dblOrNull("test_split_size");
    if (test != null && (test <= 0 || test >= 1)) {
      m.error("test_split_size", "must be in (0, 1), got " + test);
    }
    return new DatasetMixture(entries, m.integer("seed"), test);
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

  /** {@code top_entropy_quantile} (TRL): a fraction in (0, 1], 1 = every completion token trains. */
  private static double topEntropyQuantile(Reader r) {
    double q = r.dbl("top_entropy_quantile");
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

  /**
   * Reads typed values, recording range errors with the value's line. A key left out gets its
   * default from {@link RecipeKeys} ({@code defaults}); a default given at a call is derived from
   * another key (an alias, or {@code epsilon_high = epsilon}), never a second copy of the table's.
   */
  private static final class Reader {
    private final Map<String, Value> values;
    private final RecipeParser errors;
    private final java.util.function.Function<String, Object> defaults;

    Reader(Map<String, Value> values, RecipeParser errors, java.util.function.Function<String, Object> defaults) {
      this.values = values;
      this.errors = errors;
      this.defaults = defaults;
    }

    /** The table's default of {@code key} (see {@link RecipeKeys#defaultFor}). */
    Object def(String key) {
      return defaults.apply(key);
    }

    String str(String key) {
      Object d = def(key);
      return str(key, d == null ? null : d.toString());
    }

    boolean bool(String key) {
      return bool(key, (Boolean) def(key));
    }

    long integer(String key) {
      return integer(key, ((Number) def(key)).longValue());
    }

    int positiveInt(String key) {
      return positiveInt(key, ((Number) def(key)).intValue());
    }

    int nonNegativeInt(String key) {
      return nonNegativeInt(key, ((Number) def(key)).intValue());
    }

    double dbl(String key) {
      return dbl(key, ((Number) def(key)).doubleValue());
    }

    double positive(String key) {
      return positive(key, ((Number) def(key)).doubleValue());
    }

    double nonNegative(String key) {
      return nonNegative(key, ((Number) def(key)).doubleValue());
    }

    double fraction(String key) {
      return fraction(key, ((Number) def(key)).doubleValue());
    }

    @SuppressWarnings("unchecked")
    List<String> list(String key) {
      return list(key, (List<String>) def(key));
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
