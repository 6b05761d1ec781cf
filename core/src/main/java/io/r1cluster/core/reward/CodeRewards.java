package io.r1cluster.core.reward;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * open-r1's code rewards. The row column {@code verification_info} holds
 * {@code {"language":"python","test_cases":[{"input":…,"output":…}, …]}} (a JSON string or an
 * object). The last fenced {@code ```python} block of the completion runs once per test case with
 * the input on stdin; a case passes when its stdout equals the expected output line by line after
 * stripping whitespace.
 * <ul>
 *   <li>{@code code}: fraction of cases passed;
 *   <li>{@code binary_code}: 1.0 iff all cases pass (open-r1: pass rate above 0.99);
 *   <li>{@code code_format}: 1.0 iff the think/answer layout holds and the answer has a fenced block.
 * </ul>
 * No code block → 0. A run with no verdict (the sandbox broke, or the interpreter is missing) gives
 * no score (NaN) and is counted in {@link #sandboxFailures()} (all of them) and
 * {@link #missingInterpreter()} (the second kind).
 */
public final class CodeRewards {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final AtomicLong SANDBOX_FAILURES = new AtomicLong();
  private static final AtomicLong MISSING_INTERPRETER = new AtomicLong();

  private CodeRewards() {}

  /** Runs that gave no verdict (any {@link CodeRunner.Failure} but NONE), since the JVM started. */
  public static long sandboxFailures() {
    return SANDBOX_FAILURES.get();
  }

  /** Runs that found no interpreter, since the JVM started. */
  public static long missingInterpreter() {
    return MISSING_INTERPRETER.get();
  }

  /** The last fenced code block in {@code language}, or null. */
  public static String lastCodeBlock(String completion, String language) {
    Matcher m = Pattern.compile("```" + Pattern.quote(language) + "\\n(.*?)```", Pattern.DOTALL).matcher(completion);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    return last;
  }

  public static RewardFunction code(CodeRunner runner, Duration timeout, long memoryBytes, boolean binary) {
    return new AccuracyRewards.Named(binary ? "binary_code" : "code", in -> {
      float[] out = new float[in.size()];
      for (int i = 0; i < out.length; i++) {
        float rate = passRate(runner, in.completions().get(i), in.column("verification_info", i), timeout, memoryBytes);
        out[i] = binary && !Float.isNaN(rate) ? (rate > 0.99f ? 1f : 0f) : rate;
      }
      return out;
    });
  }

  public static RewardFunction codeFormat(String language) {
    Pattern p = Pattern.compile("^<think>\\n.*?\\n</think>\\n<answer>\\n.*?```" + Pattern.quote(language) + ".*?```.*?\\n</answer>$",
        Pattern.DOTALL | Pattern.MULTILINE);
    return FormatRewards.simple("code_format", c -> p.matcher(c).lookingAt() ? 1 : 0);
  }

  static float passRate(CodeRunner runner, String completion, Object info, Duration timeout, long mem) {
    if (info == null) {
      return Float.NaN;
    }
    JsonNode v;
    try {
      v = info instanceof String s ? JSON.readTree(s) : JSON.valueToTree(info);
    } catch (Exception e) {
      return Float.NaN;
    }
    JsonNode cases = v.path("test_cases");
    if (!cases.isArray() || cases.isEmpty()) {
      return Float.NaN;
    }
    String code = lastCodeBlock(completion, runner.language());
    if (code == null) {
      return 0f;
    }
    int passed = 0;
    for (JsonNode c : cases) {
      CodeRunner.Result r = runner.run(code, c.path("input").asText(""), timeout, mem);
      if (r.sandboxError()) {
        SANDBOX_FAILURES.incrementAndGet();
        if (r.failure() == CodeRunner.Failure.NO_INTERPRETER) {
          MISSING_INTERPRETER.incrementAndGet();
        }
        return Float.NaN;
      }
      if (!r.timedOut() && r.exitCode() == 0 && sameOutput(r.stdout(), c.path("output").asText(""))) {
        passed++;
      }
    }
    return passed / (float) cases.size();
  }

  static boolean sameOutput(String actual, String expected) {
    String[] a = actual.strip().split("\\R");
    String[] e = expected.strip().split("\\R");
    if (a.length != e.length) {
      return false;
    }
    for (int i = 0; i < a.length; i++) {
      if (!a[i].strip().equals(e[i].strip())) {
        return false;
      }
    }
    return true;
  }
}
