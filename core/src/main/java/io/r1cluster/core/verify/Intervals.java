package io.r1cluster.core.verify;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Inequalities in one variable as interval notation: {@code x > 3} and {@code 3 < x} →
 * {@code (3,\infty)}, {@code 2 \leq x < 5} → {@code [2,5)}. The variable is kept apart
 * ({@link #variable}) so that {@code y > 3} is not taken for {@code x > 3}, as Math-Verify's
 * relational comparison does not.
 */
final class Intervals {
  private Intervals() {}

  private static final String V = "\\\\?[a-zA-Z]";
  private static final Pattern ONE_SIDED = Pattern.compile("^(" + V + ")\\s*(<|>|\\\\leq|\\\\geq|\\\\lt|\\\\gt)\\s*(.+)$");
  private static final Pattern FLIPPED = Pattern.compile("^(.+?)\\s*(<|>|\\\\leq|\\\\geq|\\\\lt|\\\\gt)\\s*(" + V + ")$");
  private static final Pattern TWO_SIDED = Pattern.compile("^(.+?)\\s*(<|\\\\leq|\\\\lt)\\s*(" + V + ")\\s*(<|\\\\leq|\\\\lt)\\s*(.+)$");

  private static String canonical(String s) {
    return s.replace("\\le ", "\\leq ").replace("\\ge ", "\\geq ").replace("<=", "\\leq").replace(">=", "\\geq");
  }

  /** The variable of a one- or two-sided inequality ({@code x} of {@code 3 < x \leq 5}), or null. */
  static String variable(String s) {
    String t = canonical(s);
    Matcher m = TWO_SIDED.matcher(t);
    if (m.matches()) {
      return m.group(3);
    }
    m = ONE_SIDED.matcher(t);
    if (m.matches()) {
      return m.group(1);
    }
    m = FLIPPED.matcher(t);
    return m.matches() ? m.group(3) : null;
  }

  static String fromInequality(String s) {
    String t = canonical(s);
    Matcher m = TWO_SIDED.matcher(t);
    if (m.matches()) {
      return (strict(m.group(2)) ? "(" : "[") + m.group(1).trim() + "," + m.group(5).trim() + (strict(m.group(4)) ? ")" : "]");
    }
    m = ONE_SIDED.matcher(t);
    if (m.matches()) {
      String op = m.group(2);
      String b = m.group(3).trim();
      boolean greater = op.equals(">") || op.equals("\\geq") || op.equals("\\gt");
      if (greater) {
        return (strict(op) ? "(" : "[") + b + ",\\infty)";
      }
      return "(-\\infty," + b + (strict(op) ? ")" : "]");
    }
    m = FLIPPED.matcher(t);
    if (m.matches()) {
      // b < x is x > b
      String op = m.group(2);
      String b = m.group(1).trim();
      boolean less = op.equals("<") || op.equals("\\leq") || op.equals("\\lt");
      if (less) {
        return (strict(op) ? "(" : "[") + b + ",\\infty)";
      }
      return "(-\\infty," + b + (strict(op) ? ")" : "]");
    }
    return s;
  }

  private static boolean strict(String op) {
    return op.equals("<") || op.equals(">") || op.equals("\\lt") || op.equals("\\gt");
  }
}
