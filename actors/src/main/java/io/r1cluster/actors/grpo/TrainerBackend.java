package io.r1cluster.actors.grpo;

import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.grpo.GrpoLearner;
import io.r1cluster.core.optim.AdamW;
import java.util.function.LongFunction;

/**
 * What the {@link Learner} trains with: {@link GrpoLearner} on the policy, or — in benchmarks
 * only, and named as such — a simulated learner. Called on the learner thread only.
 */
public interface TrainerBackend extends AutoCloseable {

  /** One optimizer step at policy version {@code version}. */
  GrpoLearner.StepResult step(TrainBatch batch, long version);

  /** The weights to publish as {@code version}. */
  WeightSnapshot export(long version);

  /** The optimizer whose state a checkpoint holds; null when there is none to save (simulated). */
  default AdamW optimizer() {
    return null;
  }

  @Override
  void close();

  /** The real learner. */
  static TrainerBackend of(GrpoLearner learner) {
    return of(learner, null);
  }

  /**
   * The real learner; {@code aux} (may be null) gives the extra loss of the step with the given
   * 0-based optimizer-step index (the combined stage's SFT term).
   */
  static TrainerBackend of(GrpoLearner learner, LongFunction<GrpoLearner.AuxiliaryLoss> aux) {
    return of(learner, aux, io.r1cluster.core.checkpoint.DType.F32);
  }

  /**
   * As {@link #of(GrpoLearner, LongFunction)}, exporting weights for the rollouts in {@code wire}:
   * BF16 when the recipe's {@code torch_dtype} is bfloat16 (half the bytes over Aeron; the rollout
   * engines then generate in bf16), else F32.
   */
  static TrainerBackend of(GrpoLearner learner, LongFunction<GrpoLearner.AuxiliaryLoss> aux,
      io.r1cluster.core.checkpoint.DType wire) {
    return new TrainerBackend() {
      @Override
      public GrpoLearner.StepResult step(TrainBatch batch, long version) {
        NoGrad.onThisThread();
        return learner.step(batch, version, aux == null ? null : aux.apply(learner.steps()));
      }

      @Override
      public WeightSnapshot export(long version) {
        return learner.exportWeights(version, wire);
      }

      @Override
      public AdamW optimizer() {
        return learner.optimizer();
      }

      @Override
      public void close() {
        learner.close();
      }
    };
  }
}
