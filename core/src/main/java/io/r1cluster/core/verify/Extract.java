package io.r1cluster.core.verify;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds the answer in a text the way Math-Verify does with its LaTeX and plain-expression targets
 * (boxed first). Candidates come in priority groups; inside a group the candidate that ends last
 * (then the one that starts first) is tried first, and the first one that {@link Answer#parse
 * parses} is the answer:
 * <pre>
 *   0    a box: a math environment holding {@code \boxed{…}}, or {@code \boxed{…}} itself
 *        ("final answer is X. I hope" too)
 *   50   "final answer … is X"
 *   100  "answer: … X" (for plain numbers: the value after the last '=' of the phrase)
 *   200  "answer … X"
 *   300  any math environment ({@code $…$}, {@code $$…$$}, {@code \(…\)}, {@code \[…\]},
 *        " […] ", a bare numeric {@code \frac}) or plain number / arithmetic expression
 * </pre>
 * A math environment followed by ", and/or/," and up to five more environments is one answer
 * (a set of them); "%" / "percent" right after it makes it a percentage. Plain numbers may carry
 * thousands separators (comma or space), a decimal comma, a leading currency sign and a trailing
 * percent; they must start the text or follow a space or '='. Also keeps the first candidate's
 * text as a fallback for plain string comparison, as Math-Verify does.
 */
public final class Extract {
  private Extract() {}

  /** One extracted answer: its normalised LaTeX, whether it is a percentage, and where it came from. */
  record Candidate(String latex, boolean percent, boolean plainExpr, int start, int end) {}

  /** What a text yields: the parsed answer (if any) and the fallback string of the first candidate. */
  record Result(Answer answer, String fallback) {
    static final Result NONE = new Result(null, null);
  }

  private static final Pattern JOIN = Pattern.compile("\\s*(?:,?and|,?or|,)\\s*");

  private static final String NUMBER = "(?<!\\d)(?:"
      + "(?<i1>-?[1-9]\\d{0,2}(?:[ ,]\\d{3})+)(?<d1>\\.\\d+)?"
      + "|(?<i2>-?\\d+)(?<d2>[.,]\\d+)"
      + "|(?<d3>\\.\\d+)"
      + "|(?<i3>-?\\d+))"
      + "(?<npct>\\s*(?:%|[Pp]ercent|\\s*[Pp]ercentage|\\s*[Pp]ct))?";
  private static final String OPS = "+\\-*×/^()÷";
  private static final String EXPR_CHARS = "[\\d.\\s" + OPS + "]";
  private static final String EXPR = "(?<expr>-?\\(?-?\\d" + EXPR_CHARS + "*[" + OPS + "]" + EXPR_CHARS + "+\\)?)";
  private static final String CURRENCY = "[$€£¥₹₽₪₩₫฿₡₢₣₤₥₦₧₨₭₮₯₰₱₲₳₴₵₶₷₸₺₻₼₾₿]";
  private static final String PREFIX = "(?:^|\\s|=)(?:\\*\\*)?";
  private static final String EXPR_ANCHORED = PREFIX + EXPR + "(?:\\*\\*)?(?:\\.|,|:|\\s|\\)|\\$|$)";
  private static final String NUMBER_ANCHORED = PREFIX + CURRENCY + "?" + NUMBER;
  private static final Pattern PLAIN_EXPR = Pattern.compile(EXPR_ANCHORED);
  private static final Pattern PLAIN_NUMBER = Pattern.compile(NUMBER_ANCHORED);
  private static final Pattern EXPR_OR_NUMBER = Pattern.compile("(?:" + EXPR_ANCHORED + "|" + NUMBER_ANCHORED + ")");

  private static final Pattern FINAL_IS_HOPE = Pattern.compile("(?i:final answer is):?");
  private static final Pattern FINAL_IS = Pattern.compile("(?i:final answer)");
  private static final Pattern ANSWER = Pattern.compile("(?i:answer)");
  private static final Pattern IS = Pattern.compile("\\s+is:?");

