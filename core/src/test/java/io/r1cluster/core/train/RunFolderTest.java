package io.r1cluster.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training-run folder's own rules: which checkpoints count, event intervals, and its metrics.jsonl. */
class RunFolderTest {
  @TempDir Path out;

  void checkpoint(String name, boolean complete) throws Exception {
    Path d = Files.createDirectories(out.resolve(name));
    if (complete) {
      Files.writeString(d.resolve(RunFolder.STATE_FILE), "{}");
    }
  }

  @Test
  void onlyCompleteCheckpointsCountInStepOrder() throws Exception {
    assertNull(RunFolder.latestCheckpoint(out.resolve("missing")));
    checkpoint("checkpoint-10", true);
    checkpoint("checkpoint-2", true);
    checkpoint("checkpoint-11", false); // a run killed while writing it
    checkpoint("checkpoint-x", true);
    assertEquals(List.of(out.resolve("checkpoint-2"), out.resolve("checkpoint-10")), RunFolder.checkpoints(out));
    assertEquals(out.resolve("checkpoint-10"), RunFolder.latestCheckpoint(out));
    RunFolder.deleteTree(out.resolve("checkpoint-10"));
    assertEquals(out.resolve("checkpoint-2"), RunFolder.latestCheckpoint(out));
  }

  @Test
  void intervalsAreStepCountsOrFractionsOfTheRun() {
    assertEquals(10, RunFolder.interval(10, 100));
    assertEquals(3, RunFolder.interval(0.25, 10), "ceil(0.25 x 10)");
    assertEquals(1, RunFolder.interval(0, 10), "at least every step");
  }

  @Test
  void aResumedMetricsLogKeepsEachStepOnceAndStepRecordsWriteNonFiniteAsNull() throws Exception {
    Path f = out.resolve(RunFolder.METRICS_FILE);
    try (MetricsLog m = new MetricsLog(f, 0)) {
      for (int s = 1; s <= 4; s++) {
        m.log(s, Map.of("loss", 1.0 / s));
      }
    }
    // resumed from checkpoint-2: steps 3 and 4 of the interrupted run are dropped, then written again
    try (MetricsLog m = new MetricsLog(f, 2)) {
      Map<String, Double> rec = new LinkedHashMap<>();
      rec.put("loss", 0.5);
      rec.put("kl", Double.NaN);
      m.step(3, 0.75, rec);
    }
    List<String> lines = Files.readAllLines(f);
    assertEquals(3, lines.size());
    JsonNode last = new ObjectMapper().readTree(lines.get(2));
    assertEquals(List.of("step", "epoch", "loss", "kl"), iterable(last));
    assertEquals(3, last.get("step").asInt());
    assertEquals(0.75, last.get("epoch").asDouble());
    assertTrue(last.get("kl").isNull(), "NaN is written as null: " + last);
    assertEquals(3, MetricsLog.read(f).get("loss").length, "loss at steps 1, 2 and 3");
  }

  private static List<String> iterable(JsonNode n) {
    List<String> names = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
