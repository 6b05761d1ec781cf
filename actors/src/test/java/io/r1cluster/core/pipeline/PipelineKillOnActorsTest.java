package io.r1cluster.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.r1cluster.actors.cli.EmbeddedGrpoRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link PipelineKillTest} with the actors on the class path: the pipeline's GRPO stage runs on the
 * embedded actor system ({@link EmbeddedGrpoRuntime}, found by {@link GrpoStageRuntime#find()}), in the
 * killed child JVM and in both runs of this one. With {@code max_staleness: 0} the resumed run ends with
 * the uninterrupted run's per-step rewards and bit-identical weights.
 */
@Timeout(600)
class PipelineKillOnActorsTest extends PipelineKillTest {
  /**
   * The resumed run's rollouts sample what the uninterrupted run's did because a prompt's sampling
   * seed comes from the run seed, its key and its attempt number, not from the ledger's dispatch
   * counter, which restarts with the resumed ledger (the cause of a step-3 divergence seen earlier).
   */
  @Override
  @Test
  void aPipelineKilledWithSigkillMidGrpoResumesToTheUninterruptedResult(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    super.aPipelineKilledWithSigkillMidGrpoResumesToTheUninterruptedResult(dir);
  }

  @Test
  void theRuntimeIsTheEmbeddedActorSystem() {
    GrpoStageRuntime r = GrpoStageRuntime.find();
    assertNotNull(r);
    assertEquals(EmbeddedGrpoRuntime.NAME, r.name());
  }
}