  /** Index of the brace matching the one at {@code open}, or -1 (escaped braces skipped). */
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

  /** The answer a completion commits to, as normalised LaTeX (for display and reward logs). */
  public static Optional<String> prediction(String completion) {
    Result r = extract(completion, Budget.ofMillis(5_000));
    if (r.answer() != null) {
      return Optional.of(r.answer().source());
    }
    return Optional.ofNullable(r.fallback());
  }

  /** The gold answer in a solution text, as normalised LaTeX. */
  public static Optional<String> gold(String solution) {
    if (solution == null || solution.isBlank()) {
      return Optional.empty();
    }
    return prediction(solution);
  }

  // ---- the extraction proper ----

  private record Env(int start, int end, String latex, boolean percent, boolean boxedGroup, boolean fraction) {}

  private record Hit(int start, int end, List<Env> envs, String plainLatex, boolean plainPercent, boolean boxedAll) {}

  /** Extracts and parses; {@link Result#NONE} when nothing in the text looks like an answer. */
  static Result extract(String raw, Budget budget) {
    Budget.Text text = budget.guard(raw);
    List<Env> envs = envs(text, budget);
    String fallback = null;
    for (int priority : new int[] {0, 50, 100, 200, 300}) {
      budget.check();
      List<Hit> hits = hits(text, priority, envs, budget);
      hits.sort(Comparator.comparingInt((Hit h) -> h.end).reversed().thenComparingInt(h -> h.start));
      for (Hit h : hits) {
        budget.check();
        Answer a;
        String str;
        if (h.envs != null) {
          List<Answer> parts = new ArrayList<>();
          List<String> strs = new ArrayList<>();
          boolean ok = true;
          for (Env e : h.envs) {
            String norm = LatexNormalizer.normalize(e.latex, h.boxedAll ? LatexNormalizer.Boxes.ALL : LatexNormalizer.Boxes.ALL);
            strs.add(norm);
            Answer p = Answer.parse(norm, e.percent, budget);
            if (p == null) {
              ok = false;
            }
            parts.add(p);
          }
          str = String.join(" and ", strs);
          a = parts.size() == 1 ? parts.get(0) : (ok ? Answer.union(parts, str) : parts.get(0));
        } else {
          str = h.plainLatex;
          a = Answer.parse(h.plainLatex, h.plainPercent, budget);
        }
        if (fallback == null && str != null && !str.isEmpty()) {
          fallback = str;
        }
        if (a != null) {
          return new Result(a, fallback);
        }
      }
    }
    return new Result(null, fallback);
  }

  private static final Pattern FRACTION = Pattern.compile("-?\\\\frac\\{-?\\d+(?:[.,]\\d+)?\\}\\{-?\\d+(?:[.,]\\d+)?\\}");
  private static final Pattern PERCENT = Pattern.compile("\\s*(?:\\\\?%|[Pp]ercent|[Pp]ercentage|[Pp]ct)");

