package io.r1cluster.core.recipe;

/**
 * The {@code cluster:} section.
 *
 * @param maxStaleness policy versions a group may lag the learner (0 = synchronous)
 * @param promptsPerStep prompts per learner step, or null for batch × accumulation / num_generations
 * @param rolloutSlots generations each rollout node runs at once ({@code r1 member --slots N} wins over it)
 * @param weightSyncSteps learner steps between weight broadcasts
 * @param dynamicSampling DAPO dynamic sampling (drop groups whose rewards all agree)
 * @param maxNumGenBatches most generation batches per step under dynamic sampling (0 = unlimited)
 * @param offPolicyIsCap cap of the truncated importance weight for stale groups
 * @param transport weight transport
 * @param inflightWeightUpdate swap weights into the running batch between token steps, without draining (PipelineRL)
 */
public record ClusterSettings(
    int maxStaleness, Integer promptsPerStep, int rolloutSlots, int weightSyncSteps, boolean dynamicSampling,
    int maxNumGenBatches, double offPolicyIsCap, Transport transport, boolean inflightWeightUpdate) {}
