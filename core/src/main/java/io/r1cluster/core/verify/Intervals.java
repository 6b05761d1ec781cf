package io.r1cluster.core.verify;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Inequalities in one variable as interval notation: {@code x > 3} → {@code (3,\infty)}. */
final class Intervals {
  private Intervals() {}

  private static final String V = "\\\\?[a-zA-Z]";
  private static final Pattern ONE_SIDED = Pattern.compile("^(" + V + ")\\s*(<|>|\\\\leq|\\\\geq|\\\\lt|\\\\gt)\\s*(.+)$");
  private static final Pattern TWO_SIDED = Pattern.compile("^(.+?)\\s*(<|\\\\leq|\\\\lt)\\s*(" + V + ")\\s*(<|\\\\leq|\\\\lt)\\s*(.+)$");

  static String fromInequality(String s) {
    String t = s.replace("\\le ", "\\leq ").replace("\\ge ", "\\geq ").replace("<=", "\\leq").replace(">=", "\\geq");
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
    return s;
  }

  private static boolean strict(String op) {
    return op.equals("<") || op.equals(">") || op.equals("\\lt") || op.equals("\\gt");
  }
}