  /**
   * Every math environment, left to right, non-overlapping; at one position the forms are tried in
   * the order $$…$$, \\[…\\], $…$, \\(…\\), " […] ", numeric \\frac. A hand-written scanner (no
   * regex group repetition), so a megabyte of digits costs linear time and no deep recursion.
   */
  private static List<Env> envs(Budget.Text text, Budget budget) {
    List<Env> out = new ArrayList<>();
    int n = text.length();
    int i = 0;
    Matcher frac = FRACTION.matcher(text);
    Matcher pct = PERCENT.matcher(text);
    while (i < n) {
      if ((i & 0xFFF) == 0) {
        budget.check();
      }
      char c = text.charAt(i);
      boolean escaped = i > 0 && text.charAt(i - 1) == '\\';
      int bodyStart = -1;
      int bodyEnd = -1;
      int end = -1;
      boolean isFrac = false;
      if (c == '$' && !escaped && text.startsWith("$$", i)) {
        int j = i + 2;
        while (true) {
          int k = text.indexOf("$$", j);
          if (k < 0) {
            break;
          }
          if (text.charAt(k - 1) != '\\' && k > i + 2) {
            bodyStart = i + 2;
            bodyEnd = k;
            end = k + 2;
            break;
          }
          j = k + 1;
        }
      }
      if (end < 0 && c == '\\' && !escaped && i + 1 < n && text.charAt(i + 1) == '[') {
        int j = i + 2;
        while (true) {
          int k = text.indexOf("\\]", j);
          if (k < 0) {
            break;
          }
          if (k > i + 2 && text.charAt(k - 1) != '\\') {
            bodyStart = i + 2;
            bodyEnd = k;
            end = k + 2;
            break;
          }
          j = k + 1;
        }
      }
      if (end < 0 && c == '$' && !escaped && !(i > 0 && Character.isDigit(text.charAt(i - 1)))) {
        int j = i + 1;
        while (j < n) {
          char d = text.charAt(j);
          if (d == '\\' && j + 1 < n && text.charAt(j + 1) == '$') {
            j += 2;
            continue;
          }
          if (d == '\n') {
            break;
          }
          if (d == '$') {
            if (j > i + 1 && text.charAt(j - 1) != '\\') {
              bodyStart = i + 1;
              bodyEnd = j;
              end = j + 1;
            }
            break;
          }
          j++;
        }
      }
      if (end < 0 && c == '\\' && !escaped && i + 1 < n && text.charAt(i + 1) == '(') {
        int j = i + 2;
        while (j < n) {
          char d = text.charAt(j);
          if (d == '\n') {
            break;
          }
          if (d == '\\' && j + 1 < n && text.charAt(j + 1) == ')') {
            if (j > i + 2 && text.charAt(j - 1) != '\\') {
              bodyStart = i + 2;
              bodyEnd = j;
              end = j + 2;
            }
            break;
          }
          j++;
        }
      }
      if (end < 0 && Character.isWhitespace(c) && i + 1 < n && text.charAt(i + 1) == '[') {
        int j = i + 2;
        while (j < n && text.charAt(j) != '\n' && text.charAt(j) != ']' && text.charAt(j) != '[') {
          j++;
        }
        if (j < n && text.charAt(j) == ']' && j > i + 2 && j + 1 < n && Character.isWhitespace(text.charAt(j + 1))) {
          bodyStart = i + 2;
          bodyEnd = j;
          end = j + 2;
        }
      }
      if (end < 0 && (c == '\\' || c == '-') && frac.region(i, n).lookingAt()) {
        bodyStart = i;
        bodyEnd = frac.end();
        end = frac.end();
        isFrac = true;
      }
      if (end < 0) {
        i++;
        continue;
      }
      boolean percent = false;
      if (end < n && pct.region(end, n).lookingAt()) {
        percent = true;
        end = pct.end();
      }
      out.add(new Env(i, end, text.substring(bodyStart, bodyEnd), percent, false, isFrac));
      i = end;
    }
    return out;
  }

  /** Chains of environments joined by "," / "and" / "or", starting at env {@code i} (up to 6). */
  private static List<Env> chain(Budget.Text text, List<Env> envs, int i) {
    List<Env> c = new ArrayList<>();
    c.add(envs.get(i));
    for (int j = i + 1; j < envs.size() && c.size() < 6; j++) {
      Env prev = c.get(c.size() - 1);
      String gap = text.substring(prev.end, envs.get(j).start);
      if (!JOIN.matcher(gap).matches() || envs.get(j).fraction) {
        break;
      }
      c.add(envs.get(j));
    }
    return c;
  }

