package io.r1cluster.core.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Normalises an extracted LaTeX answer the way Math-Verify's latex2sympy front end does before
 * parsing, in this order:
 * <ol>
 *   <li>boxes: the content of {@code \boxed{}} / {@code \fbox{}} ({@link #boxed}): all of them
 *       joined by commas, or only the last one plus the boxes just before it that are separated
 *       from it by a short gap or a list separator;</li>
 *   <li>basic LaTeX: {@code \left}/{@code \right}, {@code \displaystyle}, dollar signs, quotes,
 *       {@code \!}; {@code \mathrm}/{@code \mathbf}/{@code \textbf}… become {@code \text};
 *       {@code \dfrac}/{@code \tfrac}/{@code \cfrac} become {@code \frac}; "and"/"or" (also inside
 *       {@code \text{}}) and {@code {,}} become list commas; {@code \ldots} goes; "percent",
 *       "percentage", "pct" become {@code \%}; "infinity"/"inf" become {@code \infty};</li>
 *   <li>units: a trailing {@code \text{…}} (with an optional power) and trailing unit words
 *       after a number ({@code 5 cm}, {@code 3 hours});</li>
 *   <li>nits: a leading "." gets a 0, a bare {@code 0.5} is one half;</li>
 *   <li>malformed operators: {@code \frac12}, {@code \frac1{2}}, {@code \frac{1}2},
 *       {@code \sqrt3}, {@code sqrt(x)}, {@code x^(2)} and an integer {@code a/b}.</li>
 * </ol>
 */
final class LatexNormalizer {
  private LatexNormalizer() {}

  /** Which boxes {@link #boxed} keeps. */
  enum Boxes { ALL, LAST }

  private static final Pattern LEFT = Pattern.compile(
      "\\\\m?left(\\\\\\{|\\{|\\\\\\||\\||\\[|\\(|\\\\lbrace|\\\\lbrack|\\\\vert|\\\\lvert|\\\\lceil|\\\\lfloor|\\\\langle|\\.)");
  private static final Pattern RIGHT = Pattern.compile(
      "\\\\m?right(\\\\\\}|\\}|\\\\\\||\\||\\]|\\)|\\\\rbrace|\\\\rbrack|\\\\vert|\\\\rvert|\\\\rceil|\\\\rfloor|\\\\rangle|\\.)");
  private static final Pattern REMOVE = Pattern.compile(
      "\\\\mathrm\\{th\\}|\\\\!\\s*|\\\\text\\s*\\{\\s*\\}|\\\\\\$|\\$|(?<!\\\\)[\"']|\\\\displaystyle");

  /**
   * One left-to-right pass; at each position the first alternative that matches wins (so
   * " \text{ and }" is one comma, and "percentage" is not read as "percent" + "age").
   */
  private static final String[][] REPLACE = {
      {"\\\\math(?:rm|it|bf)", "\\\\text"},
      {"\\\\text(?:normal|bf|it|rm)", "\\\\text"},
      {"\\\\(?:d|t|c)frac", "\\\\frac"},
      {"\\s\\.(?=\\d)", " 0."},
      {"\\{\\.(?=\\d)", "{0."},
      {"~=", "\\\\approx"},
      {"\\s*\\{\\s*,\\s*\\}", ","},
      {"(?<![a-zA-Z])(?:,?\\s*(?:and|or))(?![a-zA-Z])", ","},
      {",?\\s*\\\\text\\{\\s*(?:and|or)\\s*\\}", ","},
      {"(?<!\\\\)\\\\\\s", " "},
      {"infinity", "\\\\infty"},
      {",?\\\\ldots", " "},
      {"\\s*\\bpercentage\\b", "\\\\%"},
      {"\\\\text\\{percentage\\}", "%"},
      {"\\s*\\bpercent\\b", "\\\\%"},
      {"\\\\text\\{percent\\}", "%"},
      {"\\s*\\bpct\\b", "\\\\%"},
      {"\\\\text\\{pct\\}", "%"},
      {"(?<!\\\\)inf(?!inity)", "\\\\infty"},
      {" sqrt", "\\\\sqrt"},
  };
  private static final Pattern REPLACE_ALL;

  static {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < REPLACE.length; i++) {
      sb.append(i == 0 ? "" : "|").append("(?<r").append(i).append('>').append(REPLACE[i][0]).append(')');
    }
    REPLACE_ALL = Pattern.compile(sb.toString());
  }

  private static final Pattern DOUBLE_BACKSLASH_CMD = Pattern.compile("\\\\\\\\(?=[a-zA-Z])");
  private static final Pattern TRAILING_TEXT = Pattern.compile("(\\\\(?:text|mbox)\\{[^}]*\\})(\\^\\d|\\{\\^\\d\\})?$");

  /** Unit words removed after a number at the end of an answer (plural "s"/"es" allowed). */
  private static final String[] UNITS = {
      "integer", "point", "feet", "sue", "digit", "pound", "meal", "edge", "student", "children ticket",
      "multiple", "east", "degree", "mph", "kmph", "ft", "m square", "m east", "sq m", "deg", "mile",
      "monkey", "prime", "ratio", "profit of rs", "rd", "o", "gm", "p \\. m", "lb", "tile", "per", "dm",
      "lt", "gain", "ab", "way", "west", "t", "h", "no change", "men", "soldier", "pie", "bc", "excess",
      "st", "inches", "noon", "cent", "by", "gal", "kmh", "c", "acre", "rise", "a \\. m", "th", "sq",
      "mark", "l", "toy", "coin", "sq \\. m", "gallon", "° f", "profit", "minw", "yr", "women", "am", "pm",
      "hr", "cu cm", "square", "are", "rupee", "rounds", "cubic", "cc", "mtr", "s", "ohm", "number",
      "day", "hour", "minute", "min", "second", "man", "woman", "sec", "cube", "mt", "sq inch", "mp",
      "hectare", "more", "unit", "cu \\. m", "cm 2", "rs \\.", "rs", "kg", "g", "month", "km", "m", "cm",
      "mm", "apple", "liter", "loss", "yard", "pure", "year", "increase", "decrease", "d", "less",
      "Surface", "litre", "pi sq m", "s \\.", "metre", "meter", "inch"};
  private static final Pattern UNIT_TAIL = Pattern.compile(
      "(\\d|\\}|\\s)\\s*(?:" + String.join("|", UNITS) + ")(?:s|es)?\\s*$");

  private static final Pattern[][] MALFORMED = {
      {Pattern.compile("\\^\\s?\\((.*?)\\)"), null},
      {Pattern.compile("(?<!\\\\)sqrt\\s?\\((.*?)\\)"), null},
      {Pattern.compile("\\\\frac\\s?(\\d)\\s?(\\d+)"), null},
      {Pattern.compile("\\\\frac\\s?\\{([^{}]*?)\\}\\s?(\\d)"), null},
      {Pattern.compile("\\\\frac\\s?(\\d)\\s?\\{([^{}]*?)\\}"), null},
      {Pattern.compile("\\\\sqrt\\s?(\\d)"), null},
  };
  private static final String[] MALFORMED_TO = {
      "^{$1}", "\\\\sqrt{$1}", "\\\\frac{$1}{$2}", "\\\\frac{$1}{$2}", "\\\\frac{$1}{$2}", "\\\\sqrt{$1}"};
  private static final Pattern INT_SLASH = Pattern.compile("^(-?\\d+)/(-?\\d+)$");

  static String normalize(String s) {
    return normalize(s, Boxes.ALL);
  }

  static String normalize(String s, Boxes boxes) {
    String t = boxed(s, boxes);
    if (t.length() > Answer.MAX_CHARS) {
      // the passes below are regular expressions: run them only on answer-sized text; a long
      // numeral stays as it is (it compares exactly), anything else is left for Answer to skip
      return t.strip();
    }
    if (!t.contains("matrix") && !t.contains("array")) {
      t = DOUBLE_BACKSLASH_CMD.matcher(t).replaceAll("\\\\");
    }
    // basic LaTeX
    t = t.replace("\\mathrm{T}", "T").replace("\\mathrm{d}", "d").replace("{\\rm d}", "d");
    t = t.replace("\\left[\\begin{matrix}", "\\begin{bmatrix}").replace("\\end{matrix}\\right]", "\\end{bmatrix}");
    t = LEFT.matcher(t).replaceAll(m -> m.group(1).equals(".") ? "" : Matcher.quoteReplacement(m.group(1)));
    t = RIGHT.matcher(t).replaceAll(m -> m.group(1).equals(".") ? "" : Matcher.quoteReplacement(m.group(1)));
    t = REMOVE.matcher(t).replaceAll("");
    t = replaceWords(t);
    t = t.replace('\n', ' ').replace('\t', ' ');
    if (!t.contains("matrix") && !t.contains("array")) {
      t = DOUBLE_BACKSLASH_CMD.matcher(t).replaceAll("\\\\");
    }
    // units
    String u = TRAILING_TEXT.matcher(t).replaceAll("").trim();
    if (!u.isEmpty() && !u.equals(t)) {
      t = u;
    }
    for (int i = 0; i < 2; i++) {
      u = UNIT_TAIL.matcher(t).replaceAll("$1");
      if (!u.isEmpty() && !u.equals(t)) {
        t = u;
      }
    }
    // nits
    t = t.strip();
    if (t.startsWith(".")) {
      t = "0" + t;
    }
    if (t.equals("0.5")) {
      t = "\\frac{1}{2}";
    }
    // malformed operators
    for (int i = 0; i < MALFORMED.length; i++) {
      t = MALFORMED[i][0].matcher(t).replaceAll(MALFORMED_TO[i]);
    }
    t = t.replace(" sqrt", "\\sqrt");
    t = fixSqrt(t);
    t = fixFracs(t);
    Matcher ab = INT_SLASH.matcher(t);
    if (ab.matches()) {
      t = "\\frac{" + ab.group(1) + "}{" + ab.group(2) + "}";
    }
    return t.strip();
  }

  private static String replaceWords(String t) {
    Matcher m = REPLACE_ALL.matcher(t);
    StringBuilder sb = new StringBuilder();
    while (m.find()) {
      for (int i = 0; i < REPLACE.length; i++) {
        if (m.group("r" + i) != null) {
          m.appendReplacement(sb, REPLACE[i][1]);
          break;
        }
      }
    }
    m.appendTail(sb);
    return sb.toString();
  }

  /** {@code \sqrt3} → {@code \sqrt{3}}, {@code \sqrt x} → {@code \sqrt{x}}. */
  private static String fixSqrt(String t) {
    if (!t.contains("\\sqrt")) {
      return t;
    }
    String[] parts = t.split("\\\\sqrt", -1);
    StringBuilder sb = new StringBuilder(parts[0]);
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].stripLeading();
      if (!p.isEmpty() && p.charAt(0) != '{' && p.charAt(0) != '[' && p.charAt(0) != '\\') {
        sb.append("\\sqrt{").append(p.charAt(0)).append('}').append(p, 1, p.length());
      } else {
        sb.append("\\sqrt").append(p);
      }
    }
    return sb.toString();
  }

  /** {@code \frac12} → {@code \frac{1}{2}}, {@code \frac1{2}} → {@code \frac{1}{2}}. */
  private static String fixFracs(String t) {
    if (!t.contains("\\frac")) {
      return t;
    }
    String[] parts = t.split("\\\\frac", -1);
    StringBuilder sb = new StringBuilder(parts[0]);
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].stripLeading();
      sb.append("\\frac");
      if (p.isEmpty() || p.charAt(0) == '{' || p.charAt(0) == '\\') {
        sb.append(p);
      } else if (p.length() < 2) {
        return t;
      } else if (p.charAt(1) != '{') {
        sb.append('{').append(p.charAt(0)).append("}{").append(p.charAt(1)).append('}').append(p, 2, p.length());
      } else {
        sb.append('{').append(p.charAt(0)).append('}').append(p, 1, p.length());
      }
    }
    return sb.toString();
  }

  /**
   * Contents of the boxes in {@code s}, read from the right. {@link Boxes#ALL}: every box, joined
   * by commas. {@link Boxes#LAST}: the last box and, going left, each box whose gap to the next
   * kept one is under 10 characters, or under 70 with a list separator (and, or, comma,
   * semicolon) and a different content. An unclosed last box runs to the end; no box → {@code s}.
   */
  static String boxed(String s, Boxes mode) {
    if (!s.contains("\\boxed") && !s.contains("\\fbox")) {
      return s;
    }
    List<String> found = new ArrayList<>();
    int limit = s.length();
    int lastStart = -1;
    while (true) {
      int b = s.lastIndexOf("\\boxed", limit - 1);
      int f = s.lastIndexOf("\\fbox", limit - 1);
      if (b < 0 && f < 0) {
        break;
      }
      int start = Math.max(b, f);
      int i = start + (b > f ? 6 : 5);
      while (i < limit && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      if (i >= limit) {
        break;
      }
      if (s.charAt(i) != '{') {
        if (found.isEmpty()) {
          found.add(s.substring(i, limit));
        }
        break;
      }
      int close = closing(s, i, limit);
      if (close < 0) {
        if (found.isEmpty()) {
          found.add(s.substring(i, limit));
        }
        break;
      }
      String content = s.substring(i + 1, close).strip();
      if (mode == Boxes.LAST && lastStart >= 0) {
        String gap = s.substring(close + 1, lastStart);
        boolean near = gap.length() < 10
            || (!content.equals(found.get(found.size() - 1)) && gap.length() < 70 && SEPARATOR.matcher(gap).find());
        if (!near) {
          break;
        }
      }
      if (found.isEmpty() || !found.get(found.size() - 1).equals(content)) {
        found.add(content);
      }
      lastStart = start;
      limit = start;
    }
    if (found.isEmpty()) {
      return s;
    }
    StringBuilder sb = new StringBuilder();
    for (int k = found.size() - 1; k >= 0; k--) {
      sb.append(found.get(k)).append(k > 0 ? "," : "");
    }
    return sb.toString();
  }

  private static final Pattern SEPARATOR = Pattern.compile("\\b(and|or)\\b|,|;");

  /** Index of the brace closing the one at {@code open} (plain brace counting), or -1. */
  private static int closing(String s, int open, int limit) {
    int depth = 0;
    for (int i = open; i < limit; i++) {
      char c = s.charAt(i);
      if (c == '{') {
        depth++;
      } else if (c == '}') {
        if (--depth == 0) {
          return i;
        }
      }
    }
    return -1;
  }

  /** {@code \cmd{X}} → {@code X} for every occurrence (balanced braces). */
  static String unwrap(String t, String cmd) {
    int i;
    int from = 0;
    while ((i = t.indexOf(cmd + "{", from)) >= 0) {
      int open = i + cmd.length();
      int close = Extract.matchBrace(t, open);
      if (close < 0) {
        break;
      }
      t = t.substring(0, i) + t.substring(open + 1, close) + t.substring(close + 1);
      from = i;
    }
    return t;
  }
}
