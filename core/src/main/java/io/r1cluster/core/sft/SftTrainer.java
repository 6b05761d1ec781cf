package io.r1cluster.core.sft;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.GenerationConfig;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.dataset.Loaded;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.model.LogProbs;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.model.Nd;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.AdamW;
import io.r1cluster.core.optim.LrSchedule;
import io.r1cluster.core.recipe.IntervalStrategy;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.TrainingSettings;
import io.r1cluster.core.tokenizer.ChatTemplate;
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
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Stage 1: supervised fine-tuning on reasoning traces (TRL {@code SFTTrainer} semantics).
 *
 * <p>Each optimizer step takes {@code per_device_train_batch_size × gradient_accumulation_steps}
 * rows; the loss is the mean negative log-likelihood over all trained target tokens of the step
 * (each micro-batch's sum is divided by the step's token count before backward, so accumulation
 * gives exactly the full-batch mean). Gradients are clipped to {@code max_grad_norm}, AdamW
 * updates with the scheduled learning rate. A non-finite loss or gradient skips the update.
 *
 * <p>The data order of every epoch is a permutation seeded by {@code seed + epoch}, so the
 * position in the data is a function of the global step: a checkpoint ({@code checkpoint-N/}: HF
 * weights + tokenizer, {@code optimizer.safetensors}, {@code trainer_state.json}) is enough to
 * continue exactly, and a resumed run logs the same losses as an uninterrupted one.
 */
public final class SftTrainer {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final RecipeSettings settings;
  private final PrintStream log;
  private long stopAfterSteps = Long.MAX_VALUE;
  private java.util.function.BooleanSupplier stopWhen = () -> false;
  private TokenLoss loss = TokenLoss.CROSS_ENTROPY;
  private String task = "sft";

  public SftTrainer(RecipeSettings settings, PrintStream log) {
    this.settings = settings;
    this.log = log;
  }

  /**
   * Stops before the next step once {@code signal} is true (a cancelled pipeline supervisor), without
   * the final save: the run resumes from its last checkpoint-N.
   */
  public SftTrainer stopWhen(java.util.function.BooleanSupplier signal) {
    this.stopWhen = signal;
    return this;
  }

  /** Stops (as if killed) after this many steps of this run, without the final save: for resume tests. */
  public SftTrainer stopAfter(long steps) {
    this.stopAfterSteps = steps;
    return this;
  }

  /**
   * Trains with another per-token loss (e.g. distillation) instead of cross-entropy; {@code task}
   * names the run in progress lines and plots. Checkpoints, resume, metrics and eval are unchanged.
   */
  public SftTrainer withLoss(TokenLoss loss, String task) {
    this.loss = loss;
    this.task = task;
    return this;
  }

  /** Outcome of a run. */
  public record Result(Path outputDir, long globalStep, long totalSteps, double lastLoss, long skippedSteps,
      int examples, long resumedFrom, boolean completed) {}

  /** The steps of the run, each a list of rows, with the epoch they belong to. */
  record Plan(List<List<SftBatcher.Row>> steps, List<Double> epochAt) {}

  static Plan plan(List<SftEncoder.Encoded> encoded, TrainingSettings t, int maxLength, boolean packing) {
    int rowsPerStep = t.perDeviceTrainBatchSize() * t.gradientAccumulationSteps();
    List<List<SftBatcher.Row>> steps = new ArrayList<>();
    List<Double> epochAt = new ArrayList<>();
    int maxSteps = t.maxSteps();
    double epochs = t.numTrainEpochs();
    for (int e = 0; ; e++) {
      if (maxSteps <= 0 && e >= Math.ceil(epochs)) {
        break;
      }
      List<SftBatcher.Row> rows = SftBatcher.rows(encoded, EpochOrder.permutation(encoded.size(), t.seed() + e), maxLength, packing);
      int n = (rows.size() + rowsPerStep - 1) / rowsPerStep;
      int take = n;
      if (maxSteps <= 0 && e + 1 > epochs) {
        take = (int) Math.ceil(n * (epochs - e));
      }
      for (int k = 0; k < take; k++) {
        if (maxSteps > 0 && steps.size() >= maxSteps) {
          return new Plan(steps, epochAt);
        }
        steps.add(rows.subList(k * rowsPerStep, Math.min(rows.size(), (k + 1) * rowsPerStep)));
        epochAt.add(e + (k + 1) / (double) n);
      }
      if (n == 0) {
        break;
      }
    }
    return new Plan(steps, epochAt);
  }

