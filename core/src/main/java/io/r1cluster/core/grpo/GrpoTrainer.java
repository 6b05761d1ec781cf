package io.r1cluster.core.grpo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.LrSchedule;
import io.r1cluster.core.recipe.GrpoSettings;
import io.r1cluster.core.recipe.IntervalStrategy;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.recipe.TrainingSettings;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.reward.RewardScorer;
import io.r1cluster.core.sft.SftBatcher;
import io.r1cluster.core.sft.SftEncoder;
import io.r1cluster.core.sft.SftTrainer;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import io.r1cluster.core.train.MetricsLog;
import io.r1cluster.core.train.Progress;
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
 * GRPO (stage 2) and the combined stage (stage 3) as one synchronous, in-process loop: sample
 * {@code num_generations} completions per prompt with the current policy, score them with the
 * recipe's reward functions, turn rewards into group-relative advantages and take a
 * {@link GrpoLearner} step — on-policy, like TRL's GRPOTrainer with {@code max_staleness: 0}. This
 * is the engine of a single-JVM pipeline; the actor system runs the same learner with distributed,
 * asynchronous rollouts. For {@code type: combined} each step also adds {@code sft_loss_weight} ×
 * the SFT loss (mean over its tokens) on as many packed trace rows of the same dataset as the step
 * has prompts, in the same optimizer step.
 *
 * <p>The prompt order is a seeded permutation per epoch, so the position in the data is a function
 * of the step; {@code checkpoint-N/} holds the weights, optimizer state and step for exact resume.
 */
public final class GrpoTrainer {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final RecipeSettings settings;
  private final PrintStream log;
  private long stopAfterSteps = Long.MAX_VALUE;
  private java.util.function.BooleanSupplier stopWhen = () -> false;

  public GrpoTrainer(RecipeSettings settings, PrintStream log) {
    this.settings = settings;
    this.log = log;
  }

  /**
   * Stops before the next step once {@code signal} is true (a cancelled pipeline supervisor), without
   * the final save: the run resumes from its last checkpoint-N.
   */
  public GrpoTrainer stopWhen(java.util.function.BooleanSupplier signal) {
    this.stopWhen = signal;
    return this;
  }

  /** Stops (as if killed) after this many steps of this run, without the final save: for resume tests. */
  public GrpoTrainer stopAfter(long steps) {
    this.stopAfterSteps = steps;
    return this;
  }

  /** Outcome of a run. */
  public record Result(Path outputDir, long globalStep, long totalSteps, double lastReward, long resumedFrom,
      boolean completed) {}

