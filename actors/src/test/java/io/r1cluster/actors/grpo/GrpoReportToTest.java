package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.train.TfEventReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.testkit.typed.annotations.JUnit5TestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.JUnit5TestKitBuilder;
import org.apache.pekko.actor.testkit.typed.javadsl.TestKitJUnit5Extension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code report_to: tensorboard} on the cluster GRPO driver: every step's metrics as scalars, and trainer_state.json's log_history. */
@ExtendWith(TestKitJUnit5Extension.class)
class GrpoReportToTest {

  @JUnit5TestKit
  ActorTestKit testKit = new JUnit5TestKitBuilder().withName("r1")
      .withCustomConfig(GrpoFixtures.node(GrpoFixtures.ALL_ROLES, "")).build();

  @TempDir Path tmp;

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void everyStepReachesTheEventFileAndTheLogHistory() throws Exception {
    Path tb = tmp.resolve("tb");
    Path recipe = GrpoFixtures.recipe(tmp, GrpoFixtures.tinyModel(tmp.resolve("model")),
        GrpoFixtures.demoData(tmp.resolve("data"), 4), 1, 2, 1, "report_to: tensorboard\nlogging_dir: " + tb + "\n");
    GrpoJob job = GrpoFixtures.startAlone(testKit.system(), recipe, null);
    try {
      GrpoJob.RunResult r = job.done().get(100, TimeUnit.SECONDS);
      assertEquals(2, r.steps());
      ObjectMapper json = new ObjectMapper();
      List<String> lines = Files.readAllLines(r.outputDir().resolve("metrics.jsonl"));
      assertEquals(2, lines.size());
      List<Path> files;
      try (Stream<Path> s = Files.list(tb)) {
        files = s.toList();
      }
      assertEquals(1, files.size());
      List<TfEventReader.Event> ev = TfEventReader.read(files.get(0));
      assertEquals(1 + 2, ev.size());
      for (int i = 0; i < 2; i++) {
        JsonNode rec = json.readTree(lines.get(i));
        TfEventReader.Event e = ev.get(i + 1);
        assertEquals(i + 1, e.step());
        for (String k : List.of("loss", "reward", "kl", "staleness/max", "queue/in_flight", "weights/version", "epoch")) {
          assertEquals((float) rec.get(k).asDouble(), e.scalars().get("train/" + k), k);
        }
      }
      JsonNode st = json.readTree(r.outputDir().resolve("trainer_state.json").toFile());
      JsonNode h = st.get("log_history");
      assertEquals(3, h.size()); // two steps and the train_runtime entry
      assertEquals(json.readTree(lines.get(1)).get("reward"), h.get(1).get("reward"));
      assertEquals(2, h.get(2).get("step").asInt());
      assertTrue(h.get(2).get("train_runtime").asDouble() > 0);
      assertEquals(2, st.get("global_step").asInt());
    } finally {
      job.close();
    }
  }
}
