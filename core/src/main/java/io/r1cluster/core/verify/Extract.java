package io.r1cluster.core.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Answer extraction in Math-Verify's order for predictions: the last {@code \boxed{}} (nested
 * braces; {@code \fbox} too), then an anchored phrase ("final answer is …"), then the content of
 * {@code <answer>…</answer>}, then the last inline math ({@code $…$}, {@code \(…\)},
 * {@code \[…\]}, {@code $$…$$}). Gold solutions: the last box, else the last inline math, else the
 * whole text.
 */
public final class Extract {
  private Extract() {}

  private static final Pattern FINAL = Pattern.compile(
      "(?i)final answer(?: is)?[:\\s]*(?:is[:\\s]*)?(.+?)(?:\\.\\s*$|\\.\\s+|\\n|$)", Pattern.DOTALL);
  private static final Pattern ANSWER_TAG = Pattern.compile("<answer>(.*?)</answer>", Pattern.DOTALL);
  private static final Pattern INLINE = Pattern.compile("\\$\\$(.+?)\\$\\$|\\$(.+?)\\$|\\\\\\((.+?)\\\\\\)|\\\\\\[(.+?)\\\\\\]", Pattern.DOTALL);

  /** Index of the brace matching the one at {@code open}, or -1. */
  static int matchBrace(String s, int open) {
    int depth = 0;
    for (int i = open; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) {
        i++;
        continue;
      }
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        depth--;
        if (depth == 0) {
          return i;
        }
      }
    }
    return -1;
  }

  /** Contents of every {@code \boxed{…}} / {@code \fbox{…}}, in order. */
  public static List<String> boxes(String s) {
    List<String> out = new ArrayList<>();
    int from = 0;
    while (true) {
      int b = s.indexOf("\\boxed", from);
      int f = s.indexOf("\\fbox", from);
      int i = b < 0 ? f : (f < 0 ? b : Math.min(b, f));
      if (i < 0) {
        return out;
      }
      int open = s.indexOf('{', i);
      int close = open < 0 ? -1 : matchBrace(s, open);
      if (close < 0) {
        return out;
      }
      out.add(s.substring(open + 1, close));
      from = close + 1;
    }
  }

  /** The answer a completion commits to, if any. */
  public static Optional<String> prediction(String completion) {
    List<String> b = boxes(completion);
    if (!b.isEmpty()) {
      return Optional.of(b.get(b.size() - 1));
    }
    Matcher m = FINAL.matcher(completion);
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    if (last != null && !last.isBlank()) {
      return Optional.of(lastInlineOr(last.trim()));
    }
    Matcher a = ANSWER_TAG.matcher(completion);
    String ans = null;
    while (a.find()) {
      ans = a.group(1);
    }
    if (ans != null && !ans.isBlank()) {
      return Optional.of(lastInlineOr(ans.trim()));
    }
    String inline = lastInline(completion);
    return Optional.ofNullable(inline);
  }

  /** The gold answer in a solution text. */
  public static Optional<String> gold(String solution) {
    if (solution == null || solution.isBlank()) {
      return Optional.empty();
    }
    List<String> b = boxes(solution);
    if (!b.isEmpty()) {
      return Optional.of(b.get(b.size() - 1));
    }
    return Optional.of(lastInlineOr(solution.trim()));
  }

  private static String lastInlineOr(String s) {
    String in = lastInline(s);
    return in != null ? in : s;
  }

  private static String lastInline(String s) {
    Matcher m = INLINE.matcher(s);
    String last = null;
    while (m.find()) {
      for (int g = 1; g <= 4; g++) {
        if (m.group(g) != null) {
          last = m.group(g);
        }
      }
    }
    return last;
  }
}