  public Result train() {
    TrainingSettings t = settings.training();
    GrpoSettings g = settings.grpo();
    boolean combined = settings.kind() == StageType.COMBINED;
    Path out = Path.of(t.outputDir());
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path resume = SftTrainer.resumeCheckpoint(out, t);
    Models.Loaded loaded = resume != null ? Models.loadCheckpoint(resume)
        : Models.load(settings.model(), t.seed(), out);
    try (loaded) {
      Qwen2Model model = loaded.model();
      ChatTemplate template = loaded.tokenizer().chatTemplateFor(settings.model());
      List<Prompt> prompts = Datasets.prompts(settings.data(), settings.data().trainSplit()).items();
      if (prompts.isEmpty()) {
        throw new InputException(null, 0, "dataset_name", "the training split has no prompts");
      }
      int G = g.numGenerations();
      int promptsPerStep = settings.cluster().promptsPerStep() != null ? settings.cluster().promptsPerStep()
          : Math.max(1, t.perDeviceTrainBatchSize() * t.gradientAccumulationSteps() / G);
      int perEpoch = (prompts.size() + promptsPerStep - 1) / promptsPerStep;
      int total = t.maxSteps() > 0 ? t.maxSteps() : (int) Math.ceil(t.numTrainEpochs() * perEpoch);
      int warmup = t.warmupSteps() > 0 ? t.warmupSteps() : LrSchedule.warmupSteps(t.warmupRatio(), total);
      LrSchedule schedule = LrSchedule.of(t.lrSchedulerType().name().toLowerCase(Locale.ROOT), t.learningRate(), total,
          warmup, t.lrSchedulerKwargs());
      GrpoConfig cfg = g.toLearnerConfig(t, t.perDeviceTrainBatchSize());
      RewardScorer scorer = new RewardScorer(RewardRegistry.create(g.rewardFuncs(), g.rewardKwargs()), g.rewardWeights());
      List<Integer> eos = new ArrayList<>();
      loaded.tokenizer().eosTokenId().ifPresent(eos::add);
      SamplingParams sp = new SamplingParams(g.temperature(), g.topP(), g.topK() == null ? 0 : g.topK(),
          g.minP() == null ? 0 : g.minP(), g.maxCompletionLength(), eos, List.of());
      Sampler sampler = new Sampler(model, ids -> loaded.tokenizer().decode(ids, true));
      // combined stage: trace rows of the same dataset, packed like SFT
      List<SftEncoder.Encoded> traces = combined ? traces(settings, loaded.tokenizer(), template) : List.of();
      long start = 0;
      try (GrpoLearner learner = new GrpoLearner(model, cfg, schedule)) {
        if (g.syncRefModel()) {
          learner.syncReference(true, g.refModelMixupAlpha(), g.refModelSyncSteps());
        }
        if (resume != null) {
          JsonNode st = SftTrainer.readJson(resume.resolve(SftTrainer.STATE_FILE));
          start = st.path("global_step").asLong();
          learner.optimizer().load(SafeTensors.read(resume.resolve(SftTrainer.OPTIMIZER_FILE)));
          learner.resumeAt((int) start);
          log.printf("resuming from %s (step %d of %d)%n", resume, start, total);
        }
        log.printf("%s: %d prompts, %d steps of %d prompts × %d completions, lr %.2e, beta %.3f, loss %s%s%n",
            combined ? "combined" : "GRPO", prompts.size(), total, promptsPerStep, G, t.learningRate(), g.beta(),
            g.lossType().name().toLowerCase(Locale.ROOT),
            combined ? String.format(Locale.ROOT, ", sft_loss_weight %.3f on %d traces", settings.sft().sftLossWeight(),
                traces.size()) : "");
        int logEvery = SftTrainer.interval(t.loggingSteps(), total);
        int saveEvery = t.saveStrategy() == IntervalStrategy.NO ? Integer.MAX_VALUE : SftTrainer.interval(t.saveSteps(), total);
        Progress progress = new Progress(combined ? "combined" : "grpo", start, total, "steps", log, 5000);
        double lastReward = Double.NaN;
        boolean completed = true;
        long ran = 0;
        long version = start;
        try (MetricsLog metrics = new MetricsLog(out.resolve(SftTrainer.METRICS_FILE), start)) {
          for (long step = start; step < total; step++) {
            if (ran >= stopAfterSteps || stopWhen.getAsBoolean()) {
              completed = false;
              break;
            }
            long t0 = System.nanoTime();
            List<Prompt> batchPrompts = new ArrayList<>();
            for (int i = 0; i < promptsPerStep; i++) {
              long pos = step * promptsPerStep + i;
              int epoch = (int) (pos / prompts.size());
              int[] perm = SftTrainer.permutation(prompts.size(), t.seed() + epoch);
              batchPrompts.add(prompts.get(perm[(int) (pos % prompts.size())]));
            }
            List<int[]> ids = new ArrayList<>();
            List<int[]> promptIds = new ArrayList<>();
            for (Prompt p : batchPrompts) {
              int[] e = loaded.tokenizer().encode(template.render(p.messages(), true));
              if (e.length > g.maxPromptLength()) {
                e = java.util.Arrays.copyOfRange(e, e.length - g.maxPromptLength(), e.length); // left-truncate, as TRL
              }
              promptIds.add(e);
              for (int k = 0; k < G; k++) {
                ids.add(e);
              }
            }
            List<Completion> comps = sampler.generate(ids, sp, t.seed() * 1_000_003L + step, version);
            long t1 = System.nanoTime();
            List<ScoredGroup> groups = new ArrayList<>();
            for (int p = 0; p < batchPrompts.size(); p++) {
              Group grp = new Group(batchPrompts.get(p), promptIds.get(p), comps.subList(p * G, (p + 1) * G), version);
              groups.add(scorer.score(grp));
            }
            List<ScoredGroup> used = g.dynamicSampling() ? Advantages.dynamicFilter(groups) : groups;
            List<float[]> totals = new ArrayList<>();
            for (ScoredGroup sg : used) {
              totals.add(sg.total());
            }
            TrainBatch batch = new TrainBatch(used, Advantages.compute(totals, g.scaleRewards()));
            GrpoLearner.AuxiliaryLoss aux = null;
            if (combined && !traces.isEmpty()) {
              aux = sftLoss(settings, traces, step, promptsPerStep);
            }
            GrpoLearner.StepResult r = learner.step(batch, version, aux);
            version = r.version();
            long t2 = System.nanoTime();
            ran++;
            Map<String, Object> m = new LinkedHashMap<>(r.metrics());
            m.put("frac_groups_used", used.size() / (double) groups.size());
            m.put("time/generate_s", (t1 - t0) / 1e9);
            m.put("time/train_s", (t2 - t1) / 1e9);
            m.put("weights/version", version);
            Object rew = r.metrics().get("reward");
            lastReward = rew instanceof Number n ? n.doubleValue() : Double.NaN;
            long done = step + 1;
            if (done % logEvery == 0 || done == total || (done == 1 && t.loggingFirstStep())) {
              metrics.log(done, m);
            }
            Object acc = r.metrics().get("rewards/accuracy/mean");
            progress.update(done, String.format(Locale.ROOT, "reward %.3f%s", lastReward,
                acc instanceof Number a ? String.format(Locale.ROOT, " accuracy %.3f", a.doubleValue()) : ""));
            if (done % saveEvery == 0 && done < total) {
              saveCheckpoint(out, done, total, loaded, learner, t.saveTotalLimit());
            }
          }
        }
        if (completed) {
          SftTrainer.saveFinal(out, loaded);
          MetricsLog.plot(out.resolve(SftTrainer.METRICS_FILE), out.resolve("plots"), combined ? "combined " : "grpo ");
        }
        return new Result(out, start + ran, total, lastReward, start, completed);
      }
    }
  }

