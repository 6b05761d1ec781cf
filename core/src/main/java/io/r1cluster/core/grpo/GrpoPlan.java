package io.r1cluster.core.grpo;

import io.r1cluster.core.InputException;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.optim.LrSchedule;
import io.r1cluster.core.recipe.ClusterSettings;
import io.r1cluster.core.recipe.GrpoSettings;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.recipe.TrainingSettings;
import java.nio.file.Path;
import java.util.List;

/**
 * The numbers a GRPO or combined stage runs by, derived once from its resolved recipe settings and the
 * size of its training split; every GRPO path (the in-process {@link GrpoTrainer}, the actors' job) takes
 * them from here and computes none of them itself.
 *
 * <pre>
 *   prompts per step  P = cluster.prompts_per_step, else max(1, per_device_train_batch_size ×
 *                         gradient_accumulation_steps / num_generations)
 *   steps per epoch   E = ⌈N / P⌉                      (N prompts in the train split)
 *   total steps       S = max_steps when &gt; 0, else ⌈num_train_epochs × E⌉   (transformers' Trainer)
 *   epochs drawn      K = max(1, ⌈S × P / N⌉)          (whole seeded permutations the prompts come from)
 *   warm-up           warmup_steps when &gt; 0, else ⌈warmup_ratio × S⌉
 * </pre>
 *
 * Every step trains P prompts × num_generations completions (dynamic sampling refills filtered groups
 * to P); the prompts come in the order of one seeded permutation per epoch, continuing across epoch
 * boundaries, so a step never trains a short batch and both paths train S × P prompt draws.
 *
 * @param kind {@code grpo} or {@code combined}
 * @param numPrompts N, prompts in the train split
 * @param promptsPerStep P
 * @param stepsPerEpoch E
 * @param totalSteps S
 * @param epochs K
 * @param warmupSteps learning-rate warm-up steps
 * @param learner the learner's loss and optimizer settings
 * @param sampling the rollouts' sampling settings
 * @param seed {@code seed}: prompt order, sampling and (demo model) initialisation
 */
public record GrpoPlan(
    StageType kind, int numPrompts, int promptsPerStep, int stepsPerEpoch, int totalSteps, int epochs, int warmupSteps,
    GrpoConfig learner, Sampling sampling, long seed) {

  /**
   * Sampling settings of the rollouts (vLLM / TRL names).
   *
   * @param numGenerations G completions per prompt
   * @param maxPromptLength prompts are cut to their last {@code maxPromptLength} tokens (TRL's left truncation)
   * @param maxCompletionLength new tokens per completion
   * @param temperature sampling temperature
   * @param topP nucleus mass (1 = off)
   * @param topK top-k (0 = off)
   * @param minP min-p (0 = off)
   */
  public record Sampling(int numGenerations, int maxPromptLength, int maxCompletionLength, double temperature,
      double topP, int topK, double minP) {

    /** The sampler's parameters, stopping at {@code eosIds}. */
    public SamplingParams params(List<Integer> eosIds) {
      return new SamplingParams(temperature, topP, topK, minP, maxCompletionLength, eosIds, List.of());
    }
  }

  /**
   * The plan of a GRPO / combined stage.
   *
   * @param s the stage's resolved settings
   * @param numPrompts prompts in its train split (&gt; 0)
   * @param recipeFile named in errors
   */
  public static GrpoPlan of(RecipeSettings s, int numPrompts, Path recipeFile) {
    if (numPrompts < 1) {
      throw new InputException(recipeFile, 0, "dataset_name", "the train split has no prompts");
    }
    TrainingSettings t = s.training();
    GrpoSettings g = s.grpo();
    ClusterSettings c = s.cluster();
    int pps = promptsPerStep(s);
    if (pps < 1) {
      throw new InputException(recipeFile, 0, "cluster.prompts_per_step", "must be at least 1, got " + pps);
    }
    int perEpoch = (int) ((numPrompts + (long) pps - 1) / pps);
    long total = t.maxSteps() > 0 ? t.maxSteps() : (long) Math.ceil(t.numTrainEpochs() * perEpoch);
    if (total < 1) {
      throw new InputException(recipeFile, 0, "num_train_epochs", "gives no training step (num_train_epochs "
          + t.numTrainEpochs() + ", " + perEpoch + " steps per epoch); set num_train_epochs > 0 or max_steps");
    }
    if (total > Integer.MAX_VALUE / 2) {
      throw new InputException(recipeFile, 0, "max_steps", "too many steps: " + total);
    }
    int epochs = (int) Math.max(1, (total * pps + numPrompts - 1) / numPrompts);
    int warmup = t.warmupSteps() > 0 ? t.warmupSteps() : LrSchedule.warmupSteps(t.warmupRatio(), (int) total);
    GrpoConfig learner = g.toLearnerConfig(t, t.perDeviceTrainBatchSize());
    Sampling sampling = new Sampling(g.numGenerations(), g.maxPromptLength(), g.maxCompletionLength(), g.temperature(),
        g.topP(), g.topK() == null ? 0 : g.topK(), g.minP() == null ? 0 : g.minP());
    if (c.maxStaleness() < c.weightSyncSteps() - 1) {
      throw new InputException(recipeFile, 0, "cluster.weight_sync_steps", "weights every " + c.weightSyncSteps()
          + " steps make groups up to " + (c.weightSyncSteps() - 1) + " versions old; raise max_staleness to at least that");
    }
    return new GrpoPlan(s.kind(), numPrompts, pps, perEpoch, (int) total, epochs, warmup, learner, sampling, t.seed());
  }

  /** P: {@code cluster.prompts_per_step}, else per_device_train_batch_size × gradient_accumulation_steps / G (at least 1). */
  public static int promptsPerStep(RecipeSettings s) {
    TrainingSettings t = s.training();
    Integer fixed = s.cluster().promptsPerStep();
    return fixed != null ? fixed
        : Math.max(1, t.perDeviceTrainBatchSize() * t.gradientAccumulationSteps() / s.grpo().numGenerations());
  }

  /** The learning-rate schedule over {@link #totalSteps} with {@link #warmupSteps}. */
  public LrSchedule schedule(TrainingSettings t) {
    return LrSchedule.of(t.lrSchedulerType().hfName(), t.learningRate(), totalSteps, warmupSteps, t.lrSchedulerKwargs());
  }

  /** Whether this is the combined stage (GRPO + {@code sft_loss_weight} × SFT in the same step). */
  public boolean combined() {
    return kind == StageType.COMBINED;
  }

  /**
   * At most this many groups are filtered (dynamic sampling: zero reward spread) before a step trains
   * what it has: (max_num_gen_batches − 1) × P, or one epoch's worth when max_num_gen_batches is 0 (unlimited).
   */
  public int filterBudget(int maxNumGenBatches) {
    return maxNumGenBatches <= 0 ? numPrompts : promptsPerStep * Math.max(0, maxNumGenBatches - 1);
  }

  /**
   * The policy a GRPO stage starts from: the {@code checkpoint-N} it resumes from, else the recipe's model
   * ({@code demo} / {@code demo-small}: the built-in config and tokenizer, initialised from {@code seed},
   * the tokenizer written under {@code workDir}); float32 master weights on the recipe's device.
   */
  public static Models.Loaded loadPolicy(RecipeSettings s, Path resumeFrom, Path workDir) {
    return resumeFrom != null ? Models.resumeForTraining(resumeFrom, s.model())
        : Models.load(s.model(), s.training().seed(), workDir);
  }
}