  private static List<Hit> hits(Budget.Text text, int priority, List<Env> envs, Budget budget) {
    List<Hit> out = new ArrayList<>();
    switch (priority) {
      case 0 -> {
        // "final answer is X. I hope" (the MATH few-shot phrasing)
        Matcher fm = FINAL_IS_HOPE.matcher(text);
        while (fm.find()) {
          budget.check();
          Hit h = after(text, fm.end(), envs, true, 0);
          if (h != null) {
            int k = h.end;
            if (k < text.length() && text.charAt(k) == '.') {
              k++;
            }
            if (k < text.length() && Character.isWhitespace(text.charAt(k))) {
              k++;
            }
            if (text.startsWith("I hope", k)) {
              out.add(new Hit(fm.start(), k + 6, h.envs, h.plainLatex, h.plainPercent, false));
            }
          }
        }
        // a math environment that holds a box, chained like any other
        int i = 0;
        while (i < envs.size()) {
          Env e = envs.get(i);
          if (!e.fraction && (e.latex.contains("\\boxed{") || e.latex.contains("\\fbox{"))) {
            List<Env> c = new ArrayList<>();
            c.add(e);
            for (int j = i + 1; j < envs.size() && c.size() < 6; j++) {
              Env n = envs.get(j);
              String gap = text.substring(c.get(c.size() - 1).end, n.start);
              if (!JOIN.matcher(gap).matches() || !(n.latex.contains("\\boxed{") || n.latex.contains("\\fbox{"))) {
                break;
              }
              c.add(n);
            }
            out.add(new Hit(c.get(0).start, c.get(c.size() - 1).end, c, null, false, true));
            i += c.size();
          } else {
            i++;
          }
        }
        // a bare \boxed{…}: from the first box to the last '}' of the text; the last box(es) win
        int b = firstBox(text);
        int last = text.lastIndexOf('}');
        if (b >= 0 && last > b) {
          String inner = text.substring(b, last + 1);
          String norm = LatexNormalizer.normalize(inner, LatexNormalizer.Boxes.LAST);
          out.add(new Hit(b, last + 1, null, norm, false, false));
        }
      }
      case 50 -> {
        Matcher m = FINAL_IS.matcher(text);
        while (m.find()) {
          budget.check();
          int lim = Math.min(text.length(), m.end() + 101);
          // ".{0,100}?\s+is:?" then the answer
          Matcher is = IS.matcher(text).region(m.end(), lim + 4 > text.length() ? text.length() : lim + 4);
          while (is.find()) {
            if (is.start() - m.end() > 100) {
              break;
            }
            Hit h = after(text, is.end(), envs, true, 0);
            if (h != null) {
              out.add(new Hit(m.start(), h.end, h.envs, h.plainLatex, h.plainPercent, false));
              break;
            }
          }
        }
      }
      case 100, 200 -> {
        Matcher m = ANSWER.matcher(text);
        while (m.find()) {
          budget.check();
          int from = m.end();
          if (priority == 100) {
            if (from >= text.length() || text.charAt(from) != ':') {
              continue;
            }
            from++;
          }
          Hit h = anchoredAnswer(text, from, envs);
          if (h != null) {
            out.add(new Hit(m.start(), h.end, h.envs, h.plainLatex, h.plainPercent, false));
          }
        }
      }
      default -> {
        for (int i = 0; i < envs.size(); ) {
          List<Env> c = chain(text, envs, i);
          out.add(new Hit(c.get(0).start, c.get(c.size() - 1).end, c, null, false, false));
          i += c.size();
        }
        addPlain(text, PLAIN_EXPR, out, budget);
        addPlain(text, PLAIN_NUMBER, out, budget);
      }
    }
    return out;
  }

  private static int firstBox(Budget.Text text) {
    int b = text.indexOf("\\boxed");
    int f = text.indexOf("\\fbox");
    return b < 0 ? f : (f < 0 ? b : Math.min(b, f));
  }

