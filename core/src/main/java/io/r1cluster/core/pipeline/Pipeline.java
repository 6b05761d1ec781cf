package io.r1cluster.core.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.eval.Evaluator;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.distill.DistillTrainer;
import io.r1cluster.core.distill.TokenizerCheck;
import io.r1cluster.core.generate.ChatCompletionsTeacher;
import io.r1cluster.core.generate.LocalTeacher;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.generate.TraceGenerator;
import io.r1cluster.core.generate.TraceTeacher;
import io.r1cluster.core.grpo.GrpoTrainer;
import io.r1cluster.core.recipe.DistillSettings;
import io.r1cluster.core.recipe.GrpoSettings;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.From;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.Stage;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.recipe.Value;
import io.r1cluster.core.sft.SftTrainer;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import io.r1cluster.core.train.MetricsLog;
import io.r1cluster.core.train.RunFolder;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs a recipe's {@code pipeline:} in one process: each stage trains (or evaluates) the model its
 * {@code from:} names and writes its output checkpoint to {@code RUN_DIR/STAGE}; with
 * {@code eval_after_stage} the base model and every trained stage are evaluated on the test split.
 *
 * <p>A {@code generate} stage writes a verified SFT dataset to {@code RUN_DIR/STAGE} (see
 * {@link TraceGenerator}) with the teacher {@code teacher_url} or {@code teacher_model} (default: its
 * input model; sampled in this process unless {@link #localTeacher} serves it elsewhere); a later
 * training stage trains on it with {@code from_dataset: STAGE}. A
 * {@code distill} stage trains its own {@code model_name_or_path} when the stage sets one (e.g. the
 * smaller {@code demo-small}), else its input, against {@code teacher_model} (default: its input).
 *
 * <p>Run state is {@code RUN_DIR/state.json}, rewritten atomically (temp file + rename) after every
 * change. Running the same recipe again resumes: completed stages are skipped (their outputs and
 * eval results are reused), an interrupted stage continues from its last {@code checkpoint-N}.
 * Everything is checked before the first stage starts: {@code from:}/{@code teacher_model}
 * references and checkpoints, reward functions of generate stages, the tokenizers of distill
 * teachers and students, datasets. A completed generate stage is skipped on a rerun; an interrupted
 * one starts over (its dataset only ever appears whole).
 */
public final class Pipeline {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final Recipe recipe;
  private final Path runDir;
  private final PrintStream log;
  private String stopStage;
  private long stopAfterSteps;
  private java.util.function.BooleanSupplier cancelled = () -> false;
  private StageRunner grpoRunner;
  private TeacherFactory localTeacher = Pipeline::inProcessTeacher;

  public Pipeline(Recipe recipe, Path runDir, PrintStream log) {
    this.recipe = recipe;
    this.runDir = runDir;
    this.log = log;
    GrpoStageRuntime runtime = GrpoStageRuntime.find();
    this.grpoRunner = runtime != null ? runtime.runner(recipe.file(), log) : (st, s, stop, cancel) ->
        new GrpoTrainer(s, log).stopAfter(stop).stopWhen(cancel).train().completed();
  }

  /**
   * Runs one training stage: trains with {@code settings} (resolved: {@code output_dir} is the stage's
   * folder, {@code model_name_or_path} its input), resuming from the latest {@code checkpoint-N} in the
   * output folder. Returns false when stopped ({@code stopAfterSteps} steps of this run, or
   * {@code cancelled}) without the final save; true once the final model is in {@code output_dir}.
   */
  @FunctionalInterface
  public interface StageRunner {
    boolean run(Stage stage, RecipeSettings settings, long stopAfterSteps, java.util.function.BooleanSupplier cancelled);
  }

  /**
   * Replaces how {@code grpo} and {@code combined} stages run (default: the {@link GrpoStageRuntime}
   * on the class path — the embedded actor system — else the in-process {@link GrpoTrainer}); the
   * cluster's stage supervisor runs them on the GRPO actors of its cluster.
   */
  public Pipeline grpoRunner(StageRunner runner) {
    this.grpoRunner = java.util.Objects.requireNonNull(runner, "runner");
    return this;
  }

  /**
   * Serves the teacher of a {@code generate} stage whose teacher is a local checkpoint (no
   * {@code teacher_url}): {@code teacher_model} resolved and loaded by the pipeline.
   */
  @FunctionalInterface
  public interface TeacherFactory {
    /**
     * The teacher for {@code settings} (the stage's resolved settings). Takes ownership of
     * {@code model} (close it, or the returned teacher closes it).
     *
     * @param name the teacher as the recipe resolves it (a folder, a built-in or hub model), for logs
     * @param cancelled true once the pipeline is cancelled: a teacher that waits for others stops
     *     waiting ({@link TraceTeacher.Cancelled})
     */
    TraceTeacher create(Models.Loaded model, String name, RecipeSettings settings,
        java.util.function.BooleanSupplier cancelled);
  }

  /**
   * Replaces how a generate stage's local teacher answers (default: {@link LocalTeacher}, sampling in
   * this process); the cluster's stage supervisor serves it on the rollout workers.
   */
  public Pipeline localTeacher(TeacherFactory factory) {
    this.localTeacher = java.util.Objects.requireNonNull(factory, "factory");
    return this;
  }

  /** Simulates a crash: the named stage stops (without its final save) after this many steps. For tests. */
  Pipeline stopStageAfter(String stage, long steps) {
    this.stopStage = stage;
    this.stopAfterSteps = steps;
    return this;
  }

  /**
   * Cancels the run cooperatively: once {@code signal} is true the running stage stops before its
   * next step (without a final save) and {@link #run} throws {@link Interrupted}; state.json keeps
   * the stage as running, so the next run resumes it from its last checkpoint.
   */
  public Pipeline cancelWhen(java.util.function.BooleanSupplier signal) {
    this.cancelled = signal;
    return this;
  }

  /** Thrown by a stage stopped with {@link #stopStageAfter} or {@link #cancelWhen}. */
  public static final class Interrupted extends RuntimeException {
    Interrupted(String stage) {
      super("stage " + stage + " interrupted");
    }
  }

  /** Status of one stage in state.json. */
  public record StageState(String name, String type, String status, String output, Map<String, Object> eval) {}

  /** The default run folder: {@code runs/<run_name>}, else {@code runs/<recipe file name without .yaml>}. */
  public static Path defaultRunDir(Recipe r) {
    Value v = r.settings().values().get("run_name");
    String name = v != null && v.value() != null ? v.value().toString()
        : r.file().getFileName().toString().replaceFirst("\\.ya?ml$", "");
    return Path.of("runs", name);
  }

  /** Runs (or resumes) the pipeline; returns the final state of every stage, with "base" first when evaluated. */
  public List<StageState> run() {
    List<Stage> stages = recipe.stages();
    if (stages.isEmpty()) {
      throw new InputException(recipe.file(), 0, "pipeline", "the recipe has no pipeline: stages");
    }
    check(stages);
    readState(); // an unreadable state file is bad input, found before anything is written
    prepareDemoData();
    DatasetPreflight.check(recipe, stages);
    // one process per run folder (a second `r1 run` here exits 2); temp folders of a killed
    // predecessor are repaired (an interrupted checkpoint overwrite gets its old copy back)
    try (io.r1cluster.core.checkpoint.RunFolderLock lock = io.r1cluster.core.checkpoint.RunFolderLock.acquire(runDir)) {
      io.r1cluster.core.checkpoint.HfCheckpoint.removeStaleTemps(runDir);
      return runStages(stages, readState());
    }
  }

  private List<StageState> runStages(List<Stage> stages, Map<String, StageState> state) {
    boolean evalAfter = recipe.settings().eval().evalAfterStage();
    if (evalAfter && !done(state, "base")) {
      Stage first = stages.get(0);
      String input = resolve(inputRef(first, stages), state);
      Map<String, Object> e = evaluateModel(first.settings(), input, runDir.resolve("base-eval"));
      state.put("base", new StageState("base", "eval", "done", input, e));
      writeState(state);
    }
    for (Stage st : stages) {
      if (cancelled.getAsBoolean()) {
        throw new Interrupted(st.name());
      }
      if (done(state, st.name())) {
        log.printf("stage %s: done (output %s)%n", st.name(), state.get(st.name()).output());
        continue;
      }
      String input = resolve(trainedRef(st, stages), state);
      Path out = runDir.resolve(st.name());
      state.put(st.name(), new StageState(st.name(), type(st), "running", out.toString(), null));
      writeState(state);
      log.printf("== stage %s (%s) from %s -> %s%n", st.name(), type(st), input, out);
      Map<String, Object> overrides = new LinkedHashMap<>();
      overrides.put("output_dir", out.toString());
      overrides.put("model_name_or_path", input);
      if ((st.type() == StageType.DISTILL || st.type() == StageType.GENERATE) && st.settings().distill().teacherUrl() == null) {
        overrides.put("teacher_model", resolve(teacherRef(st, stages), state));
      }
      RecipeSettings evalSettings = st.settings().with(overrides);
      if (st.fromDataset() != null) {
        overrides.put("dataset_name", state.get(st.fromDataset()).output());
        log.printf("stage %s trains on the dataset of stage %s: %s%n", st.name(), st.fromDataset(),
            state.get(st.fromDataset()).output());
      }
      RecipeSettings s = st.settings().with(overrides);
      Map<String, Object> eval = null;
      long stop = st.name().equals(stopStage) ? stopAfterSteps : Long.MAX_VALUE;
      boolean completed = switch (st.type()) {
        case SFT -> new SftTrainer(s, log).stopAfter(stop).stopWhen(cancelled).train().completed();
        case GRPO, COMBINED -> grpoRunner.run(st, s, stop, cancelled);
        case DISTILL -> new DistillTrainer(s, log).stopAfter(stop).stopWhen(cancelled).train().completed();
        case GENERATE -> generate(st, s, out, stop);
        case EVAL -> true;
      };
      if (!completed) {
        throw new Interrupted(st.name());
      }
      if (st.type() == StageType.EVAL) {
        eval = evaluateModel(s, input, out);
      }
      if (st.type().trains() && evalAfter) {
        eval = evaluateModel(evalSettings, out.toString(), out);
      }
      state.put(st.name(), new StageState(st.name(), type(st), "done",
          st.type() == StageType.EVAL ? input : out.toString(), eval));
      writeState(state);
      io.r1cluster.core.device.NativeHeap.releaseAfter("stage " + st.name());
    }
    List<StageState> result = new ArrayList<>(state.values());
    writeReport(result);
    return result;
  }

  private static String type(Stage st) {
    return st.type().name().toLowerCase(Locale.ROOT);
  }

  private static boolean done(Map<String, StageState> state, String name) {
    StageState s = state.get(name);
    return s != null && "done".equals(s.status());
  }

  /** A model a stage names: the output of an earlier stage, or a model (path, hub id, built-in name). */
  record ModelRef(String stage, String model) {
    static ModelRef ofStage(String name) {
      return new ModelRef(name, null);
    }

    static ModelRef ofModel(String model) {
      return new ModelRef(null, model);
    }

    @Override
    public String toString() {
      return stage != null ? "the output of stage '" + stage + "'" : model;
    }
  }

  /**
   * Fails before any work on bad stages: {@code from:}/{@code teacher_model} references, missing
   * checkpoints, a generate stage without a teacher, unknown reward functions, and a distill stage
   * whose teacher and student tokenizers differ. Errors name the recipe file and line (exit 2).
   */
  void check(List<Stage> stages) {
    List<String> seen = new ArrayList<>();
    for (Stage st : stages) {
      if (st.from() instanceof From.Stage fs && !seen.contains(fs.name())) {
        throw new InputException(recipe.file(), st.line(), "from", "stage '" + st.name() + "' takes its model from '"
            + fs.name() + "', which is not an earlier stage");
      }
      if (st.from() instanceof From.Stage fs && byName(stages, fs.name()).type() == StageType.GENERATE) {
        throw new InputException(recipe.file(), st.lineOf("from"), "from", "stage '" + st.name() + "': '" + fs.name()
            + "' is a generate stage; it writes a dataset, not a model (train on it with from_dataset: " + fs.name() + ")");
      }
      if (st.from() instanceof From.Checkpoint cp && !Files.isDirectory(cp.path())
          && !Models.isBuiltIn(cp.path().toString())) {
        throw new InputException(recipe.file(), st.line(), "from", "stage '" + st.name() + "': no checkpoint at " + cp.path());
      }
      String tm = st.settings().distill().teacherModel();
      if (tm != null && stages.stream().anyMatch(o -> o.name().equals(tm)) && !seen.contains(tm)) {
        throw new InputException(recipe.file(), st.lineOf("teacher_model"), "teacher_model", "stage '" + st.name()
            + "': '" + tm + "' is not an earlier stage");
      }
      if (st.type() == StageType.GENERATE) {
        checkGenerate(st, stages);
      }
      if (st.type() == StageType.DISTILL) {
        checkDistill(st, stages);
      }
      seen.add(st.name());
    }
    String first = stages.get(0).settings().model().modelNameOrPath();
    if (stages.get(0).from() instanceof From.Previous && first == null) {
      throw new InputException(recipe.file(), stages.get(0).line(), "model_name_or_path",
          "the first stage takes model_name_or_path, which the recipe does not set");
    }
  }

  private void checkGenerate(Stage st, List<Stage> stages) {
    for (String f : st.settings().grpo().rewardFuncs()) {
      if (!RewardRegistry.NAMES.contains(f)) {
        throw new InputException(recipe.file(), st.lineOf("reward_funcs"), "reward_funcs", "stage '" + st.name()
            + "': unknown reward function '" + f + "'; known: " + RewardRegistry.NAMES);
      }
    }
    if (st.settings().distill().teacherUrl() == null) {
      ModelRef t = teacherRef(st, stages);
      if (t.stage() == null && t.model() == null) {
        throw new InputException(recipe.file(), st.line(), "teacher_model", "stage '" + st.name()
            + "': no teacher: set teacher_model (a checkpoint or an earlier stage) or teacher_url");
      }
      checkExists(st, t, "teacher_model");
    }
  }

  private void checkDistill(Stage st, List<Stage> stages) {
    ModelRef student = studentRef(st, stages);
    ModelRef teacher = teacherRef(st, stages);
    if (student.stage() == null && student.model() == null) {
      throw new InputException(recipe.file(), st.line(), "model_name_or_path", "stage '" + st.name()
          + "': no student model: set model_name_or_path in the stage or put a training stage before it");
    }
    if (teacher.stage() == null && teacher.model() == null) {
      throw new InputException(recipe.file(), st.line(), "teacher_model", "stage '" + st.name()
          + "': no teacher: set teacher_model or put a training stage before it");
    }
    checkExists(st, student, "model_name_or_path");
    checkExists(st, teacher, "teacher_model");
    String rev = st.settings().model().modelRevision();
    TokenizerCheck.Identity ts = tokenizerOf(st, student, stages, rev);
    TokenizerCheck.Identity tt = tokenizerOf(st, teacher, stages, rev);
    if (!ts.vocab().equals(tt.vocab())) {
      throw new InputException(recipe.file(), st.line(), "teacher_model", "stage '" + st.name()
          + "': the teacher (" + teacher + ", tokenizer " + tt.source() + ", " + tt.size() + " tokens) and the student ("
          + student + ", tokenizer " + ts.source() + ", " + ts.size() + " tokens) do not share a tokenizer;"
          + " distillation compares their next-token distributions token by token, so both need the same one");
    }
  }

  private void checkExists(Stage st, ModelRef r, String key) {
    if (r.stage() != null || Models.isBuiltIn(r.model()) || Files.isDirectory(Path.of(r.model()))) {
      return;
    }
    try {
      HfCheckpoint.resolve(r.model(), st.settings().model().modelRevision());
    } catch (InputException e) {
      throw new InputException(recipe.file(), st.lineOf(key), key, "stage '" + st.name() + "': no checkpoint '"
          + r.model() + "' (not a folder, a built-in model or a hub id in the local cache)");
    }
  }

  /** The tokenizer of a model ref, traced back through earlier stages (a stage's output has its input's tokenizer). */
  private TokenizerCheck.Identity tokenizerOf(Stage st, ModelRef r, List<Stage> stages, String rev) {
    if (r.stage() != null) {
      Stage src = byName(stages, r.stage());
      return tokenizerOf(src, trainedRef(src, stages), stages, rev);
    }
    try {
      return TokenizerCheck.of(r.model(), rev);
    } catch (InputException e) {
      throw new InputException(recipe.file(), st.line(), e.key(), "stage '" + st.name() + "': " + e.getMessage());
    }
  }

  private static Stage byName(List<Stage> stages, String name) {
    return stages.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  /** The model a stage starts from: its {@code from:}, else the previous training stage's output, else model_name_or_path. */
  static ModelRef inputRef(Stage st, List<Stage> stages) {
    if (st.from() instanceof From.Checkpoint cp) {
      return ModelRef.ofModel(cp.path().toString());
    }
    if (st.from() instanceof From.Stage fs) {
      return ModelRef.ofStage(fs.name());
    }
    int i = stages.indexOf(st);
    for (int j = i - 1; j >= 0; j--) {
      if (stages.get(j).type().trains()) {
        return ModelRef.ofStage(stages.get(j).name());
      }
    }
    return ModelRef.ofModel(st.settings().model().modelNameOrPath());
  }

  /** The model a distill stage trains: the stage's own model_name_or_path (e.g. a smaller model), else its input. */
  static ModelRef studentRef(Stage st, List<Stage> stages) {
    return st.sets("model_name_or_path") ? ModelRef.ofModel(st.settings().model().modelNameOrPath()) : inputRef(st, stages);
  }

  /** The model a stage works on: a distill stage's student, else its input. */
  static ModelRef trainedRef(Stage st, List<Stage> stages) {
    return st.type() == StageType.DISTILL ? studentRef(st, stages) : inputRef(st, stages);
  }

  /** The teacher of a distill/generate stage: teacher_model (an earlier stage or a model), else the stage's input. */
  static ModelRef teacherRef(Stage st, List<Stage> stages) {
    String tm = st.settings().distill().teacherModel();
    if (tm == null) {
      return inputRef(st, stages);
    }
    return stages.stream().anyMatch(o -> o.name().equals(tm)) ? ModelRef.ofStage(tm) : ModelRef.ofModel(tm);
  }

  private static String resolve(ModelRef r, Map<String, StageState> state) {
    return r.stage() != null ? state.get(r.stage()).output() : r.model();
  }

  /** Runs a generate stage; false when stopped by {@link #stopStageAfter} (nothing written). */
  private boolean generate(Stage st, RecipeSettings s, Path out, long stop) {
    DistillSettings d = s.distill();
    GrpoSettings g = s.grpo();
    TraceTeacher teacher;
    Tokenizer student = null;
    if (d.teacherUrl() != null) {
      // the endpoint sends text: token ids (for rewards that count tokens) come from the student's tokenizer
      student = Models.loadTokenizer(s.model().modelNameOrPath(), s.model().modelRevision(), runDir);
      teacher = new ChatCompletionsTeacher(d.teacherUrl(), d.teacherModel(), g.temperature(), g.topP(),
          g.maxCompletionLength(), ChatCompletionsTeacher.Options.defaults())
          .withApiKey(System.getenv(d.teacherApiKeyEnv()), d.teacherAllowInsecureHttp()).withTokenizer(student::encode);
    } else {
      teacher = localTeacher.create(loadModel(d.teacherModel(), s), d.teacherModel(), s, cancelled);
    }
    try (teacher; Tokenizer ignored = student) {
      TraceGenerator.Stats stats = new TraceGenerator(s, log).stopAfter(stop).stopWhen(cancelled).run(teacher, out);
      if (!stats.completed()) {
        return false;
      }
      if (stats.kept() == 0) {
        throw new InputException(recipe.file(), st.line(), "reward_funcs", "stage '" + st.name() + "': none of the "
            + stats.total() + " completions of " + teacher.describe() + " passed " + g.rewardFuncs()
            + "; nothing to train on (see " + out.resolve(TraceGenerator.STATS_FILE) + ")");
      }
      return true;
    }
  }

  /** The default local teacher: {@link LocalTeacher} on {@code m}, in this process. */
  private static TraceTeacher inProcessTeacher(Models.Loaded m, String name, RecipeSettings s,
      java.util.function.BooleanSupplier cancelled) {
    GrpoSettings g = s.grpo();
    List<Integer> eos = io.r1cluster.core.generate.StopTokens.of(m.tokenizer(), m.model().config());
    SamplingParams sp = new SamplingParams(g.temperature(), g.topP(), g.topK() == null ? 0 : g.topK(),
        g.minP() == null ? 0 : g.minP(), g.maxCompletionLength(), eos, List.of());
    return new LocalTeacher(m, name, m.tokenizer().chatTemplateFor(s.model()), sp, g.maxPromptLength());
  }

  private Models.Loaded loadModel(String model, RecipeSettings s) {
    Path dir = Path.of(model);
    ai.djl.Device device = io.r1cluster.core.device.Devices.forRecipe(s.model().useCpu());
    return Files.isDirectory(dir) ? Models.loadCheckpoint(dir, device, s.model().bfloat16()
        ? ai.djl.ndarray.types.DataType.BFLOAT16 : ai.djl.ndarray.types.DataType.FLOAT32) // inference only: a teacher or an evaluation
        : Models.load(model, s.model().modelRevision(), s.training().seed(), runDir, device);
  }

  private void prepareDemoData() {
    DemoDataset.ensure(recipe.settings(), recipe.file(), log);
  }

  private Map<String, Object> evaluateModel(RecipeSettings s, String model, Path outDir) {
    List<Prompt> prompts = Datasets.prompts(s.data(), s.data().testSplit()).items();
    Evaluator.Options o = Evaluator.Options.of(s);
    try (Models.Loaded m = loadModel(model, s)) {
      ChatTemplate template = m.tokenizer().chatTemplateFor(s.model());
      Evaluator.Result r = Evaluator.evaluate(m.model(), m.tokenizer(), template, prompts, o, outDir, log);
      log.printf(Locale.ROOT, "eval %s: pass@1 %.3f format %.3f mean length %.1f%n", model, r.passAt1(), r.formatRate(),
          r.meanLength());
      Map<String, Object> out = r.asMap();
      if (o.n() > 1) {
        // pass@1 above is the mean over n samples (DeepSeek-R1's protocol); greedy decoding beside it
        Evaluator.Result g = Evaluator.evaluate(m.model(), m.tokenizer(), template, prompts, o.asGreedy(), null, log);
        log.printf(Locale.ROOT, "eval %s: greedy pass@1 %.3f%n", model, g.passAt1());
        out.put("greedy_pass@1", g.passAt1());
      }
      return out;
    }
  }

  Map<String, StageState> readState() {
    Path f = runDir.resolve("state.json");
    Map<String, StageState> out = new LinkedHashMap<>();
    if (!Files.exists(f)) {
      return out;
    }
    try {
      for (var n : JSON.readTree(f.toFile()).path("stages")) {
        @SuppressWarnings("unchecked")
        Map<String, Object> eval = n.hasNonNull("eval") ? JSON.convertValue(n.get("eval"), Map.class) : null;
        out.put(n.path("name").asText(), new StageState(n.path("name").asText(), n.path("type").asText(),
            n.path("status").asText(), n.path("output").asText(null), eval));
      }
    } catch (IOException e) {
      throw new InputException(f, 0, null, "unreadable run state: " + e.getMessage());
    }
    return out;
  }

  void writeState(Map<String, StageState> state) {
    try {
      Files.createDirectories(runDir);
      ObjectNode root = JSON.createObjectNode();
      root.put("recipe", recipe.file().toString());
      ArrayNode arr = root.putArray("stages");
      for (StageState s : state.values()) {
        arr.add(JSON.valueToTree(s));
      }
      // fsynced before and after the rename: a power cut leaves the old state or the new one
      io.r1cluster.core.checkpoint.DurableFiles.writeString(runDir.resolve("state.json"), JSON.writeValueAsString(root) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The seed's table in miniature, as text. With sampled evaluation ({@code eval_num_samples > 1})
   * pass@1 is the mean over the samples and a {@code greedy} column follows.
   */
  public static String table(List<StageState> states) {
    boolean greedy = states.stream().anyMatch(s -> s.eval() != null && s.eval().containsKey("greedy_pass@1"));
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-12s %8s %8s %12s", "stage", "pass@1", "format",
        "mean length"));
    sb.append(greedy ? String.format(Locale.ROOT, " %8s%n", "greedy") : "\n");
    for (StageState s : states) {
      if (s.eval() == null) {
        continue;
      }
      sb.append(String.format(Locale.ROOT, "%-12s %8.3f %8.3f %12.1f", s.name(), num(s.eval().get("pass@1")),
          num(s.eval().get("format")), num(s.eval().get("mean_length"))));
      sb.append(greedy ? String.format(Locale.ROOT, " %8.3f%n", num(s.eval().get("greedy_pass@1"))) : "\n");
    }
    return sb.toString();
  }

  private static double num(Object o) {
    return o instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private void writeReport(List<StageState> states) {
    StringBuilder md = new StringBuilder("# Run report: " + recipe.file() + "\n\n```\n" + table(states) + "```\n\n");
    for (StageState s : states) {
      Path plots = runDir.resolve(s.name()).resolve("plots");
      if (Files.isDirectory(plots)) {
        md.append("## ").append(s.name()).append(" (").append(s.type()).append(")\n\n");
        for (String m : List.of("loss", "reward", "rewards_accuracy_mean", "kl", "completions_mean_length",
            "mean_token_accuracy")) {
          if (Files.exists(plots.resolve(m + ".png"))) {
            md.append("![").append(m).append("](").append(s.name()).append("/plots/").append(m).append(".png)\n");
          }
        }
        md.append('\n');
      }
    }
    try {
      Files.writeString(runDir.resolve("report.md"), md.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** For tests: the metrics of a stage. */
  public Map<String, double[][]> metrics(String stage) {
    return MetricsLog.read(runDir.resolve(stage).resolve(RunFolder.METRICS_FILE));
  }
}
