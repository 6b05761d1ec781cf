package io.r1cluster.core.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One place decides devices: no main source of core or actors makes an {@code NDManager} or names a
 * device except {@link Devices} (arrays come from managers, so an array's device is its manager's);
 * and the precedence --device &gt; use_cpu &gt; R1_DEVICE &gt; default holds.
 */
class DevicePlacementTest {
  /** Calls that pick a device or make a root manager; only Devices may contain them. */
  static final Pattern FORBIDDEN = Pattern.compile(
      "\\bnewBaseManager\\s*\\(|\\bDevice\\s*\\.\\s*(cpu|gpu|fromName|of)\\s*\\(|\\bnew\\s+Device\\s*\\(");
  static final String THE_ONE_PLACE = "io/r1cluster/core/device/Devices.java";

  @AfterEach
  void clear() {
    Devices.select(null);
  }

  /** Source text without comments and string/char literals (so javadoc may mention the calls). */
  static String code(String src) {
    StringBuilder out = new StringBuilder(src.length());
    int i = 0;
    int n = src.length();
    while (i < n) {
      char c = src.charAt(i);
      if (c == '/' && i + 1 < n && src.charAt(i + 1) == '/') {
        while (i < n && src.charAt(i) != '\n') {
          i++;
        }
      } else if (c == '/' && i + 1 < n && src.charAt(i + 1) == '*') {
        int end = src.indexOf("*/", i + 2);
        String skipped = src.substring(i, end < 0 ? n : end + 2);
        skipped.chars().filter(ch -> ch == '\n').forEach(ch -> out.append('\n')); // keep line numbers
        i = end < 0 ? n : end + 2;
      } else if (c == '"' && src.startsWith("\"\"\"", i)) {
        int end = src.indexOf("\"\"\"", i + 3);
        i = end < 0 ? n : end + 3;
        out.append("\"\"");
      } else if (c == '"' || c == '\'') {
        int j = i + 1;
        while (j < n && src.charAt(j) != c) {
          j += src.charAt(j) == '\\' ? 2 : 1;
        }
        out.append(c).append(c);
        i = j + 1;
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }

  /** Every forbidden call in the main sources under the given roots: "file:line: text". */
  static List<String> violations(List<Path> roots) throws IOException {
    List<String> found = new ArrayList<>();
    for (Path root : roots) {
      if (!Files.isDirectory(root)) {
        continue;
      }
      List<Path> files;
      try (Stream<Path> s = Files.walk(root)) {
        files = s.filter(p -> p.toString().endsWith(".java")).sorted().toList();
      }
      for (Path f : files) {
        if (f.toString().replace('\\', '/').endsWith(THE_ONE_PLACE)) {
          continue;
        }
        String code = code(Files.readString(f));
        Matcher m = FORBIDDEN.matcher(code);
        while (m.find()) {
          int line = 1 + (int) code.substring(0, m.start()).chars().filter(ch -> ch == '\n').count();
          found.add(f + ":" + line + ": " + m.group());
        }
      }
    }
    return found;
  }

  static final List<Path> MAIN_SOURCES = List.of(Path.of("src/main/java"), Path.of("../actors/src/main/java"));

  @Test
  void onlyDevicesMakesManagersOrNamesDevices() throws IOException {
    assertTrue(Files.isDirectory(MAIN_SOURCES.get(0)), "run from the core module");
    List<String> v = violations(MAIN_SOURCES);
    assertTrue(v.isEmpty(), "create managers with Devices.manager(device) / Devices.managerLike(array) and take the"
        + " device from the model or Devices (--device, use_cpu, R1_DEVICE), not:\n  " + String.join("\n  ", v));
  }

  @Test
  void theScanFindsWhatItForbids(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
    Path f = dir.resolve("a/Foo.java");
    Files.createDirectories(f.getParent());
    Files.writeString(f, """
        class Foo {
          /** NDManager.newBaseManager() in javadoc is fine */
          String s = "Device.cpu()"; // so is a string: Device.gpu(1)
          void a() { try (var m = ai.djl.ndarray.NDManager.newBaseManager()) {} }
          void b() { var d = ai.djl.Device.cpu(); }
          void c() { var d = Device.gpu(1); var e = Device . fromName("gpu"); }
        }
        """);
    List<String> v = violations(List.of(dir));
    assertEquals(4, v.size(), v.toString());
    assertTrue(v.get(0).contains(":4: newBaseManager("), v.toString());
    assertTrue(v.get(1).contains(":5: Device.cpu("), v.toString());
  }

  @Test
  void precedenceIsFlagThenUseCpuThenEnvironmentThenDefault() {
    Device dflt = Devices.gpuCount() > 0 ? Device.gpu(0) : Device.cpu();
    assertEquals(dflt, Devices.choose(false, Map.of()));
    assertEquals(Device.cpu(), Devices.choose(false, Map.of(Devices.ENV, "cpu")));
    assertEquals(Device.cpu(), Devices.choose(true, Map.of(Devices.ENV, "cuda:0")), "use_cpu wins over R1_DEVICE");
    Devices.select(Device.cpu());
    assertEquals(Device.cpu(), Devices.choose(false, Map.of(Devices.ENV, "cuda:0")), "--device wins over R1_DEVICE");
    Devices.select(null);
    InputException bad = assertThrows(InputException.class, () -> Devices.choose(false, Map.of(Devices.ENV, "tpu")));
    assertTrue(bad.getMessage().contains("R1_DEVICE") && bad.getMessage().contains("not a device"), bad.getMessage());
  }

  @Test
  void parsesDeviceNamesAndRefusesAbsentGpus() {
    assertEquals(Device.cpu(), Devices.parse(" CPU ", "k"));
    assertEquals(Device.gpu(0), Devices.parse("cuda", "k"));
    assertEquals(Device.gpu(3), Devices.parse("cuda:3", "k"));
    assertEquals(Device.gpu(1), Devices.parse("gpu:1", "k"));
    for (String bad : new String[] {"", "cuda:", "cuda:-1", "cuda:x", "mps", "cuda:1:2"}) {
      assertThrows(InputException.class, () -> Devices.parse(bad, "k"), bad);
    }
    int gpus = Devices.gpuCount();
    InputException past = assertThrows(InputException.class, () -> Devices.require(Device.gpu(gpus), "--device"));
    assertTrue(past.getMessage().startsWith("--device: "), past.getMessage());
    if (gpus == 0) {
      assertThrows(InputException.class, () -> Devices.choose(false, Map.of(Devices.ENV, "cuda")),
          "R1_DEVICE=cuda on a machine without a GPU is bad input, not a silent CPU run");
      assertThrows(InputException.class, () -> Devices.gpus("0", "--gpus"));
    }
  }
}