  /** "answer[:] … X": a math environment starting within 50 characters, else a number/expression. */
  private static Hit anchoredAnswer(Budget.Text text, int from, List<Env> envs) {
    for (Env e : envs) {
      if (e.start >= from && e.start - from <= 50) {
        int idx = envs.indexOf(e);
        List<Env> c = chain(text, envs, idx);
        return new Hit(e.start, c.get(c.size() - 1).end, c, null, false, false);
      }
    }
    // plain value: after the last '=' within 100 characters on this line, else the first within 50
    int lineEnd = text.indexOf('\n', from);
    int lim = lineEnd < 0 ? text.length() : lineEnd;
    int eq = -1;
    for (int i = from; i < Math.min(lim, from + 101); i++) {
      if (text.charAt(i) == '=') {
        eq = i;
      }
    }
    if (eq >= 0) {
      int k = eq + 1;
      while (k < text.length() && Character.isWhitespace(text.charAt(k))) {
        k++;
      }
      Hit h = plainAt(text, k - 1 >= 0 ? k - 1 : k, true);
      if (h != null) {
        return h;
      }
    }
    for (int i = from; i <= Math.min(lim, from + 50); i++) {
      Hit h = plainAt(text, i, false);
      if (h != null) {
        return h;
      }
    }
    return null;
  }

  private static Hit after(Budget.Text text, int from, List<Env> envs, boolean skipSpace, int unused) {
    int k = from;
    while (skipSpace && k < text.length() && Character.isWhitespace(text.charAt(k))) {
      k++;
    }
    for (Env e : envs) {
      if (e.start == k) {
        List<Env> c = chain(text, envs, envs.indexOf(e));
        return new Hit(e.start, c.get(c.size() - 1).end, c, null, false, false);
      }
    }
    return plainAt(text, from, false);
  }

  /** A plain number or expression whose anchor (start, space or '=') is at {@code at}. */
  private static Hit plainAt(Budget.Text text, int at, boolean afterEquals) {
    if (at < 0 || at > text.length()) {
      return null;
    }
    Matcher m = EXPR_OR_NUMBER.matcher(text);
    m.region(at, text.length());
    m.useAnchoringBounds(false);
    m.useTransparentBounds(true);
    if (m.lookingAt()) {
      Hit h = plainHit(text, m);
      if (h != null && !followedByEquals(text, h.end)) {
        return h;
      }
    }
    if (afterEquals) {
      m.region(at + 1 <= text.length() ? at + 1 : at, text.length());
      if (m.lookingAt()) {
        Hit h = plainHit(text, m);
        if (h != null && !followedByEquals(text, h.end)) {
          return h;
        }
      }
    }
    return null;
  }

  private static boolean followedByEquals(Budget.Text text, int end) {
    int k = end;
    while (k < text.length() && Character.isWhitespace(text.charAt(k))) {
      k++;
    }
    return k < text.length() && text.charAt(k) == '=';
  }

  private static void addPlain(Budget.Text text, Pattern p, List<Hit> out, Budget budget) {
    Matcher m = p.matcher(text);
    while (m.find()) {
      budget.check();
      Hit h = plainHit(text, m);
      if (h != null) {
        out.add(h);
      }
    }
  }

  /** A number as plain LaTeX (separators dropped, decimal comma → point) or an expression. */
  private static Hit plainHit(Budget.Text text, Matcher m) {
    String expr = group(m, "expr");
    String integer = firstNonNull(group(m, "i1"), group(m, "i2"), group(m, "i3"));
    String decimal = firstNonNull(group(m, "d1"), group(m, "d2"), group(m, "d3"));
    if (integer != null || decimal != null) {
      String i = integer == null ? "" : integer.replace(",", "").replace(" ", "");
      boolean neg = i.startsWith("-");
      String digits = (neg ? i.substring(1) : i).replaceFirst("^0+", "");
      if (digits.isEmpty()) {
        digits = "0";
      }
      String d = decimal == null ? "" : decimal.replace(',', '.');
      String num = (neg ? "-" : "") + digits + d;
      return new Hit(m.start(), m.end(), null, num, group(m, "npct") != null, false);
    }
    if (expr != null) {
      String e = expr.replace('\n', ' ').replace("×", "*").replace("÷", "/").strip();
      return new Hit(m.start(), m.end(), null, e, false, false);
    }
    return null;
  }

  private static String group(Matcher m, String name) {
    try {
      return m.group(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String firstNonNull(String... xs) {
    for (String x : xs) {
      if (x != null) {
        return x;
      }
    }
    return null;
  }
}
