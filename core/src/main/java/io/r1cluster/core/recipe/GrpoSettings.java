package io.r1cluster.core.recipe;

import io.r1cluster.core.grpo.GrpoConfig;
import io.r1cluster.core.grpo.LossType;
import io.r1cluster.core.grpo.ScaleRewards;
import java.util.List;
import java.util.Map;

/**
 * GRPO keys (TRL {@code GRPOConfig}, open-r1 {@code GRPOScriptArguments}, and the newer variants).
 *
 * @param numGenerations {@code num_generations} (8)
 * @param maxPromptLength {@code max_prompt_length} (512)
 * @param maxCompletionLength {@code max_completion_length} (256)
 * @param temperature {@code temperature} (1.0)
 * @param topP {@code top_p} (1.0)
 * @param topK {@code top_k} (null = off)
 * @param minP {@code min_p} (null = off)
 * @param beta {@code beta} (0.04)
 * @param numIterations {@code num_iterations} (1)
 * @param epsilon {@code epsilon} (0.2)
 * @param epsilonHigh {@code epsilon_high} (= epsilon when not given)
 * @param delta {@code delta} (null = off)
 * @param scaleRewards {@code scale_rewards} (group; {@code true} = group, {@code false} = none)
 * @param lossType {@code loss_type} (bnpo)
 * @param importanceSamplingLevel {@code importance_sampling_level} (token)
 * @param maskTruncatedCompletions {@code mask_truncated_completions}
 * @param syncRefModel {@code sync_ref_model}
 * @param refModelMixupAlpha {@code ref_model_mixup_alpha} (0.6)
 * @param refModelSyncSteps {@code ref_model_sync_steps} (512)
 * @param rewardFuncs {@code reward_funcs} (accuracy, format, tag_count)
 * @param rewardWeights {@code reward_weights} (null = all 1)
 * @param rewardKwargs parameters of the reward functions ({@code cosine_*}, {@code repetition_*}, {@code code_*}, …)
 * @param generationBatchSize {@code generation_batch_size} (null = batch × accumulation)
 * @param shuffleDataset {@code shuffle_dataset} (true)
 * @param logCompletions {@code log_completions}
 * @param dynamicSampling {@code dynamic_sampling}
 * @param maxNumGenBatches {@code max_num_gen_batches} (10)
 * @param offPolicyIsCap {@code off_policy_is_cap} (2.0)
 * @param topEntropyQuantile {@code top_entropy_quantile} (1.0 = every completion token)
 * @param stepsPerGeneration {@code steps_per_generation} (null = gradient_accumulation_steps; other values are rejected)
 */
public record GrpoSettings(
    int numGenerations, int maxPromptLength, int maxCompletionLength, double temperature, double topP, Integer topK,
    Double minP, double beta, int numIterations, double epsilon, double epsilonHigh, Double delta,
    ScaleRewards scaleRewards, LossType lossType, GrpoConfig.IsLevel importanceSamplingLevel,
    boolean maskTruncatedCompletions, boolean syncRefModel, double refModelMixupAlpha, int refModelSyncSteps,
    List<String> rewardFuncs, List<Double> rewardWeights, Map<String, Object> rewardKwargs,
    Integer generationBatchSize, boolean shuffleDataset, boolean logCompletions, boolean dynamicSampling,
    int maxNumGenBatches, double offPolicyIsCap, double topEntropyQuantile, Integer stepsPerGeneration) {
  public GrpoSettings {
    rewardFuncs = List.copyOf(rewardFuncs);
    rewardWeights = rewardWeights == null ? null : List.copyOf(rewardWeights);
    rewardKwargs = Map.copyOf(rewardKwargs);
  }

  /**
   * The learner's config from these settings and the training settings.
   *
   * @param training optimizer settings of the same stage
   * @param microBatch sequences per forward/backward
   */
  public GrpoConfig toLearnerConfig(TrainingSettings training, int microBatch) {
    return GrpoConfig.builder().beta(beta).epsilon(epsilon).epsilonHigh(epsilonHigh).delta(delta == null ? 0 : delta)
        .lossType(lossType).scaleRewards(scaleRewards).numIterations(numIterations)
        .importanceSamplingLevel(importanceSamplingLevel).maskTruncatedCompletions(maskTruncatedCompletions)
        .offPolicyIsCap(offPolicyIsCap).maxCompletionLength(maxCompletionLength).microBatch(microBatch)
        .temperature(temperature).learningRate(training.learningRate()).maxGradNorm(training.maxGradNorm())
        .weightDecay(training.weightDecay()).adam(training.adamBeta1(), training.adamBeta2(), training.adamEpsilon())
        .topEntropyQuantile(topEntropyQuantile).build();
  }
}