  public Result train() {
    TrainingSettings t = settings.training();
    Path out = Path.of(t.outputDir());
    try {
      Files.createDirectories(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path resume = RunFolder.resumeCheckpoint(out, t);
    Models.Loaded loaded = resume != null ? Models.resumeForTraining(resume, settings.model())
        : Models.load(settings.model(), t.seed(), out);
    try (loaded) {
      Qwen2Model model = loaded.model();
      ChatTemplate template = loaded.tokenizer().chatTemplateFor(settings.model());
      Loaded<SftExample> data = Datasets.sft(settings.data(), settings.data().trainSplit());
      if (data.skipped() > 0) {
        log.printf("skipped %d bad rows (first: %s)%n", data.skipped(), data.firstSkipped());
      }
      if (data.items().isEmpty()) {
        throw new InputException(null, 0, "dataset_name", "the training split has no rows");
      }
      boolean assistantOnly = settings.sft().completionOnlyLoss() == null || settings.sft().completionOnlyLoss();
      int maxLength = settings.sft().maxLength();
      SftEncoder enc = new SftEncoder(loaded.tokenizer(), template, maxLength, assistantOnly);
      List<SftEncoder.Encoded> encoded = new ArrayList<>();
      int truncated = 0;
      for (SftExample ex : data.items()) {
        SftEncoder.Encoded e = enc.encode(ex);
        truncated += e.truncated() ? 1 : 0;
        if (e.trainedCount() > 0) {
          encoded.add(e);
        }
      }
      if (truncated > 0) {
        log.printf("truncated %d of %d examples to max_length %d%n", truncated, encoded.size(), maxLength);
      }
      Plan plan = plan(encoded, t, maxLength, settings.sft().packing());
      List<SftEncoder.Encoded> evalSet = new ArrayList<>();
      if (t.evalStrategy() != IntervalStrategy.NO) {
        for (SftExample ex : Datasets.sft(settings.data(), settings.data().testSplit()).items()) {
          SftEncoder.Encoded e = enc.encode(ex);
          if (e.trainedCount() > 0) {
            evalSet.add(e);
          }
        }
      }
      int total = plan.steps().size();
      int warmup = t.warmupSteps() > 0 ? t.warmupSteps() : LrSchedule.warmupSteps(t.warmupRatio(), total);
      LrSchedule schedule = LrSchedule.of(t.lrSchedulerType().name().toLowerCase(Locale.ROOT), t.learningRate(), total,
          warmup, t.lrSchedulerKwargs());
      long start = 0;
      long skipped = 0;
      try (AdamW opt = new AdamW(model.parameters(),
          new AdamW.Config(t.adamBeta1(), t.adamBeta2(), t.adamEpsilon(), t.weightDecay()))) {
        if (resume != null) {
          JsonNode st = RunFolder.readJson(resume.resolve(RunFolder.STATE_FILE));
          start = st.path("global_step").asLong();
          skipped = st.path("skipped_nonfinite").asLong();
          opt.load(SafeTensors.read(resume.resolve(RunFolder.OPTIMIZER_FILE)));
          log.printf("resuming from %s (step %d of %d)%n", resume, start, total);
        }
        log.printf("%s: %d examples, %d steps (%d rows/step, packing %s, max_length %d), lr %.2e %s%n",
            task.equals("sft") ? "SFT" : task, encoded.size(), total, t.perDeviceTrainBatchSize() * t.gradientAccumulationSteps(),
            settings.sft().packing(), maxLength, t.learningRate(), t.lrSchedulerType().name().toLowerCase(Locale.ROOT));
        int logEvery = RunFolder.interval(t.loggingSteps(), total);
        int saveEvery = t.saveStrategy() == IntervalStrategy.NO ? Integer.MAX_VALUE : RunFolder.interval(t.saveSteps(), total);
        int evalEvery = RunFolder.interval(t.evalSteps() != null ? t.evalSteps() : t.loggingSteps(), total);
        Progress progress = new Progress(task, start, total, "steps", log, 2000);
        double lastLoss = Double.NaN;
        double lossAcc = 0;
        double accAcc = 0;
        int accN = 0;
        Map<String, Double> partAcc = new LinkedHashMap<>();
        long tokens = 0;
        long tokensWindow = 0;
        long windowStart = System.nanoTime();
        boolean completed = true;
        long ran = 0;
        ReportTo report = ReportTo.of(settings);
        report.notes().forEach(log::println);
        long runStart = System.nanoTime();
        int rowsPerStep = t.perDeviceTrainBatchSize() * t.gradientAccumulationSteps();
        ObjectNode finalState = null;
        try (MetricsLog metrics = new MetricsLog(out.resolve(RunFolder.METRICS_FILE), start, report.sinks(out, start))) {
          for (long step = start; step < total; step++) {
            if (ran >= stopAfterSteps || stopWhen.getAsBoolean()) {
              completed = false;
              break;
            }
            double lr = schedule.lr((int) step);
            StepOut so = step(model, opt, encoded, plan.steps().get((int) step), t, lr, loss);
            ran++;
            if (so.skipped) {
              skipped++;
            } else {
              lastLoss = so.loss;
              lossAcc += so.loss;
              accAcc += so.accuracy;
              accN++;
              so.parts.forEach((k, v) -> partAcc.merge(k, v, Double::sum));
            }
            tokens += so.tokens;
            tokensWindow += so.tokens;
            long done = step + 1;
            boolean logNow = done % logEvery == 0 || done == total || (done == 1 && t.loggingFirstStep());
            if (logNow) {
              double secs = Math.max(1e-9, (System.nanoTime() - windowStart) / 1e9);
              Map<String, Object> m = new LinkedHashMap<>();
              m.put("loss", accN == 0 ? Double.NaN : lossAcc / accN);
              for (var e : partAcc.entrySet()) {
                m.put(e.getKey(), accN == 0 ? Double.NaN : e.getValue() / accN);
              }
              m.put("grad_norm", so.gradNorm);
              m.put("learning_rate", lr);
              m.put("epoch", plan.epochAt().get((int) step));
              m.put("num_tokens", tokens);
              m.put("mean_token_accuracy", accN == 0 ? Double.NaN : accAcc / accN);
              m.put("tokens_per_second", tokensWindow / secs);
              m.put("skipped_nonfinite", skipped);
              metrics.log(done, m);
              lossAcc = 0;
              accAcc = 0;
              accN = 0;
              partAcc.clear();
              tokensWindow = 0;
              windowStart = System.nanoTime();
            }
            boolean evalNow = switch (t.evalStrategy()) {
              case STEPS -> done % evalEvery == 0 || done == total;
              case EPOCH -> Math.floor(plan.epochAt().get((int) step) + 1e-9) > Math.floor(
                  (step == 0 ? 0 : plan.epochAt().get((int) step - 1)) + 1e-9) || done == total;
              default -> false;
            };
            if (evalNow && !evalSet.isEmpty()) {
              double[] ev = evalLoss(model, evalSet, t.perDeviceTrainBatchSize(), maxLength);
              metrics.log(done, Map.of("eval_loss", ev[0], "eval_mean_token_accuracy", ev[1],
                  "epoch", plan.epochAt().get((int) step)));
            }
            progress.update(done, String.format(Locale.ROOT, "loss %.4f lr %.2e", so.loss, lr));
            if (done % saveEvery == 0 && done < total) {
              saveCheckpoint(out, done, total, skipped, plan.epochAt().get((int) step), loaded, opt, t, rowsPerStep);
            }
          }
          if (completed && total > 0) {
            finalState = state(out, total, total, skipped, plan.epochAt().get(total - 1), t, rowsPerStep);
            Map<String, Object> sum = TrainerState.summary((System.nanoTime() - runStart) / 1e9,
                (total - start) * rowsPerStep, total - start, TrainerState.meanLoss((ArrayNode) finalState.get("log_history")));
            TrainerState.appendSummary(finalState, sum);
            metrics.summary(total, sum);
          }
        }
        if (completed) {
          RunFolder.saveFinal(out, loaded);
          if (finalState != null) {
            TrainerState.write(out.resolve(RunFolder.STATE_FILE), finalState); // as open-r1's trainer.save_state()
          }
          MetricsLog.plot(out.resolve(RunFolder.METRICS_FILE), out.resolve("plots"), task + " ");
        }
        return new Result(out, start + ran, total, lastLoss, skipped, encoded.size(), start, completed);
      }
    }
  }

  private record StepOut(double loss, double accuracy, double gradNorm, long tokens, boolean skipped,
      Map<String, Double> parts) {}

  /**
   * Forward + backward of an SFT loss over rows: loss value (weighted), token accuracy, tokens, and
   * the token-averaged components the loss reported (e.g. {@code distill/kl}).
   */
  public record Accumulated(double loss, double accuracy, long targetTokens, long realTokens, Map<String, Double> parts) {
    public Accumulated(double loss, double accuracy, long targetTokens, long realTokens) {
      this(loss, accuracy, targetTokens, realTokens, Map.of());
    }
  }

  /**
   * Accumulates the gradient of {@code weight} × (mean NLL over the trained target tokens of
   * {@code rows}) into the model's gradients, in micro-batches of {@code micro} rows; the loss is
   * NaN (and the backward of the remaining micro-batches skipped) when it is not finite.
   */
  public static Accumulated accumulate(Qwen2Model model, List<SftEncoder.Encoded> encoded, List<SftBatcher.Row> rows,
      int micro, double weight) {
    return accumulate(model, encoded, rows, micro, weight, TokenLoss.CROSS_ENTROPY);
  }

  /**
   * Accumulates the gradient of {@code weight} × Σ_t mask_t·ℓ_t / Σ_t mask_t, the per-token loss
   * ℓ of {@code loss} averaged over the trained target tokens of all {@code rows} (each
   * micro-batch's sum is divided by the step's token count before backward).
   */
  public static Accumulated accumulate(Qwen2Model model, List<SftEncoder.Encoded> encoded, List<SftBatcher.Row> rows,
      int micro, double weight, TokenLoss loss) {
    List<SftBatcher.Batch> batches = new ArrayList<>();
    long n = 0;
    long real = 0;
    for (int i = 0; i < rows.size(); i += micro) {
      SftBatcher.Batch b = SftBatcher.batch(encoded, rows.subList(i, Math.min(rows.size(), i + micro)));
      batches.add(b);
      n += b.targetTokens();
      real += b.realTokens();
    }
    if (n == 0) {
      return new Accumulated(Double.NaN, Double.NaN, 0, real);
    }
    double total = 0;
    double correct = 0;
    Map<String, Double> partSums = new LinkedHashMap<>();
    for (SftBatcher.Batch b : batches) {
      try (NDManager s = Devices.manager(model.device())) {
        NDArray prepared = loss.prepare(s, b); // outside the gradient collector: no graph
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray ids = s.create(b.ids());
          NDArray logits = model.logits(s, ids, s.create(b.segments()), s.create(b.positions())).get(":, :-1, :");
          NDArray targets = ids.get(":, 1:");
          NDArray mask = s.create(b.lossMask());
          Map<String, NDArray> parts = new LinkedHashMap<>();
          NDArray perToken = loss.perToken(logits, targets, prepared, parts);
          NDArray part = Nd.div(perToken.mul(mask).sum(), n / weight);
          double v = part.getFloat();
          if (!Double.isFinite(v)) {
            return new Accumulated(Double.NaN, Double.NaN, n, real);
          }
          gc.backward(part);
          total += v;
          for (var e : parts.entrySet()) {
            double sum = e.getValue().stopGradient().mul(mask).sum().getFloat();
            partSums.merge(e.getKey(), sum / n, Double::sum);
          }
          NDArray hit = logits.stopGradient().argMax(-1).eq(targets).toType(DataType.FLOAT32, false).mul(mask);
          correct += hit.sum().getFloat();
        }
      }
    }
    return new Accumulated(total, correct / n, n, real, partSums);
  }

  /**
   * Loss and token accuracy on held-out examples (TRL's {@code eval_loss} /
   * {@code eval_mean_token_accuracy}): packed in order, forward only, mean over trained targets.
   */
  public static double[] evalLoss(Qwen2Model model, List<SftEncoder.Encoded> set, int micro, int maxLength) {
    int[] order = new int[set.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    List<SftBatcher.Row> rows = SftBatcher.rows(set, order, maxLength, true);
    double nll = 0;
    double correct = 0;
    long n = 0;
    for (int i = 0; i < rows.size(); i += micro) {
      SftBatcher.Batch b = SftBatcher.batch(set, rows.subList(i, Math.min(rows.size(), i + micro)));
      try (NDManager s = Devices.manager(model.device())) {
        NDArray ids = s.create(b.ids());
        NDArray logits = model.logits(s, ids, s.create(b.segments()), s.create(b.positions())).get(":, :-1, :");
        NDArray targets = ids.get(":, 1:");
        NDArray mask = s.create(b.lossMask());
        nll -= LogProbs.of(logits, targets, 1.0).mul(mask).sum().getFloat();
        correct += logits.argMax(-1).eq(targets).toType(DataType.FLOAT32, false).mul(mask).sum().getFloat();
        n += b.targetTokens();
      }
    }
    return new double[] {nll / Math.max(1, n), correct / Math.max(1, n)};
  }

  /** One optimizer step over the step's rows (micro-batches of per_device_train_batch_size). */
  private static StepOut step(Qwen2Model model, AdamW opt, List<SftEncoder.Encoded> encoded, List<SftBatcher.Row> rows,
      TrainingSettings t, double lr, TokenLoss loss) {
    opt.zeroGrad();
    Accumulated a = accumulate(model, encoded, rows, t.perDeviceTrainBatchSize(), 1.0, loss);
    boolean finite = Double.isFinite(a.loss());
    double norm = Double.NaN;
    if (finite) {
      norm = AdamW.clipGradNorm(model.parameters().values(), t.maxGradNorm());
      finite = Double.isFinite(norm);
    }
    if (!finite) {
      opt.zeroGrad();
      return new StepOut(Double.NaN, Double.NaN, norm, a.realTokens(), true, Map.of());
    }
    opt.step(lr);
    opt.zeroGrad();
    return new StepOut(a.loss(), a.accuracy(), norm, a.realTokens(), false, a.parts());
  }

  private static void saveCheckpoint(Path out, long step, long total, long skipped, double epoch, Models.Loaded loaded,
      AdamW opt, TrainingSettings t, int rowsPerStep) {
    RunFolder.writeCheckpoint(out, step, loaded, opt, state(out, step, total, skipped, epoch, t, rowsPerStep), t.saveTotalLimit());
  }

  /** trainer_state.json: transformers' fields and log_history, plus the count of skipped non-finite steps. */
  private static ObjectNode state(Path out, long step, long total, long skipped, double epoch, TrainingSettings t,
      int rowsPerStep) {
    ObjectNode own = JSON.createObjectNode();
    own.put("skipped_nonfinite", skipped);
    return TrainerState.of(out.resolve(RunFolder.METRICS_FILE), step, total, epoch, t, rowsPerStep, own);
  }

}
