package io.r1cluster.core.verify;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Strips LaTeX presentation noise from an answer so equal answers get equal strings: delimiters,
 * spacing commands, {@code \left}/{@code \right}, {@code \text{}}/{@code \mathrm{}} wrappers,
 * {@code \dfrac}/{@code \tfrac}, malformed {@code \frac12} and {@code \sqrt2}, degrees, percent,
 * currency, units, thousands separators and a trailing period.
 */
final class LatexNormalizer {
  private LatexNormalizer() {}

  private static final Pattern UNIT_WORDS = Pattern.compile(
      "\\s*(\\\\text\\{\\s*)?(cm|mm|km|m|kg|g|mg|s|sec|seconds?|minutes?|hours?|days?|weeks?|years?|meters?|"
          + "inches|inch|feet|foot|ft|miles?|units?|dollars?|cents?|degrees?|pounds?|lbs?|liters?|L|ml|mph|"
          + "square units|sq units|people|students|apples|points?)(\\s*\\})?\\s*$");
  private static final Pattern THOUSANDS = Pattern.compile("^-?\\d{1,3}(,\\d{3})+(\\.\\d+)?$");
  private static final Pattern FRAC_SHORT = Pattern.compile("\\\\frac(\\d)(\\d)");
  private static final Pattern FRAC_HALF_SHORT = Pattern.compile("\\\\frac\\{([^{}]*)\\}(\\d)");
  private static final Pattern FRAC_FIRST_SHORT = Pattern.compile("\\\\frac(\\d)\\{");
  private static final Pattern SQRT_SHORT = Pattern.compile("\\\\sqrt(\\d+|[a-zA-Z])");

  static String normalize(String s) {
    String t = s.trim();
    t = stripDelimiters(t);
    t = t.replace("\\left", "").replace("\\right", "").replace("\\displaystyle", "");
    t = t.replace("\\!", "").replace("\\,", "").replace("\\;", "").replace("\\:", "").replace("\\quad", " ")
        .replace("\\qquad", " ").replace("~", " ");
    t = t.replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac");
    t = t.replace("^\\circ", "").replace("^{\\circ}", "").replace("°", "").replace("\\degree", "");
    t = t.replace("\\%", "").replace("%", "").replace("\\$", "").replace("$", "");
    t = t.replace("\\le ", "\\leq ").replace("\\ge ", "\\geq ").replace("≤", "\\leq ").replace("≥", "\\geq ");
    t = UNIT_WORDS.matcher(t).replaceAll("");
    t = unwrap(t, "\\text");
    t = unwrap(t, "\\textbf");
    t = unwrap(t, "\\mathrm");
    t = unwrap(t, "\\mathbf");
    t = unwrap(t, "\\boxed");
    t = FRAC_SHORT.matcher(t).replaceAll("\\\\frac{$1}{$2}");
    t = FRAC_HALF_SHORT.matcher(t).replaceAll("\\\\frac{$1}{$2}");
    t = FRAC_FIRST_SHORT.matcher(t).replaceAll("\\\\frac{$1}{");
    t = SQRT_SHORT.matcher(t).replaceAll("\\\\sqrt{$1}");
    t = t.trim();
    while (t.endsWith(".") && !t.matches(".*\\d\\.$")) {
      t = t.substring(0, t.length() - 1).trim();
    }
    if (t.endsWith(".") && t.matches("-?\\d+\\.$")) {
      t = t.substring(0, t.length() - 1);
    }
    String noSpace = t.replace(" ", "");
    if (THOUSANDS.matcher(noSpace).matches()) {
      t = noSpace.replace(",", "");
    }
    if (noSpace.matches("-?\\d{1,3}(\\{,\\}\\d{3})+")) {
      t = noSpace.replace("{,}", "");
    }
    return t.trim();
  }

  static String stripDelimiters(String t) {
    boolean changed = true;
    while (changed) {
      changed = false;
      for (String[] d : new String[][] {{"$$", "$$"}, {"$", "$"}, {"\\(", "\\)"}, {"\\[", "\\]"}}) {
        if (t.length() >= d[0].length() + d[1].length() && t.startsWith(d[0]) && t.endsWith(d[1])) {
          t = t.substring(d[0].length(), t.length() - d[1].length()).trim();
          changed = true;
        }
      }
    }
    return t;
  }

  /** {@code \cmd{X}} → {@code X} for every occurrence (balanced braces). */
  static String unwrap(String t, String cmd) {
    int i;
    while ((i = t.indexOf(cmd + "{")) >= 0) {
      int open = i + cmd.length();
      int close = Extract.matchBrace(t, open);
      if (close < 0) {
        break;
      }
      t = t.substring(0, i) + t.substring(open + 1, close) + t.substring(close + 1);
    }
    return t;
  }

  static boolean matches(Pattern p, String s) {
    Matcher m = p.matcher(s);
    return m.matches();
  }
}
