package io.r1cluster.actors.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.r1cluster.core.device.Devices;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code r1 member --gpus} and {@code r1 --device}: a GPU that is not there is bad input (exit code
 * 2, a message that says why) before the node joins anything; on a GPU machine they are accepted.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeviceOptionsTest {
  @AfterEach
  void clearDevice() {
    Devices.select(null);
  }

  record Run(int code, String err) {}

  private static Run run(String... args) {
    CommandLine cl = R1.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    cl.setOut(new PrintWriter(new StringWriter()));
    return new Run(cl.execute(args), err.toString());
  }

  @Test
  void absentGpusAreBadInputBeforeJoining() {
    assumeTrue(Devices.gpuCount() == 0, "this machine has a GPU");
    Run r = run("member", "--roles", "rollout", "--gpus", "0,1", "--seed", "127.0.0.1:1");
    assertEquals(2, r.code(), r.err());
    assertTrue(r.err().contains("--gpus") && r.err().contains("gpu(0)") && r.err().contains("CPU-only"), r.err());

    Run d = run("member", "--roles", "rollout", "--device", "cuda:1", "--seed", "127.0.0.1:1");
    assertEquals(2, d.code(), d.err());
    assertTrue(d.err().contains("--device"), d.err());
  }

  @Test
  void badListsAndConflictsAreBadInput() {
    Run slots = run("member", "--roles", "rollout", "--gpus", "0", "--slots", "2", "--seed", "127.0.0.1:1");
    assertEquals(2, slots.code(), slots.err());
    assertTrue(slots.err().contains("--gpus and --slots exclude each other"), slots.err());

    Run role = run("member", "--roles", "reward", "--gpus", "0", "--seed", "127.0.0.1:1");
    assertEquals(2, role.code(), role.err());
    assertTrue(role.err().contains("rollout role"), role.err());

    for (String bad : new String[] {"a", "0,,1", "0,0", "-1"}) {
      Run r = run("member", "--roles", "rollout", "--gpus", bad, "--seed", "127.0.0.1:1");
      assertEquals(2, r.code(), bad + ": " + r.err());
    }
    Run dev = run("bench", "--device", "tpu");
    assertEquals(2, dev.code(), dev.err());
    assertTrue(dev.err().contains("not a device"), dev.err());
  }
}
