package io.r1cluster.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.grpo.CompletionLog;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run's JSON Lines files after a kill: torn lines cut, steps past the resumed checkpoint dropped. */
class JsonLinesTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<Long> steps(Path f) {
    return JsonLines.read(f).stream().map(n -> n.path("step").asLong()).toList();
  }

  private static ObjectNode rec(long step) {
    return JSON.createObjectNode().put("step", step).put("loss", 0.5);
  }

  @Test
  void aLineTornByAKillIsCutAndTheNextRecordStartsOnItsOwnLine(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("steps.jsonl");
    Files.writeString(f, "{\"step\":1}\n{\"step\":2}\n{\"step\":3,\"prom", StandardCharsets.UTF_8);
    try (JsonLines log = JsonLines.open(f, JsonLines.KEEP_ALL)) {
      log.append(rec(3));
    }
    assertEquals(List.of(1L, 2L, 3L), steps(f));
  }

  @Test
  void resumingDropsTheStepsAfterTheCheckpointAndATornLine(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("metrics.jsonl");
    Files.writeString(f, "{\"step\":1}\n{\"step\":2}\n{\"step\":3}\n\n{\"step\":4}\n{\"step\":5,\"lo", StandardCharsets.UTF_8);
    try (MetricsLog log = new MetricsLog(f, 2)) {
      log.step(3, 0.1, Map.of("loss", 0.25));
    }
    assertEquals(List.of(1L, 2L, 3L), steps(f));
    assertEquals(0.25, JsonLines.read(f).get(2).path("loss").asDouble());
    assertTrue(Files.notExists(dir.resolve("metrics.jsonl.tmp")), "no leftover");
  }

  @Test
  void completionRowsOfAResumedRunAreLoggedOnce(@TempDir Path dir) throws Exception {
    Path f = dir.resolve(CompletionLog.FILE);
    Files.writeString(f, "{\"step\":10,\"completion\":\"a\"}\n{\"step\":20,\"completion\":\"b\"}\n{\"step\":20,\"compl",
        StandardCharsets.UTF_8);
    new CompletionLog(dir, 10).close();
    assertEquals(List.of(10L), steps(f));
  }

  @Test
  void aBatchLongerThanAnyWriterBufferIsWholeLines(@TempDir Path dir) {
    Path f = dir.resolve("completions.jsonl");
    String big = "x".repeat(20_000);
    try (JsonLines log = JsonLines.open(f, 0)) {
      log.appendAll(List.of(rec(1).put("completion", big), rec(1).put("completion", big)));
    }
    List<JsonNode> rows = JsonLines.read(f);
    assertEquals(2, rows.size());
    assertEquals(big, rows.get(1).path("completion").asText());
  }

  @Test
  void aDamagedLineInsideTheFileIsNamedNotSkipped(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("metrics.jsonl");
    Files.writeString(f, "{\"step\":1}\n{\"step\":2,,}\n{\"step\":3}\n", StandardCharsets.UTF_8);
    UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> JsonLines.open(f, 5));
    assertTrue(e.getMessage().contains("metrics.jsonl line 2"), e.getMessage());
    assertEquals("{\"step\":1}\n{\"step\":2,,}\n{\"step\":3}\n", Files.readString(f), "left as it was");
  }
}
