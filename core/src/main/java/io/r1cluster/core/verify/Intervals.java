package io.r1cluster.core.verify;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Inequalities in one variable as interval notation: {@code x > 3} and {@code 3 < x} →
 * {@code (3,\infty)}, {@code 2 \leq x < 5} → {@code [2,5)}. The variable is kept beside
 * the interval ({@link #parse}) so that {@code y > 3} is not taken for {@code x > 3}, as Math-Verify's
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

  /** An inequality in one variable: the variable and the interval it describes. */
  record Inequality(String variable, String interval) {}

  /** The inequality {@code s} is ({@code x} and {@code (3,5]} for {@code 3 < x \leq 5}), or null. */
  static Inequality parse(String s) {
    String t = canonical(s);
    Matcher m = TWO_SIDED.matcher(t);
    if (m.matches()) {
      return new Inequality(m.group(3), (strict(m.group(2)) ? "(" : "[") + m.group(1).trim() + ","
          + m.group(5).trim() + (strict(m.group(4)) ? ")" : "]"));
    }
    m = ONE_SIDED.matcher(t);
    if (m.matches()) {
      return new Inequality(m.group(1), oneSided(m.group(2), m.group(3).trim()));
    }
    m = FLIPPED.matcher(t);
    if (m.matches()) {
      return new Inequality(m.group(3), oneSided(mirror(m.group(2)), m.group(1).trim())); // b < x is x > b
    }
    return null;
  }

  /** The interval of {@code x op b}. */
  private static String oneSided(String op, String b) {
    boolean greater = op.equals(">") || op.equals("\\geq") || op.equals("\\gt");
    if (greater) {
      return (strict(op) ? "(" : "[") + b + ",\\infty)";
    }
    return "(-\\infty," + b + (strict(op) ? ")" : "]");
  }

  /** The operator of the same relation read from the other side: {@code <} for {@code >}. */
  private static String mirror(String op) {
    return switch (op) {
      case "<" -> ">";
      case ">" -> "<";
      case "\\leq" -> "\\geq";
      case "\\geq" -> "\\leq";
      case "\\lt" -> "\\gt";
      default -> "\\lt"; // \gt
    };
  }

  private static boolean strict(String op) {
    return op.equals("<") || op.equals(">") || op.equals("\\lt") || op.equals("\\gt");
  }
}
