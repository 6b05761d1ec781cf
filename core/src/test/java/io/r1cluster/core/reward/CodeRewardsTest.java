package io.r1cluster.core.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

  @Test
  void passRateAndBinary() {
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
  void codeCannotOpenANetworkConnection() {
    PythonSandbox box = new PythonSandbox();
    CodeRunner.Result r = box.run(
        "import socket\ntry:\n  s = socket.create_connection(('127.0.0.1', 9), timeout=2)\n  print('CONNECTED')\nexcept OSError as e:\n  print('BLOCKED', e.errno)",
        "", Duration.ofSeconds(10), 256L << 20);
    assertFalse(r.stdout().contains("CONNECTED"), r.stdout() + r.stderr());
    assertTrue(r.stdout().contains("BLOCKED"), r.stdout() + r.stderr() + " isolation=" + box.isolation());
  }

  @Test
  void sandboxFailureIsNoScoreNotZero() {
    long before = CodeRewards.sandboxFailures();
    RewardFunction broken = CodeRewards.code(new PythonSandbox("/nonexistent/python"), Duration.ofSeconds(2), 256L << 20, false);
    float s = broken.score(in(completion("print(5)")))[0];
    // prlimit cannot exec the interpreter: the run fails → either a sandbox error (NaN) or exit≠0 (0)
    PythonSandbox missing = new PythonSandbox("/nonexistent/python");
    CodeRunner failing = new CodeRunner() {
      @Override
      public String language() {
        return "python";
      }

      @Override
      public Result run(String code, String stdin, Duration timeout, long mem) {
        return new Result(-1, "", "cannot start", false, true);
      }
    };
    float f = CodeRewards.code(failing, Duration.ofSeconds(1), 1 << 20, false).score(in(completion("print(5)")))[0];
    assertTrue(Float.isNaN(f));
    assertTrue(CodeRewards.sandboxFailures() > before);
    assertTrue(s == 0f || Float.isNaN(s), "missing interpreter " + missing.isolation() + " → " + s);
  }
}
