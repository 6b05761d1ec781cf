package io.r1cluster.core.verify;

import io.r1cluster.core.verify.Answer.Scalar;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Symbols as Math-Verify's LaTeX reader treats them: letters are case-insensitive
 * ({@code X^2} = {@code x^2}), a {@code \text{word}} is one symbol and equals the product of its
 * letters ({@code \text{Alice}} = {@code alice}).
 */
final class Symbols {
  private Symbols() {}

  private static final Pattern WORD = Pattern.compile("^(?:\\\\text\\{\\s*([A-Za-z][A-Za-z ]*)\\}|([A-Za-z]+))$");
  private static final Pattern TEXT = Pattern.compile("\\\\(?:text|mbox|operatorname)\\{([^{}]*)\\}");

  /** The lower-case letters of a one-word answer, or null. */
  static String word(Scalar s) {
    if (s.percent()) {
      return null;
    }
    Matcher m = WORD.matcher(s.tex().strip());
    if (!m.matches()) {
      return null;
    }
    String w = m.group(1) != null ? m.group(1) : m.group(2);
    return w.replace(" ", "").toLowerCase(java.util.Locale.ROOT);
  }

  /** LaTeX the CAS reads: words unwrapped, letters folded to lower case, operators spelled out. */
  static String forCas(String tex) {
    String t = TEXT.matcher(tex).replaceAll(m -> Matcher.quoteReplacement(m.group(1).strip()));
    t = t.replace("\\cdot", "*").replace("\\times", "*").replace("\\div", "/").replace("\\infty", "\\infty ")
        .replace("^\\circ", "").replace("^{\\circ}", "").replace("\\%", "/100").replace(":", "/");
    StringBuilder sb = new StringBuilder(t.length());
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c == '\\') {
        int j = i + 1;
        while (j < t.length() && Character.isLetter(t.charAt(j))) {
          j++;
        }
        j = Math.max(j, Math.min(i + 2, t.length()));
        sb.append(t, i, j);
        i = j - 1;
        continue;
      }
      sb.append(Character.isLetter(c) && c != 'E' && c != 'I' ? Character.toLowerCase(c) : c);
    }
    return sb.toString();
  }
}
