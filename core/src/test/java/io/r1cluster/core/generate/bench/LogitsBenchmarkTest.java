package io.r1cluster.core.generate.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.device.Devices;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code r1 bench logits} on the CPU: float32 equals the CPU baseline exactly, bf16 is within its bound. */
class LogitsBenchmarkTest {
  @AfterEach
  void clear() {
    Devices.select(null);
  }

  @Test
  void onTheCpuFloat32IsTheBaselineAndBf16IsWithinTolerance() throws Exception {
    Devices.select(Devices.host());
    Path dir = Paths.get(getClass().getResource("/fixtures/tiny-qwen2-tied/model.safetensors").toURI()).getParent();
    BenchReport r = new LogitsBenchmark().run(new BenchContext(true, Map.of("model", dir.toString()),
        new PrintStream(new ByteArrayOutputStream())));
    assertEquals(0.0, (double) r.figures().get("float32.max_abs_diff"));
    double bf = (double) r.figures().get("bfloat16.max_abs_diff");
    assertTrue(bf > 0 && bf <= (double) r.figures().get("bfloat16.tolerance"), r.table());
    assertEquals(true, r.figures().get("bfloat16.ok"));
    assertEquals(2, r.rows().size());
  }

  @Test
  void aFolderWithoutConfigIsBadInput(@org.junit.jupiter.api.io.TempDir Path tmp) {
    InputException e = assertThrows(InputException.class, () -> new LogitsBenchmark().run(
        new BenchContext(true, Map.of("model", tmp.toString()), System.out)));
    assertTrue(e.getMessage().contains("--model"), e.getMessage());
  }
}
