package io.r1cluster.core.reward.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.reward.PythonSandbox;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class RewardCommandTest {
  @TempDir Path dir;

  private List<JsonNode> run(String... lines) throws Exception {
    Path f = Files.writeString(dir.resolve("in.jsonl"), String.join("\n", lines) + "\n");
    RewardCommand c = new RewardCommand();
    c.jsonl = f;
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      assertEquals(0, c.call());
    } finally {
      System.setOut(old);
    }
    ObjectMapper json = new ObjectMapper();
    return buf.toString(StandardCharsets.UTF_8).lines().map(l -> {
      try {
        return json.readTree(l);
      } catch (Exception e) {
        throw new AssertionError(l, e);
      }
    }).toList();
  }

  @Test
  void codeRewardFromOpenR1VerificationInfo() throws Exception {
    assumeTrue(PythonSandbox.unavailableReason().isEmpty(), "SKIPPED: no isolating sandbox here");
    String good = "```python\\na, b = map(int, input().split())\\nprint(a + b)\\n```";
    String bad = "```python\\nprint(0)\\n```";
    // object form and the JSON-string form open-r1's datasets store
    String info = "{\"language\":\"python\",\"test_cases\":[{\"input\":\"2 3\\n\",\"output\":\"5\\n\"},{\"input\":\"1 1\\n\",\"output\":\"2\"}]}";
    String infoText = new ObjectMapper().writeValueAsString(info);
    List<JsonNode> out = run(
        "{\"reward\":\"code\",\"completions\":[\"" + good + "\",\"" + bad + "\",\"no code\"],"
            + "\"verification_info\":[" + info + "," + infoText + "," + info + "]}",
        "{\"reward\":\"binary_code\",\"completions\":[\"" + good + "\"],\"verification_info\":[" + infoText + "]}");
    assertEquals(2, out.size());
    assertEquals(1.0, out.get(0).get("scores").get(0).asDouble());
    assertEquals(0.0, out.get(0).get("scores").get(1).asDouble());
    assertEquals(0.0, out.get(0).get("scores").get(2).asDouble());
    assertEquals(1.0, out.get(1).get("scores").get(0).asDouble());
  }

  @Test
  void verificationInfoOfTheWrongShapeNamesTheLine() throws Exception {
    Path f = Files.writeString(dir.resolve("bad.jsonl"),
        "\n{\"reward\":\"code\",\"completions\":[\"a\",\"b\"],\"verification_info\":[{\"test_cases\":[]}]}\n");
    RewardCommand c = new RewardCommand();
    c.jsonl = f;
    InputException e = assertThrows(InputException.class, c::call);
    assertEquals(2, e.line());
    assertEquals("verification_info", e.key());
    assertTrue(e.getMessage().contains("one entry per completion"), e.getMessage());
  }
}
