package io.r1cluster.core.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.reward.cli.VerifyCommand;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * One deadline per comparison, exact numbers at any size, caps on ± expansion and input length:
 * adversarial answers end as "not verified" (counted), never as an exception or an
 * OutOfMemoryError. The heavy cases run in a child JVM with a 256 MiB heap.
 */
@Timeout(300)
class VerifyBudgetTest {
  static final MathVerifier V = new MathVerifier(6, Duration.ofSeconds(30));

  @Test
  void integersAndFractionsCompareExactlyAtAnySize() {
    String e33 = "1" + "0".repeat(32);
    assertFalse(V.verify("$" + e33 + "1$", "$" + e33 + "2$"));
    assertTrue(V.verify("$" + e33 + "1$", "$" + e33 + "1$"));
    // through the CAS too: 10^33+1 and 10^33+2 differ by exactly 1 (no relative tolerance)
    assertFalse(V.verify("$10^{33}+1$", "$10^{33}+2$"));
    assertTrue(V.verify("$10^{33}+1$", "$" + e33 + "1$"));
    assertFalse(V.verify("$\\frac{" + e33 + "1}{3}$", "$\\frac{" + e33 + "2}{3}$"));
    assertTrue(V.verify("$\\frac{" + e33 + "1}{3}$", "$\\frac{2" + "0".repeat(32) + "2}{6}$"));
    String big = AdversarialVerifyMain.digits(100_000, 3);
    String other = big.substring(0, big.length() - 1) + (big.endsWith("9") ? "8" : "9");
    long before = V.timeouts();
    assertFalse(V.verify(big, other));
    assertTrue(V.verify("\\boxed{" + big + "}", "The answer is " + big));
    assertEquals(before, V.timeouts(), "decided exactly, not cut off by the deadline");
  }

  @Test
  void oneDeadlineCoversExtractionToo() {
    MathVerifier v = new MathVerifier(6, Duration.ofMillis(200));
    long before = v.timeouts();
    // plain-number extraction over a long run of "1 1 1 …" backtracks quadratically: the deadline stops it
    long t0 = System.nanoTime();
    assertFalse(v.verify("$5$", "1 ".repeat(200_000)));
    assertEquals(before + 1, v.timeouts());
    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(60), "stopped, not run to the end");
    assertFalse(v.verify("$5$", "5 ".repeat(MathVerifier.MAX_INPUT_CHARS / 2 + 1)));
    assertEquals(before + 2, v.timeouts(), "input over the length cap is out of budget");
  }

  @Test
  void plusMinusExpansionIsCapped() {
    MathVerifier v = new MathVerifier(6, Duration.ofSeconds(10));
    assertTrue(v.verify("$1 \\pm 2$", "$3, -1$"));
    assertTrue(v.verify("$\\pm 1 \\pm 2$", "$3, 1, -1, -3$"));
    long before = v.timeouts();
    assertFalse(v.verify("$1$", "$1" + "\\pm 1".repeat(26) + "$"));
    assertEquals(before + 1, v.timeouts());
  }

  @Test
  void adversarialAnswersInA256MiBHeap() throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process p = new ProcessBuilder(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        AdversarialVerifyMain.class.getName()).redirectErrorStream(true).start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    p.getInputStream().transferTo(out);
    assertTrue(p.waitFor(240, TimeUnit.SECONDS));
    String text = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, p.exitValue(), text);
    Map<String, String> r = new LinkedHashMap<>();
    text.lines().filter(l -> l.contains(" verified=")).forEach(l -> r.put(l.substring(0, l.indexOf(' ')),
        l.substring(l.indexOf(' ') + 1).replaceAll(" ms=.*", "")));
    assertTrue(text.contains("done"), text);
    String decided = "outOfBudget=false";
    assertEquals("verified=false " + decided, r.get("e33_plus1_vs_plus2"));
    assertEquals("verified=true " + decided, r.get("e33_plus1_same"));
    assertEquals("verified=false " + decided, r.get("pow33_plus1_vs_plus2"));
    assertEquals("verified=true " + decided, r.get("pow33_plus1_vs_digits"));
    assertEquals("verified=false " + decided, r.get("big_fraction_vs_next"));
    assertEquals("verified=false " + decided, r.get("million_digits_last_differs"));
    assertEquals("verified=true " + decided, r.get("million_digits_same"));
    String pm = r.keySet().stream().filter(k -> k.startsWith("pm26_bytes_")).findFirst().orElseThrow();
    assertTrue(Integer.parseInt(pm.substring("pm26_bytes_".length())) <= 170, pm);
    assertEquals("verified=false outOfBudget=true", r.get(pm));
    assertEquals("verified=false outOfBudget=true", r.get("pm26_numeric"));
    assertEquals("verified=false outOfBudget=true", r.get("input_over_cap"));
    assertEquals("verified=false outOfBudget=true", r.get("backtracking_spaces"));
    assertFalse(r.get("nested_fractions").startsWith("verified=true"), text);
  }

  @Test
  void invalidPrecisionInJsonlNamesTheLine(@TempDir Path dir) throws Exception {
    for (String bad : new String[] {"-1", "101", "2.5", "\"6\""}) {
      Path f = Files.writeString(dir.resolve("in.jsonl"),
          "{\"gold\":\"$1$\",\"pred\":\"1\"}\n\n{\"gold\":\"$1$\",\"pred\":\"1\",\"precision\":" + bad + "}\n");
      VerifyCommand c = new VerifyCommand();
      picocli.CommandLine cl = new picocli.CommandLine(c);
      cl.parseArgs("--jsonl", f.toString());
      InputException e = assertThrows(InputException.class, c::call, bad);
      assertEquals(3, e.line(), bad);
      assertEquals("precision", e.key());
      assertTrue(e.getMessage().contains("0..100"), e.getMessage());
    }
    VerifyCommand c = new VerifyCommand();
    new picocli.CommandLine(c).parseArgs("--gold", "1", "--pred", "1", "--precision", "-1");
    InputException e = assertThrows(InputException.class, c::call);
    assertEquals("--precision", e.key());
  }
}
