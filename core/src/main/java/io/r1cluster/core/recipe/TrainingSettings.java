package io.r1cluster.core.recipe;

import java.util.Map;

/**
 * Optimizer, schedule, batching, logging and checkpoint keys (transformers {@code TrainingArguments}).
 * Defaults are the upstream ones for the stage's trainer (learning rate: SFT 2e-5, GRPO 1e-6, else 5e-5).
 *
 * @param outputDir {@code output_dir}
 * @param overwriteOutputDir {@code overwrite_output_dir}
 * @param learningRate {@code learning_rate}
 * @param lrSchedulerType {@code lr_scheduler_type} (linear)
 * @param lrSchedulerKwargs {@code lr_scheduler_kwargs} (e.g. {@code min_lr_rate})
 * @param warmupRatio {@code warmup_ratio} (0)
 * @param warmupSteps {@code warmup_steps} (0; wins over the ratio when &gt; 0)
 * @param numTrainEpochs {@code num_train_epochs} (3)
 * @param maxSteps {@code max_steps} (−1 = from epochs)
 * @param perDeviceTrainBatchSize {@code per_device_train_batch_size} (8)
 * @param gradientAccumulationSteps {@code gradient_accumulation_steps} (1)
 * @param maxGradNorm {@code max_grad_norm} (1.0)
 * @param weightDecay {@code weight_decay} (0)
 * @param adamBeta1 {@code adam_beta1} (0.9)
 * @param adamBeta2 {@code adam_beta2} (0.999)
 * @param adamEpsilon {@code adam_epsilon} (1e-8)
 * @param seed {@code seed} (42)
 * @param loggingStrategy {@code logging_strategy} (steps)
 * @param loggingSteps {@code logging_steps} (500; a value &lt; 1 is a fraction of the total steps)
 * @param loggingFirstStep {@code logging_first_step}
 * @param saveStrategy {@code save_strategy} (steps)
 * @param saveSteps {@code save_steps} (500; a value &lt; 1 is a fraction of the total steps)
 * @param saveTotalLimit {@code save_total_limit} (0 = keep all)
 * @param evalStrategy {@code eval_strategy} (no)
 * @param evalSteps {@code eval_steps} (null = logging_steps)
 * @param resumeFromCheckpoint {@code resume_from_checkpoint} (null = the latest in output_dir, if any)
 */
public record TrainingSettings(
    String outputDir, boolean overwriteOutputDir, double learningRate, LrSchedulerType lrSchedulerType,
    Map<String, Object> lrSchedulerKwargs, double warmupRatio, int warmupSteps, double numTrainEpochs, int maxSteps,
    int perDeviceTrainBatchSize, int gradientAccumulationSteps, double maxGradNorm, double weightDecay,
    double adamBeta1, double adamBeta2, double adamEpsilon, long seed, IntervalStrategy loggingStrategy,
    double loggingSteps, boolean loggingFirstStep, IntervalStrategy saveStrategy, double saveSteps,
    int saveTotalLimit, IntervalStrategy evalStrategy, Double evalSteps, String resumeFromCheckpoint) {
  public TrainingSettings {
    lrSchedulerKwargs = lrSchedulerKwargs == null ? Map.of() : Map.copyOf(lrSchedulerKwargs);
  }

  /** {@code lr_scheduler_kwargs.min_lr_rate} (0 when not given). */
  public double minLrRate() {
    Object v = lrSchedulerKwargs.get("min_lr_rate");
    return v instanceof Number n ? n.doubleValue() : 0.0;
  }
}
