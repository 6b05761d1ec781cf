package io.r1cluster.core.model.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.SafeTensors;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code r1 logits} on the transformers-made tiny-qwen2 fixture: row 1 is the fixture's first row
 * (positions 0..7), row 2 the unpadded part of its left-padded second row (positions 0..5), so the
 * printed logits must equal transformers' logits at [0, 7] and [1, 7].
 */
class LogitsCommandTest {
  @Test
  void lastPositionLogitsMatchTransformers() throws Exception {
    Path dir = Paths.get(getClass().getResource("/fixtures/tiny-qwen2/model.safetensors").toURI()).getParent();
    LogitsCommand c = new LogitsCommand();
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    c.out = new PrintStream(buf, true, StandardCharsets.UTF_8);
    int rc = new CommandLine(c).execute("--model", dir.toString(), "--ids", "5,17,3,44,9,60,2,31; 12,7,51,23,8,40");
    assertEquals(0, rc);
    JsonNode got = new ObjectMapper().readTree(buf.toString(StandardCharsets.UTF_8)).get("logits");
    assertEquals(2, got.size());
    float[] want = SafeTensors.read(dir.resolve("logits.safetensors")).get("logits").toFloats(); // [2,8,64]
    double max = 0;
    for (int r = 0; r < 2; r++) {
      assertEquals(64, got.get(r).size());
      for (int k = 0; k < 64; k++) {
        max = Math.max(max, Math.abs(got.get(r).get(k).floatValue() - want[(r * 8 + 7) * 64 + k]));
      }
    }
    assertTrue(max <= 1e-4, "max |diff| " + max);
  }

  @Test
  void badIdsNameTheOption() {
    InputException e = assertThrows(InputException.class, () -> LogitsCommand.parseIds("1,x", 64));
    assertTrue(e.getMessage().contains("--ids: row 1: 'x' is not an integer"), e.getMessage());
    e = assertThrows(InputException.class, () -> LogitsCommand.parseIds("1;64", 64));
    assertTrue(e.getMessage().contains("id 64 is outside the vocabulary [0, 64)"), e.getMessage());
    e = assertThrows(InputException.class, () -> LogitsCommand.parseIds("1;", 64));
    assertTrue(e.getMessage().contains("row 2 is empty"), e.getMessage());
  }
}
