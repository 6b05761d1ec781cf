package io.r1cluster.actors.grpo;

import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.grpo.GrpoLearner;

/**
 * What the {@link Learner} trains with: {@link GrpoLearner} on the policy, or — in benchmarks
 * only, and named as such — a simulated learner. Called on the learner dispatcher only.
 */
public interface TrainerBackend extends AutoCloseable {

  /** One optimizer step at policy version {@code version}. */
  GrpoLearner.StepResult step(TrainBatch batch, long version);

  /** The weights to publish as {@code version}. */
  WeightSnapshot export(long version);

  @Override
  void close();

  /** The real learner. */
  static TrainerBackend of(GrpoLearner learner) {
    return new TrainerBackend() {
      @Override
      public GrpoLearner.StepResult step(TrainBatch batch, long version) {
        NoGrad.onThisThread();
        return learner.step(batch, version);
      }

      @Override
      public WeightSnapshot export(long version) {
        return learner.exportWeights(version, io.r1cluster.core.checkpoint.DType.F32);
      }

      @Override
      public void close() {
        learner.close();
      }
    };
  }
}
