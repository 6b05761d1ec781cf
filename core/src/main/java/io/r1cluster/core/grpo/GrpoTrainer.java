package io.r1cluster.core.grpo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.generate.BatchEngine;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.generate.StopTokens;
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
import io.r1cluster.core.train.EpochOrder;
import io.r1cluster.core.train.MetricsLog;
import io.r1cluster.core.train.ReportTo;
import io.r1cluster.core.train.RunFolder;
import io.r1cluster.core.train.TrainerState;
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
  private java.util.function.LongConsumer stepListener = step -> {};

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

  /**
   * Called after each step has been logged (before a checkpoint save), with the number of steps done:
   * the same point at which the actor path's learner reports a step, so benchmarks time both alike.
   */
  public GrpoTrainer onStep(java.util.function.LongConsumer listener) {
    this.stepListener = listener;
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
    List<Prompt> prompts = Datasets.prompts(settings.data(), settings.data().trainSplit()).items();
    GrpoPlan plan = GrpoPlan.of(settings, prompts.size(), null);
    Path resume = RunFolder.resumeCheckpoint(out, t);
    try (Models.Loaded loaded = GrpoPlan.loadPolicy(settings, resume, out)) {
      Qwen2Model model = loaded.model();
      ChatTemplate template = loaded.tokenizer().chatTemplateFor(settings.model());
      int G = plan.sampling().numGenerations();
      int promptsPerStep = plan.promptsPerStep();
      int total = plan.totalSteps();
      LrSchedule schedule = plan.schedule(t);
      GrpoConfig cfg = plan.learner();
      RewardScorer scorer = new RewardScorer(RewardRegistry.create(g.rewardFuncs(), g.rewardKwargs()), g.rewardWeights());
      SamplingParams sp = plan.sampling().params(StopTokens.of(loaded.tokenizer(), model.config()));
      // the continuously batched engine the rollout actors use, on the policy itself: a step's groups
      // are one batch (the learner changes the weights in place between steps, never while it runs)
      int maxRows = promptsPerStep * G;
      BatchEngine.Options engineOpts = new BatchEngine.Options(maxRows, g.maxPromptLength() + g.maxCompletionLength(), false);
      // combined stage: trace rows of the same dataset, packed like SFT
      List<SftEncoder.Encoded> traces = combined ? traces(settings, loaded.tokenizer(), template) : List.of();
      long start = 0;
      long drawn = 0; // prompts drawn so far (the position in the epochs' permutations)
      try (GrpoLearner learner = new GrpoLearner(model, cfg, schedule);
          BatchEngine engine = new BatchEngine(model, false, 0, ids -> loaded.tokenizer().decode(ids, true), engineOpts,
              combined ? "combined" : "grpo")) {
        if (g.syncRefModel()) {
          learner.syncReference(true, g.refModelMixupAlpha(), g.refModelSyncSteps());
        }
        if (resume != null) {
          JsonNode st = RunFolder.readJson(resume.resolve(RunFolder.STATE_FILE));
          start = st.path("global_step").asLong();
          drawn = st.path("prompts_drawn").asLong(start * promptsPerStep);
          learner.optimizer().load(SafeTensors.read(resume.resolve(RunFolder.OPTIMIZER_FILE)));
          learner.resumeAt((int) start);
          log.printf("resuming from %s (step %d of %d)%n", resume, start, total);
        }
        log.printf("%s: %d prompts, %d steps of %d prompts × %d completions, lr %.2e, beta %.3f, loss %s%s%n",
            combined ? "combined" : "GRPO", prompts.size(), total, promptsPerStep, G, t.learningRate(), g.beta(),
            g.lossType().name().toLowerCase(Locale.ROOT),
            combined ? String.format(Locale.ROOT, ", sft_loss_weight %.3f on %d traces", settings.sft().sftLossWeight(),
                traces.size()) : "");
        int logEvery = RunFolder.interval(t.loggingSteps(), total);
        int saveEvery = t.saveStrategy() == IntervalStrategy.NO ? Integer.MAX_VALUE : RunFolder.interval(t.saveSteps(), total);
        Progress progress = new Progress(combined ? "combined" : "grpo", start, total, "steps", log, 5000);
        double lastReward = Double.NaN;
        boolean completed = true;
        long ran = 0;
        long version = start;
        ReportTo report = ReportTo.of(settings);
        report.notes().forEach(log::println);
        long runStart = System.nanoTime();
        ObjectNode finalState = null;
        try (MetricsLog metrics = new MetricsLog(out.resolve(RunFolder.METRICS_FILE), start, report.sinks(out, start));
            CompletionLog completions = g.logCompletions() ? new CompletionLog(out, start) : null) {
          for (long step = start; step < total; step++) {
            if (ran >= stopAfterSteps || stopWhen.getAsBoolean()) {
              completed = false;
              break;
            }
            long t0 = System.nanoTime();
            // draw, generate and score until the batch is full (dynamic sampling refills filtered groups)
            List<ScoredGroup> pool = new ArrayList<>();
            int budget = plan.filterBudget(settings.cluster().maxNumGenBatches());
            int filtered = 0;
            int rounds = 0;
            BatchSelector.Selection sel = BatchSelector.select(List.of(), promptsPerStep, g.dynamicSampling(), budget);
            while (!sel.full()) {
              int need = promptsPerStep - sel.train().size();
              List<Prompt> batchPrompts = new ArrayList<>();
              for (int i = 0; i < need; i++, drawn++) {
                int epoch = (int) (drawn / prompts.size());
                int[] perm = EpochOrder.permutation(prompts.size(), t.seed() + epoch);
                batchPrompts.add(prompts.get(perm[(int) (drawn % prompts.size())]));
              }
              pool.addAll(generate(batchPrompts, loaded, template, g, engine, sp, scorer,
                  t.seed() * 1_000_003L + step + 7_919_000_003L * rounds, version));
              rounds++;
              sel = BatchSelector.select(totals(pool), promptsPerStep, g.dynamicSampling(), budget);
            }
            filtered = sel.filtered().size();
            List<ScoredGroup> used = new ArrayList<>();
            for (int i : sel.train()) {
              used.add(pool.get(i));
            }
            long t1 = System.nanoTime();
            TrainBatch batch = new TrainBatch(used, Advantages.compute(totals(used), g.scaleRewards()));
            GrpoLearner.AuxiliaryLoss aux = null;
            if (combined && !traces.isEmpty()) {
              aux = sftLoss(settings, traces, step, promptsPerStep);
            }
            GrpoLearner.StepResult r = learner.step(batch, version, aux);
            long trainedAt = version;
            version = r.version();
            long t2 = System.nanoTime();
            ran++;
            Map<String, Object> m = new LinkedHashMap<>(r.metrics());
            m.put("frac_groups_used", used.size() / (double) (used.size() + filtered));
            m.put("groups_filtered", (double) filtered);
            m.put("generation_rounds", (double) rounds);
            m.put("time/generate_s", (t1 - t0) / 1e9);
            m.put("time/train_s", (t2 - t1) / 1e9);
            m.put("weights/version", version);
            Object rew = r.metrics().get("reward");
            lastReward = rew instanceof Number n ? n.doubleValue() : Double.NaN;
            long done = step + 1;
            m.put("epoch", drawn / (double) prompts.size());
            if (done % logEvery == 0 || done == total || (done == 1 && t.loggingFirstStep())) {
              metrics.log(done, m);
              if (completions != null) {
                completions.log(done, batch, trainedAt);
              }
            }
            Object acc = r.metrics().get("rewards/accuracy/mean");
            progress.update(done, String.format(Locale.ROOT, "reward %.3f%s", lastReward,
                acc instanceof Number a ? String.format(Locale.ROOT, " accuracy %.3f", a.doubleValue()) : ""));
            stepListener.accept(done);
            if (done % saveEvery == 0 && done < total) {
              saveCheckpoint(out, done, total, drawn, loaded, learner, t, drawn / (double) prompts.size());
            }
          }
          if (completed && total > 0) {
            finalState = state(out, total, total, drawn, t, drawn / (double) prompts.size());
            Map<String, Object> sum = TrainerState.summary((System.nanoTime() - runStart) / 1e9,
                (total - start) * promptsPerStep * (long) G, total - start,
                TrainerState.meanLoss((com.fasterxml.jackson.databind.node.ArrayNode) finalState.get("log_history")));
            TrainerState.appendSummary(finalState, sum);
            metrics.summary(total, sum);
          }
        }
        if (completed) {
          RunFolder.saveFinal(out, loaded);
          if (finalState != null) {
            TrainerState.write(out.resolve(RunFolder.STATE_FILE), finalState); // as open-r1's trainer.save_state()
          }
          MetricsLog.plot(out.resolve(RunFolder.METRICS_FILE), out.resolve("plots"), combined ? "combined " : "grpo ");
        }
        return new Result(out, start + ran, total, lastReward, start, completed);
      }
    }
  }

  /** G completions for each prompt, sampled at {@code seed}, scored: one group per prompt. */
  private static List<ScoredGroup> generate(List<Prompt> batchPrompts, Models.Loaded loaded, ChatTemplate template,
      GrpoSettings g, BatchEngine engine, SamplingParams sp, RewardScorer scorer, long seed, long version) {
    int G = g.numGenerations();
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
    engine.updateWeights(loaded.model(), version); // the policy, trained in place: only the version advances
    List<BatchEngine.Request> rs = new ArrayList<>();
    for (int r = 0; r < ids.size(); r++) {
      rs.add(new BatchEngine.Request(ids.get(r), sp, Sampler.rowSeed(seed, r), null)); // row seeds as Sampler's
    }
    List<Completion> comps = engine.submitAll(rs).stream().map(h -> h.result().join()).toList();
    List<ScoredGroup> groups = new ArrayList<>();
    for (int p = 0; p < batchPrompts.size(); p++) {
      Group grp = new Group(batchPrompts.get(p), promptIds.get(p), comps.subList(p * G, (p + 1) * G), version);
      groups.add(scorer.score(grp));
    }
    return groups;
  }

  private static List<float[]> totals(List<ScoredGroup> groups) {
    List<float[]> out = new ArrayList<>();
    for (ScoredGroup sg : groups) {
      out.add(sg.total());
    }
    return out;
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
    int[] perm = EpochOrder.permutation(traces.size(), seed + 7919L * (step + 1));
    List<SftBatcher.Row> all = SftBatcher.rows(traces, perm, maxLength, true);
    return all.subList(0, Math.min(all.size(), Math.max(1, rows)));
  }

  private static void saveCheckpoint(Path out, long step, long total, long drawn, Models.Loaded loaded,
      GrpoLearner learner, TrainingSettings t, double epoch) {
    RunFolder.writeCheckpoint(out, step, loaded, learner.optimizer(), state(out, step, total, drawn, t, epoch),
        t.saveTotalLimit());
  }

  /** trainer_state.json: transformers' fields and log_history, plus the policy version and prompts drawn. */
  private static ObjectNode state(Path out, long step, long total, long drawn, TrainingSettings t, double epoch) {
    ObjectNode own = JSON.createObjectNode();
    own.put("policy_version", step);
    own.put("prompts_drawn", drawn);
    return TrainerState.of(out.resolve(RunFolder.METRICS_FILE), step, total, epoch, t, t.perDeviceTrainBatchSize(), own);
  }
}