  /** The trace rows of a combined stage: the train split's SFT examples that have trained tokens, encoded like SFT. */
  public static List<SftEncoder.Encoded> traces(RecipeSettings settings, Tokenizer tokenizer, ChatTemplate template) {
    List<SftEncoder.Encoded> traces = new ArrayList<>();
    SftEncoder enc = new SftEncoder(tokenizer, template, settings.sft().maxLength(), true);
    for (SftExample ex : Datasets.sft(settings.data(), settings.data().trainSplit()).items()) {
      SftEncoder.Encoded e = enc.encode(ex);
      if (e.trainedCount() > 0) {
        traces.add(e);
      }
    }
    return traces;
  }

  /**
   * The combined stage's SFT term of step {@code step} (0-based): {@code sft_loss_weight} × the SFT loss
   * on {@link #traceRows} of {@code traces}, one packed row per prompt of the step.
   */
  public static GrpoLearner.AuxiliaryLoss sftLoss(RecipeSettings settings, List<SftEncoder.Encoded> traces, long step,
      int promptsPerStep) {
    TrainingSettings t = settings.training();
    List<SftBatcher.Row> rows = traceRows(traces, step, t.seed(), promptsPerStep, settings.sft().maxLength());
    return policy -> SftTrainer.accumulate(policy, traces, rows, t.perDeviceTrainBatchSize(),
        settings.sft().sftLossWeight()).loss();
  }

  /**
   * The SFT rows of a combined step: {@code rows} packed rows (as many as the step has prompts) of
   * a seeded shuffle of the traces, deterministic in the step.
   */
  static List<SftBatcher.Row> traceRows(List<SftEncoder.Encoded> traces, long step, long seed, int rows, int maxLength) {
    int[] perm = SftTrainer.permutation(traces.size(), seed + 7919L * (step + 1));
    List<SftBatcher.Row> all = SftBatcher.rows(traces, perm, maxLength, true);
    return all.subList(0, Math.min(all.size(), Math.max(1, rows)));
  }

  private static void saveCheckpoint(Path out, long step, long total, Models.Loaded loaded, GrpoLearner learner, int limit) {
    ObjectNode st = JSON.createObjectNode();
    st.put("global_step", step);
    st.put("max_steps", total);
    st.put("policy_version", step);
    SftTrainer.writeCheckpoint(out, step, loaded, learner.optimizer(), st, limit);
  }
}
