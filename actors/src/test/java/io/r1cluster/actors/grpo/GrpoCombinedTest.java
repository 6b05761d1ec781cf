package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code type: combined} on the actor learner: GRPO plus sft_loss_weight x the SFT loss on trace rows, one optimizer step. */
@ExtendWith(TestKitJUnit5Extension.class)
class GrpoCombinedTest {

  @JUnit5TestKit
  ActorTestKit testKit = new JUnit5TestKitBuilder().withName("r1")
      .withCustomConfig(GrpoFixtures.node(GrpoFixtures.ALL_ROLES, "")).build();

  @TempDir Path tmp;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void combinedStageAddsTheSftLossToEveryStep() throws Exception {
    Path model = GrpoFixtures.tinyModel(tmp.resolve("model"));
    Path data = GrpoFixtures.demoData(tmp.resolve("data"), 8);
    // the fixture's GRPO settings (staleness 1, 2 prompts per step, 1 epoch), as a combined stage of 3 steps
    Path recipe = GrpoFixtures.recipe(tmp, model, data, 1, 2, 1, """
        max_length: 96
        pipeline:
          - name: combined
            type: combined
            max_steps: 3
            sft_loss_weight: 0.5""");
    GrpoJob job = GrpoFixtures.startAlone(testKit.system(), recipe, null);
    try {
      GrpoJob.RunResult r = job.done().get(100, TimeUnit.SECONDS);
      assertEquals(3, r.steps());
      List<String> lines = Files.readAllLines(r.outputDir().resolve("metrics.jsonl"));
      assertEquals(3, lines.size());
      for (String line : lines) {
        JsonNode m = new ObjectMapper().readTree(line);
        assertTrue(m.path("aux_loss").isNumber(), "each step logs its SFT part: " + m);
        assertTrue(m.get("aux_loss").asDouble() > 0, "sft_loss_weight x a positive cross-entropy: " + m);
        assertTrue(m.path("loss").isNumber() && m.has("reward"), m.toString());
      }
      assertTrue(Files.isRegularFile(r.outputDir().resolve("model.safetensors")));
    } finally {
      job.close();
    }
  }
}
