package io.r1cluster.core.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.r1cluster.core.InputException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class CodeRewardsTest {
  static final String INFO = "{\"language\":\"python\",\"test_cases\":["
      + "{\"input\":\"2 3\\n\",\"output\":\"5\\n\"},{\"input\":\"10 -4\\n\",\"output\":\"6\"},{\"input\":\"1 1\",\"output\":\"3\"}]}";

  static String completion(String code) {
    return "<think>\nadd them\n</think>\n<answer>\n```python\n" + code + "\n```\n</answer>";
  }

  static RewardInput in(String... completions) {
    Object[] info = new Object[completions.length];
    java.util.Arrays.fill(info, INFO);
    return new RewardInput(List.of(completions), null, Map.of("verification_info", java.util.Arrays.asList(info)));
  }

  static void assumeSandbox() {
    java.util.Optional<String> why = PythonSandbox.unavailableReason();
    assumeTrue(why.isEmpty(), () -> "SKIPPED: no isolating sandbox here: " + why.orElse(""));
  }

  @Test
  void passRateAndBinary() {
    assumeSandbox();
    String add = "a, b = map(int, input().split())\nprint(a + b)";
    RewardFunction code = RewardRegistry.create(List.of("code"), Map.of()).get(0);
    RewardFunction bin = RewardRegistry.create(List.of("binary_code"), Map.of()).get(0);
    // the third case expects 3 for 1+1: 2 of 3 pass
    assertEquals(2f / 3, code.score(in(completion(add)))[0], 1e-6);
    assertEquals(0f, bin.score(in(completion(add)))[0]);
    assertEquals(0f, code.score(in("no code here"))[0]);
    assertEquals(1f, RewardRegistry.create(List.of("code_format"), Map.of()).get(0).score(in(completion(add)))[0]);
  }

  @Test
  void infiniteLoopIsKilledWithinItsLimit() {
    assumeSandbox();
    PythonSandbox box = new PythonSandbox();
    long t0 = System.nanoTime();
    CodeRunner.Result r = box.run("import os\nos.fork() if hasattr(os,'fork') else None\nwhile True: pass", "", Duration.ofMillis(1500), 256L << 20);
    double secs = (System.nanoTime() - t0) / 1e9;
    assertTrue(r.timedOut() || r.exitCode() != 0);
    assertTrue(secs < 8, "took " + secs + " s");
    assertEquals(0f, CodeRewards.code(box, Duration.ofMillis(800), 256L << 20, false)
        .score(in(completion("while True: pass")))[0]);
  }

  @Test
  void missingInterpreterIsNoScoreAndCounted() {
    long before = CodeRewards.missingInterpreter();
    long failuresBefore = CodeRewards.sandboxFailures();
    PythonSandbox missing = new PythonSandbox(SandboxMode.UNSAFE_LOCAL, "/nonexistent/python3");
    CodeRunner.Result r = missing.run("print(5)", "", Duration.ofSeconds(2), 256L << 20);
    assertEquals(CodeRunner.Failure.NO_INTERPRETER, r.failure(), r.stderr());
    float s = CodeRewards.code(missing, Duration.ofSeconds(2), 256L << 20, false).score(in(completion("print(5)")))[0];
    assertTrue(Float.isNaN(s), "missing interpreter must be no score, got " + s);
    assertEquals(before + 1, CodeRewards.missingInterpreter());
    assertEquals(failuresBefore + 1, CodeRewards.sandboxFailures());
  }

  @Test
  void brokenSandboxIsNoScoreNotZero() {
    long before = CodeRewards.sandboxFailures();
    CodeRunner failing = new CodeRunner() {
      @Override
      public String language() {
        return "python";
      }

      @Override
      public Result run(String code, String stdin, Duration timeout, long mem) {
        return new Result(-1, "", "cannot start", false, Failure.SANDBOX);
      }
    };
    float f = CodeRewards.code(failing, Duration.ofSeconds(1), 1 << 20, false).score(in(completion("print(5)")))[0];
    assertTrue(Float.isNaN(f));
    assertEquals(before + 1, CodeRewards.sandboxFailures());
  }

  @Test
  void refusesWhenIsolationCannotBeSetUp() throws Exception {
    // a "bwrap" that cannot create namespaces (exits 1, as bwrap does when unshare is refused)
    java.nio.file.Path fake = java.nio.file.Files.createTempFile("fake-bwrap", "");
    java.nio.file.Files.writeString(fake, "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n");
    fake.toFile().setExecutable(true);
    try {
      SandboxUnavailableException e = assertThrows(SandboxUnavailableException.class,
          () -> new PythonSandbox(SandboxMode.ISOLATED, "python3", fake));
      assertEquals("code_sandbox", e.key());
      assertTrue(e.getMessage().contains("No permissions to create new namespace"), e.getMessage());
      assertTrue(e.getMessage().contains("unsafe-local"), e.getMessage());
      // unsafe-local does not need bubblewrap at all
      assertEquals(SandboxMode.UNSAFE_LOCAL, new PythonSandbox(SandboxMode.UNSAFE_LOCAL, "python3", fake).mode());
    } finally {
      java.nio.file.Files.delete(fake);
    }
  }

  @Test
  void unknownSandboxModeIsAnInputError() {
    InputException e = assertThrows(InputException.class,
        () -> RewardRegistry.create(List.of("code"), Map.of("code_sandbox", "docker")));
    assertEquals("code_sandbox", e.key());
  }
}
