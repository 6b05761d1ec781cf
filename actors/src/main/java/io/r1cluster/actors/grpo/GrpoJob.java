package io.r1cluster.actors.grpo;

import com.typesafe.config.Config;
import io.r1cluster.actors.transport.WeightPublisher;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.grpo.GrpoConfig;
import io.r1cluster.core.grpo.GrpoLearner;
import io.r1cluster.core.grpo.GrpoPlan;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.grpo.GrpoTrainer;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.LrSchedule;
import io.r1cluster.core.recipe.ClusterSettings;
import io.r1cluster.core.recipe.GrpoSettings;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.Stage;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.recipe.TrainingSettings;
import io.r1cluster.core.recipe.Value;
import io.r1cluster.core.sft.SftEncoder;
import io.r1cluster.core.train.RunFolder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * Everything the learner node prepares for one GRPO run before any actor starts (blocking work on
 * the caller's thread): the validated recipe, the prompts, the policy, the learner config and the
 * Aeron weight publication. Bad input fails here, naming file, line and key.
 *
 * <p>{@code model_name_or_path: demo} is the built-in demo config with the demo tokenizer,
 * initialised from {@code seed}; anything else is a checkpoint folder (or a model in the local
 * Hugging Face cache). A {@code combined} stage also encodes the dataset's trace rows: each step adds
 * {@code sft_loss_weight} × their SFT loss ({@link GrpoTrainer#sftLoss}). When {@code output_dir} has
 * a {@code checkpoint-N}, the run resumes from it (see {@link LearnerCheckpoint}).
 */
public final class GrpoJob implements AutoCloseable {

  /** What one optimizer step reported. */
  public record StepReport(int step, int totalSteps, long version, Map<String, Double> metrics,
      PromptLedger.Counters counters, long[] trainedKeys) {}

  /**
   * The outcome of a run.
   *
   * @param completed false when the run was stopped ({@link Learner.Stop}) without its final save
   * @param stopReceivedAfter the steps done when the learner received {@link Learner.Stop}; -1 if it never did
   */
  public record RunResult(int steps, long version, PromptLedger.Counters counters, int[] trainedCounts,
      Path outputDir, boolean completed, int stopReceivedAfter) {}

  /** Builds the trainer; called once, on the learner thread. */
  @FunctionalInterface
  public interface TrainerFactory {
    TrainerBackend create();
  }

  final TrainerFactory trainer;
  final GrpoPlan plan;
  final String runId;
  final Path recipeFile;
  final RecipeSettings settings;
  final List<Prompt> prompts;
  final Qwen2Model policy;
  final Map<String, String> tokenizerFiles;
  final GrpoConfig learnerConfig;
  final LrSchedule schedule;
  final int promptsPerStep;
  final int epochs;
  final int totalSteps;
  private final long createdNanos = System.nanoTime();
  final Path outputDir;
  final Path tokenizerDir;
  final LearnerCheckpoint.Resume resume;
  final List<SftEncoder.Encoded> traces;
  final WeightFeed feed;
  final WeightPublisher publisher;
  final CompletableFuture<RunResult> done = new CompletableFuture<>();
  private volatile Consumer<StepReport> listener = r -> {};

  private GrpoJob(String runId, Path recipeFile, RecipeSettings settings, List<Prompt> prompts, Qwen2Model policy,
      Map<String, String> tokenizerFiles, Path tokenizerDir, LearnerCheckpoint.Resume resume,
      List<SftEncoder.Encoded> traces, GrpoPlan plan, WeightFeed feed, TrainerFactory trainer) {
    this.plan = plan;
    this.runId = runId;
    this.recipeFile = recipeFile;
    this.settings = settings;
    this.prompts = prompts;
    this.policy = policy;
    this.tokenizerFiles = tokenizerFiles;
    this.promptsPerStep = plan.promptsPerStep();
    this.epochs = plan.epochs();
    this.totalSteps = plan.totalSteps();
    TrainingSettings t = settings.training();
    this.learnerConfig = plan.learner();
    this.schedule = plan.schedule(t);
    this.outputDir = Path.of(t.outputDir()).toAbsolutePath();
    this.tokenizerDir = tokenizerDir;
    this.resume = resume;
    this.traces = traces;
    this.feed = feed;
    this.publisher = feed.publisher();
    GrpoSettings g = settings.grpo();
    this.trainer = trainer != null ? trainer : () -> {
      NoGrad.onThisThread(); // the constructor runs a backward pass (AdamW defines the gradients)
      GrpoLearner l = new GrpoLearner(policy, learnerConfig, schedule);
      if (g.syncRefModel()) {
        l.syncReference(true, g.refModelMixupAlpha(), g.refModelSyncSteps());
      }
      if (resume != null) {
        l.optimizer().load(SafeTensors.read(resume.dir().resolve(RunFolder.OPTIMIZER_FILE)));
        l.resumeAt(resume.step());
      }
      // combined stage: sft_loss_weight x the SFT loss on trace rows, in the same optimizer step (as GrpoTrainer)
      return TrainerBackend.of(l, settings.kind() != StageType.COMBINED || traces.isEmpty() ? null
          : step -> GrpoTrainer.sftLoss(settings, traces, step, plan.promptsPerStep()),
          settings.model().bfloat16() ? io.r1cluster.core.checkpoint.DType.BF16 : io.r1cluster.core.checkpoint.DType.F32);
    };
  }

  /**
   * Loads and validates a recipe, its prompts and its model, and opens the weight publication.
   *
   * @param recipeFile the recipe (its GRPO settings: a flat GRPO recipe, or its first grpo or combined stage)
   * @param config the learner ActorSystem's config (Aeron and {@code r1.grpo} settings)
   * @param host this node's hostname (UDP control endpoint)
   */
  public static GrpoJob prepare(Path recipeFile, Config config, String host) {
    return prepare(Recipe.load(recipeFile), config, host);
  }

  /** {@link #prepare(Path, Config, String)} for a recipe already loaded (with command-line overrides applied). */
  public static GrpoJob prepare(Recipe recipe, Config config, String host) {
    return prepare(recipe.file(), grpoSettings(recipe), config, host);
  }

  /**
   * {@link #prepare(Path, Config, String)} for resolved settings: a pipeline's grpo or combined stage
   * ({@code recipeFile} names the recipe in errors). When {@code output_dir} holds a
   * {@code checkpoint-N} (and {@code overwrite_output_dir} is off, or {@code resume_from_checkpoint}
   * names one) the run resumes from it: its weights and optimizer state, step, policy version and
   * prompt ledger.
   */
  public static GrpoJob prepare(Path recipeFile, RecipeSettings s, Config config, String host) {
    TrainingSettings t = s.training();
    ClusterSettings c = s.cluster();
    if (c.maxStaleness() < c.weightSyncSteps() - 1) {
      throw error(recipeFile, s, "weight_sync_steps", "weights every " + c.weightSyncSteps()
          + " steps make groups up to " + (c.weightSyncSteps() - 1) + " versions old; raise max_staleness to at least that");
    }
    List<Prompt> prompts = Datasets.prompts(s.data(), s.data().trainSplit()).items();
    GrpoPlan.of(s, prompts.size(), recipeFile); // fails on bad numbers before the model loads
    if (s.model().modelNameOrPath() == null) {
      throw new InputException(recipeFile, 0, "model_name_or_path", "the recipe names no model");
    }
    Path out = Path.of(t.outputDir()).toAbsolutePath();
    Path resumeDir = RunFolder.resumeCheckpoint(out, t);
    // the learner's policy, reference and optimizer: the checkpoint it resumes from, or the recipe's model
    Models.Loaded loaded = GrpoPlan.loadPolicy(s, resumeDir, out);
    Models.forTraining(loaded.model(), s.model()); // bf16 compute, torch_dtype for checkpoints
    List<SftEncoder.Encoded> traces = List.of();
    Map<String, String> tokFiles;
    try {
      tokFiles = RunSpec.tokenizerFiles(loaded.tokenizerDir());
      if (s.kind() == StageType.COMBINED) {
        traces = GrpoTrainer.traces(s, loaded.tokenizer(), loaded.tokenizer().chatTemplateFor(s.model()));
      }
    } catch (RuntimeException e) {
      loaded.close();
      throw e;
    } finally {
      loaded.tokenizer().close();
    }
    return assemble(recipeFile, s, prompts, loaded.model(), tokFiles, loaded.tokenizerDir(), resumeDir, traces, null, config, host);
  }

  /**
   * A run whose generation and training are done by simulated backends (benchmarks only): no
   * model, the given prompts, and {@code trainer} in place of {@link GrpoLearner}. The weights the
   * trainer exports still go over Aeron IPC.
   */
  public static GrpoJob simulated(Path recipeFile, List<Prompt> prompts, TrainerFactory trainer, Config config) {
    RecipeSettings s = grpoSettings(Recipe.load(recipeFile));
    return assemble(recipeFile, s, prompts, null, Map.of(), null, null, List.of(), trainer, config, "127.0.0.1");
  }

  private static GrpoJob assemble(Path recipeFile, RecipeSettings s, List<Prompt> prompts, Qwen2Model policy,
      Map<String, String> tokFiles, Path tokDir, Path resumeDir, List<SftEncoder.Encoded> traces,
      TrainerFactory trainer, Config config, String host) {
    ClusterSettings c = s.cluster();
    TrainingSettings t = s.training();
    GrpoPlan plan;
    LearnerCheckpoint.Resume resume = null;
    try {
      plan = GrpoPlan.of(s, prompts.size(), recipeFile);
      resume = resumeDir == null ? null : LearnerCheckpoint.read(resumeDir, prompts.size(), plan.epochs(), t.seed(),
          s.grpo().shuffleDataset(), plan.promptsPerStep());
    } catch (RuntimeException e) {
      if (policy != null) {
        policy.close();
      }
      throw e;
    }
    WeightFeed feed;
    try {
      feed = WeightFeed.open(c.transport(), config, host);
    } catch (RuntimeException e) {
      if (policy != null) {
        policy.close();
      }
      throw e;
    }
    String runId = recipeFile.getFileName() + "-" + Long.toHexString(System.currentTimeMillis());
    return new GrpoJob(runId, recipeFile, s, prompts, policy, tokFiles, tokDir, resume, traces, plan, feed, trainer);
  }

  private static RecipeSettings grpoSettings(Recipe recipe) {
    if (recipe.stages().isEmpty()) {
      if (recipe.settings().kind() != StageType.GRPO && recipe.settings().kind() != StageType.COMBINED) {
        throw new InputException(recipe.file(), 0, "reward_funcs", "not a GRPO recipe (no GRPO keys and no grpo stage)");
      }
      return recipe.settings();
    }
    for (Stage st : recipe.stages()) {
      if (st.type() == StageType.GRPO || st.type() == StageType.COMBINED) {
        return st.settings();
      }
    }
    throw new InputException(recipe.file(), 0, "pipeline", "the pipeline has no grpo or combined stage");
  }

  private static InputException error(Path file, RecipeSettings s, String key, String detail) {
    Value cluster = s.values().get("cluster");
    int line = 0;
    if (cluster != null && cluster.value() instanceof Map<?, ?> m && m.get(key) instanceof Value v) {
      line = v.line();
    }
    return new InputException(file, line, "cluster." + key, detail);
  }

  /** The run spec the learner sends to nodes. */
  RunSpec spec(org.apache.pekko.actor.typed.ActorRef<Learner.Resend> learner, long version) {
    GrpoSettings g = settings.grpo();
    GrpoPlan.Sampling p = plan.sampling();
    RunSpec.Sampling sampling = new RunSpec.Sampling(p.numGenerations(), p.maxPromptLength(), p.maxCompletionLength(),
        p.temperature(), p.topP(), p.topK(), p.minP());
    String cfg = policy == null ? "{}" : policy.config().toJson().toPrettyString();
    return new RunSpec(runId, cfg, tokenizerFiles, settings.model().chatTemplate(),
        settings.model().chatTemplateKwargs(), sampling,
        g.rewardFuncs(), g.rewardWeights() == null ? List.of() : g.rewardWeights(), g.rewardKwargs(),
        settings.cluster().rolloutSlots(), settings.cluster().inflightWeightUpdate(),
        feed.source(version), learner);
  }

  /** Called on the learner's thread after every step (keep it short). */
  public void onStep(Consumer<StepReport> l) {
    this.listener = l;
  }

  void reportStep(StepReport r) {
    listener.accept(r);
  }

  /** Completes when the run has finished and its checkpoint is saved (or failed). */
  public CompletableFuture<RunResult> done() {
    return done;
  }

  public Path outputDir() {
    return outputDir;
  }

  public int totalSteps() {
    return totalSteps;
  }

  public int promptsPerStep() {
    return promptsPerStep;
  }

  /** The learner's current weights as float32 tensors (tests compare them with the rollouts'). */
  public List<io.r1cluster.core.checkpoint.TensorData> learnerWeights() {
    return policy.toTensors(io.r1cluster.core.checkpoint.DType.F32);
  }

  /** Where this run resumes from ({@code checkpoint-N}), or null for a fresh run. */
  public Path resumedFrom() {
    return resume == null ? null : resume.dir();
  }

  /** Steps a resumed run had done (0 for a fresh run). */
  public int startStep() {
    return resume == null ? 0 : resume.step();
  }

  /**
   * Writes the final model into output_dir as {@link GrpoTrainer} does (config, safetensors,
   * generation config, tokenizer files; see {@link RunFolder#saveFinal}) and plots metrics.jsonl.
   */
  void saveCheckpoint() throws IOException {
    Files.createDirectories(outputDir);
    if (policy == null) {
      return; // simulated run: no model
    }
    RunFolder.saveFinal(outputDir, policy, tokenizerDir);
    writeFinalState();
    io.r1cluster.core.train.MetricsLog.plot(outputDir.resolve(RunFolder.METRICS_FILE), outputDir.resolve("plots"),
        settings.kind() == StageType.COMBINED ? "combined " : "grpo ");
  }

  /** output_dir/trainer_state.json as open-r1's {@code trainer.save_state()}: log_history and the train_runtime record. */
  private void writeFinalState() {
    var history = io.r1cluster.core.train.TrainerState.logHistory(outputDir.resolve(RunFolder.METRICS_FILE));
    var last = history.isEmpty() ? null : history.get(history.size() - 1);
    long step = last == null ? 0 : last.path("step").asLong();
    var state = io.r1cluster.core.train.TrainerState.of(outputDir.resolve(RunFolder.METRICS_FILE), step, totalSteps,
        last == null ? 0 : last.path("epoch").asDouble(), settings.training(),
        settings.training().perDeviceTrainBatchSize(), null);
    long ran = step - startStep();
    io.r1cluster.core.train.TrainerState.appendSummary(state, io.r1cluster.core.train.TrainerState.summary(
        (System.nanoTime() - createdNanos) / 1e9, ran * promptsPerStep * (long) settings.grpo().numGenerations(), ran,
        io.r1cluster.core.train.TrainerState.meanLoss((com.fasterxml.jackson.databind.node.ArrayNode) state.get("log_history"))));
    io.r1cluster.core.train.TrainerState.write(outputDir.resolve(RunFolder.STATE_FILE), state);
  }

  @Override
  public void close() {
    feed.close();
    if (policy != null) {
      policy.close();
    }
    io.r1cluster.core.device.NativeHeap.releaseAfter("GRPO run " + runId);
  }
}
