package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * DAPO dynamic sampling: groups whose rewards all agree are consumed without a gradient, at most
 * (max_num_gen_batches - 1) batches' worth per step; every prompt is still consumed exactly once.
 * (The untrained tiny model earns reward 0 everywhere, so every group has zero spread.)
 */
class GrpoDynamicSamplingTest {
  @TempDir Path tmp;
  private ActorTestKit kit;
  private GrpoJob job;

  @AfterEach
  void stop() {
    if (kit != null) {
      kit.shutdownTestKit();
    }
    if (job != null) {
      job.close();
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void zeroSpreadGroupsAreSkippedWithinTheBound() throws Exception {
    Path recipe = GrpoFixtures.recipe(tmp, GrpoFixtures.tinyModel(tmp.resolve("model")),
        GrpoFixtures.demoData(tmp.resolve("data"), 8), 1, 2, 1, "  dynamic_sampling: true\n  max_num_gen_batches: 2");
    kit = ActorTestKit.create("r1", GrpoFixtures.node(GrpoFixtures.ALL_ROLES, ""));
    job = GrpoFixtures.startAlone(kit.system(), recipe, null);
    GrpoJob.RunResult r = job.done().get(100, TimeUnit.SECONDS);
    PromptLedger.Counters k = r.counters();
    assertEquals(4, k.filtered(), "2 skipped per step: " + k);
    assertEquals(4, k.trained(), "then 2 trained per step: " + k);
    assertEquals(2, r.steps());
    // the trained groups, from the learner's step reports: 2 per step, no prompt twice
    StepReports.assertNoPromptTwice(r.outputDir(), 2, 2);
  }
}
