package io.r1cluster.core.recipe;

/**
 * Evaluation keys.
 *
 * @param doEval {@code do_eval}
 * @param evalAfterStage {@code eval_after_stage}: evaluate after every training stage of a pipeline
 * @param numSamples {@code eval_num_samples}: samples per prompt for pass@k (1 = greedy pass@1)
 * @param perDeviceEvalBatchSize {@code per_device_eval_batch_size}
 * @param temperature {@code eval_temperature}: sampling temperature when {@code numSamples > 1}
 * @param topP {@code eval_top_p}: nucleus sampling when {@code numSamples > 1}
 * @param maxNewTokens {@code eval_max_new_tokens}: longest completion (null = {@code max_completion_length})
 */
public record EvalSettings(boolean doEval, boolean evalAfterStage, int numSamples, int perDeviceEvalBatchSize,
    double temperature, double topP, Integer maxNewTokens) {}
