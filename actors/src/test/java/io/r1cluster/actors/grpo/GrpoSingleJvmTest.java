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

/** The embedded default: every role in one ActorSystem, real sharding, singleton, Aeron IPC, Kryo on every message. */
@ExtendWith(TestKitJUnit5Extension.class)
class GrpoSingleJvmTest {

  @JUnit5TestKit
  ActorTestKit testKit = new JUnit5TestKitBuilder().withName("r1")
      .withCustomConfig(GrpoFixtures.node(GrpoFixtures.ALL_ROLES, "")).build();

  @TempDir Path tmp;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void shortRunTrainsEveryPromptExactlyOnce() throws Exception {
    Path recipe = GrpoFixtures.recipe(tmp, GrpoFixtures.tinyModel(tmp.resolve("model")),
        GrpoFixtures.demoData(tmp.resolve("data"), 8), 1, 2, 2, "");
    GrpoJob job = GrpoFixtures.startAlone(testKit.system(), recipe, null);
    try {
      GrpoJob.RunResult r = job.done().get(100, TimeUnit.SECONDS);
      assertEquals(8, r.steps(), "2 epochs x 8 prompts / 2 per step");
      // each prompt once per epoch, counted from the learner's step reports, not the ledger's counters
      StepReports.assertEachPromptTrained(r.outputDir(), StepReports.promptIds(io.r1cluster.core.recipe.Recipe.load(recipe)
          .settings()), 2, 8);
      assertEquals(8, r.version(), "one policy version per step");
      List<String> lines = Files.readAllLines(r.outputDir().resolve("metrics.jsonl"));
      assertEquals(8, lines.size());
      JsonNode last = new ObjectMapper().readTree(lines.get(lines.size() - 1));
      for (String key : List.of("loss", "reward", "kl", "entropy", "staleness/max", "queue/in_flight",
          "rollout/tokens_per_s", "learner/idle_frac", "weights/push_ms", "weights/version", "ledger/dropped_stale")) {
        assertTrue(last.has(key), "metrics.jsonl has " + key + ": " + last);
      }
      assertTrue(last.get("staleness/max").asDouble() <= 1.0);
      assertTrue(Files.isRegularFile(r.outputDir().resolve("model.safetensors")));
      assertTrue(Files.isRegularFile(r.outputDir().resolve("config.json")));
      assertTrue(Files.isRegularFile(r.outputDir().resolve("tokenizer.json")));
      // the learner's figures reach this node's Prometheus series
      io.r1cluster.actors.metrics.R1Metrics r1 = io.r1cluster.actors.metrics.Metrics.get(testKit.system()).r1();
      assertEquals(last.get("weights/version").asDouble(), r1.weightsVersion.get());
      assertEquals(last.get("learner/idle_frac").asDouble(), r1.learnerIdleFraction.get());
      assertTrue(io.r1cluster.actors.metrics.Metrics.get(testKit.system()).scrape()
          .contains("r1_queue_depth{queue=\"in_flight\"}"));
    } finally {
      job.close();
    }
  }
}
