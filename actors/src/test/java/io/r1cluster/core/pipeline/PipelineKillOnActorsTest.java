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
  @Test
  void theRuntimeIsTheEmbeddedActorSystem() {
    GrpoStageRuntime r = GrpoStageRuntime.find();
    assertNotNull(r);
    assertEquals(EmbeddedGrpoRuntime.NAME, r.name());
  }
}
