package io.r1cluster.actors.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/gpu-check.sh}: valid bash, bad options are exit 2, and its CPU-runnable logits part
 * ({@code --device cpu --only logits}) prints the table with a passing row per fixture and dtype. The
 * script's r1 is this test's class path (R1_CMD), so it checks the code under test, not a stale jar.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class GpuCheckScriptTest {
  static final Path ROOT = Path.of(System.getProperty("user.dir")).getParent();
  static final Path SCRIPT = ROOT.resolve("scripts/gpu-check.sh");

  record Result(int code, String out) {}

  static Result bash(Path tmp, String... args) throws IOException, InterruptedException {
    Path r1 = tmp.resolve("r1-test");
    Files.writeString(r1, "#!/usr/bin/env bash\nexec '" + Path.of(System.getProperty("java.home"), "bin", "java")
        + "' -Dai.djl.offline=true -Dai.djl.pytorch.num_threads=1 -Dai.djl.pytorch.num_interop_threads=1 -cp '"
        + System.getProperty("java.class.path") + "' " + R1.class.getName() + " \"$@\"\n");
    r1.toFile().setExecutable(true);
    List<String> cmd = new java.util.ArrayList<>(List.of("bash", SCRIPT.toString()));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("R1_CMD", r1.toString());
    pb.redirectErrorStream(true);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(p.waitFor(), out);
  }

  @Test
  void isValidBashAndRejectsBadOptions(@TempDir Path tmp) throws Exception {
    Process n = new ProcessBuilder("bash", "-n", SCRIPT.toString()).redirectErrorStream(true).start();
    assertEquals(0, n.waitFor(), new String(n.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    assertEquals(2, bash(tmp, "--frobnicate").code());
    assertEquals(2, bash(tmp, "--device", "tpu").code());
  }

  @Test
  void logitsPartRunsOnTheCpuAndPrintsTheTable(@TempDir Path tmp) throws Exception {
    Result r = bash(tmp, "--device", "cpu", "--quick", "--only", "logits", "--out", tmp.resolve("out").toString());
    assertEquals(0, r.code(), r.out());
    assertTrue(r.out().contains("## gpu-check on cpu (device cpu)"), r.out());
    for (String fx : List.of("tiny-qwen2", "tiny-qwen2-tied", "tiny-qwen2-bf16")) {
      for (String t : List.of("float32", "bfloat16")) {
        assertTrue(r.out().lines().anyMatch(l -> l.startsWith("| logits " + fx + " " + t + " |") && l.contains(" ok |")),
            fx + " " + t + ":\n" + r.out());
      }
      assertTrue(Files.isRegularFile(tmp.resolve("out/logits-" + fx + ".json")));
    }
  }
}
