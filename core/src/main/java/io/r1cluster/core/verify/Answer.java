package io.r1cluster.core.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An answer after extraction and normalisation, as a small tree: a scalar expression, an unordered
 * set or an ordered tuple, an interval, a union, a matrix or a chain of relations
 * ({@code a = b = c}, {@code 1 < x \leq 2}). {@link #parse} reads normalised LaTeX (or a plain
 * expression) into it and returns null when it is not something Math-Verify's LaTeX grammar accepts
 * (unknown commands, unbalanced braces, stray alignment marks): the extractor then tries the next
 * candidate.
 *
 * <p>Reading rules (Math-Verify / latex2sympy's):
 * <ul>
 *   <li>a top-level list is a set: {@code 1, 2} = {@code \{1,2\}}; groups separated by ';' make a
 *       set of tuples ({@code p=5,q=2;p=7,q=2}); a comma-grouped number ({@code 1,000}) is a number;</li>
 *   <li>{@code (a,b)} is an open interval (equal to the pair a, b), {@code [a,b)} etc. intervals,
 *       {@code (a,b,c)} a tuple, {@code \{…\}} and {@code {…}} sets, {@code \cup} a union;</li>
 *   <li>{@code a \pm b} is the set {a+b, a−b};</li>
 *   <li>{@code X \approx v}: v when X is only symbols, else X; {@code x \in S} is S;
 *       {@code \neq}, {@code !=}, {@code <=}, {@code \le}, {@code \geqslant}, ≤ … are relations;</li>
 *   <li>a percentage is its value / 100.</li>
 * </ul>
 */
sealed interface Answer {
  /** The normalised text this was read from (for string equality and display). */
  String source();

  /** A scalar expression (number, symbol, formula) in LaTeX; {@code percent}: value / 100. */
  record Scalar(String tex, boolean percent, String source) implements Answer {}

  /** {@code ordered}: a tuple; else a finite set. */
  record Items(boolean ordered, List<Answer> items, String source) implements Answer {}

  record Interval(boolean leftOpen, Answer lo, Answer hi, boolean rightOpen, String source) implements Answer {}

  record Union(List<Answer> parts, String source) implements Answer {}

  record Matrix(int rows, int cols, List<Answer> cells, String source) implements Answer {}

  /** {@code operands.size() == ops.size() + 1}; ops are "=", "<", ">", "<=", ">=", "!=". */
  record Relation(List<Answer> operands, List<String> ops, String source) implements Answer {
    boolean equation() {
      return ops.stream().allMatch("="::equals);
    }

    /** An equation whose left side is only symbols ({@code x}, {@code AB}, {@code (p,q)}, {@code f(x)}, {@code |AB|}). */
    boolean assignment() {
      return equation() && Answer.onlySymbols(operands.get(0));
    }
  }

  /** A set of several extracted environments ("$1$ and $2$"). */
  static Answer union(List<Answer> parts, String source) {
    List<Answer> items = new ArrayList<>();
    for (Answer a : parts) {
      if (a instanceof Items s && !s.ordered()) {
        items.addAll(s.items());
      } else {
        items.add(a);
      }
    }
    return new Items(false, items, source);
  }

  int MAX_CHARS = 4_000;
  int MAX_PM = 8;

  static Answer parse(String s, boolean percent, Budget budget) {
    if (s == null) {
      return null;
    }
    String t = clean(s);
    if (t.isEmpty()) {
      return null;
    }
    if (t.length() > MAX_CHARS) {
      // a number of any length compares exactly (Exact); any other over-long candidate is skipped
      // like one that does not parse, so the extractor goes on to the next one
      if (!Exact.numeral(t)) {
        return null;
      }
      t = t.strip();
      return new Scalar(t, percent, percent ? t + "\\%" : t);
    }
    if (!wellFormed(t)) {
      // as latex2sympy: when the whole does not parse, try the last part of an equation chain
      if (!t.contains(",") && !t.contains(";")) {
        List<String> eq = splitTop(t, "=");
        if (eq.size() > 2 && wellFormed(eq.get(eq.size() - 1))) {
          return parse(eq.get(eq.size() - 1), percent, budget);
        }
      }
      return null;
    }
    if (t.endsWith("\\%") || (t.endsWith("%") && !t.endsWith("\\%"))) {
      t = t.substring(0, t.length() - (t.endsWith("\\%") ? 2 : 1)).strip();
      percent = true;
      if (t.isEmpty()) {
        return null;
      }
    }
    Answer a = new Reader(budget).read(t);
    if (percent && a instanceof Scalar sc) {
      return new Scalar(sc.tex(), true, sc.source() + "\\%");
    }
    return a;
  }

  /** Spacing commands and trailing punctuation go; nothing else changes. */
  private static String clean(String s) {
    String t = s.replace("\\quad", " ").replace("\\qquad", " ").replace("\\,", " ").replace("\\;", " ")
        .replace("\\:", " ").replace("~", " ").replace("\\displaystyle", "");
    t = t.replaceAll("(?<!\\\\)\\\\ ", " ").strip();
    while (t.endsWith(".") && t.length() > 1 && !Character.isDigit(t.charAt(t.length() - 2))) {
      t = t.substring(0, t.length() - 1).strip();
    }
    if (t.matches("-?\\d+\\.")) {
      t = t.substring(0, t.length() - 1);
    }
    while (t.endsWith(",") || t.endsWith(";")) {
      t = t.substring(0, t.length() - 1).strip();
    }
    return t;
  }

  /** LaTeX commands the answer grammar understands; anything else makes the candidate unparseable. */
  Set<String> COMMANDS = Set.copyOf(List.of(
      "frac", "sqrt", "cdot", "times", "div", "pi", "infty", "pm", "mp", "le", "ge", "leq", "geq", "leqslant",
      "geqslant", "neq", "ne", "lt", "gt", "approx", "in", "notin", "cup", "cap", "setminus", "sin", "cos", "tan",
      "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "log", "ln", "lg", "exp", "text",
      "mbox", "boxed", "circ", "degree", "binom", "dbinom", "tbinom", "ldots", "dots", "cdots", "mathbb", "emptyset",
      "varnothing", "prime", "hat", "bar", "overline", "vec", "operatorname", "lfloor", "rfloor", "lceil", "rceil",
      "langle", "rangle", "vert", "mid", "begin", "end", "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon",
      "zeta", "eta", "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau",
      "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
      "Phi", "Psi", "Omega", "sum", "prod", "int", "lim", "to", "rightarrow", "max", "min", "gcd", "lcm", "mod",
      "bmod", "pmod", "angle", "triangle", "perp", "parallel", "sim", "equiv", "cong", "neg", "land", "lor", "wedge",
      "vee", "forall", "exists", "partial", "nabla", "ell", "hbar", "Re", "Im", "det", "tr", "arg", "deg", "dim",
      "ker", "sup", "inf", "limsup", "liminf", "subset", "subseteq", "supset", "supseteq", "%", "{", "}", "|", "$",
      "mathit", "mathbf", "mathrm", "mathcal", "underline", "widehat", "tilde", "dot", "ddot", "left", "right",
      "lbrace", "rbrace", "lvert", "rvert", "choose", "sqrt[", "i", "imath", "cfrac", "dfrac", "tfrac", "nmid",
      "varpi", "varrho", "varsigma", "Upsilon", "implies", "iff", "Rightarrow", "Leftrightarrow", "le", "lbrack",
      "rbrack", "overrightarrow", "hline", "cr", "arcsec", "arccsc", "arccot", "coth", "sech", "csch", "log_"));

  Pattern CMD = Pattern.compile("\\\\([a-zA-Z]+|.)");

  private static boolean wellFormed(String t) {
    int braces = 0;
    int parens = 0;
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c == '\\' && i + 1 < t.length() && "{}".indexOf(t.charAt(i + 1)) >= 0) {
        i++;
        continue;
      }
      if (c == '{') {
        braces++;
      } else if (c == '}') {
        if (--braces < 0) {
          return false;
        }
      } else if (c == '(' || c == '[') {
        parens++;
      } else if (c == ')' || c == ']') {
        parens--;
      }
    }
    if (braces != 0 || parens != 0) {
      return false;
    }
    boolean matrix = t.contains("\\begin{");
    if (!matrix && (t.contains("&") || t.contains("\\\\"))) {
      return false;
    }
    Matcher m = CMD.matcher(t);
    while (m.find()) {
      String name = m.group(1);
      if (name.length() == 1 && !Character.isLetter(name.charAt(0))) {
        if ("{}|%$,;!#&_ \\".indexOf(name.charAt(0)) < 0) {
          return false;
        }
        continue;
      }
      if (!COMMANDS.contains(name)) {
        return false;
      }
    }
    return t.chars().anyMatch(c -> Character.isLetterOrDigit(c) || c == '\\' || c == '∞' || c == 'π');
  }

  /** True when {@code a} holds no numbers: symbols, products/quotients/powers of them, tuples, functions of them. */
  static boolean onlySymbols(Answer a) {
    if (a instanceof Items it) {
      return it.items().stream().allMatch(Answer::onlySymbols);
    }
    if (a instanceof Interval iv) {
      return onlySymbols(iv.lo()) && onlySymbols(iv.hi());
    }
    if (!(a instanceof Scalar s) || s.percent()) {
      return false;
    }
    String t = s.tex().replaceAll("\\\\(text|mathrm|mathit|operatorname)\\{([^{}]*)\\}", "$2")
        .replaceAll("_\\{?[a-zA-Z0-9]+\\}?", "");
    t = t.replaceAll("\\\\(alpha|beta|gamma|delta|theta|lambda|mu|phi|omega|sigma|angle)", "a");
    t = t.replaceAll("\\\\frac\\{([^{}]*)\\}\\{([^{}]*)\\}", "$1/$2");
    return t.matches("[a-zA-Z\\s|()/:*'^-]+") && t.chars().anyMatch(Character::isLetter) && !t.contains("\\")
        && !t.matches(".*[a-zA-Z]\\s*\\(\\s*[^)]*\\d.*");
  }

  /** Splits at top level (outside (), [], {}) on {@code sep}. */
  static List<String> splitTop(String s, String sep) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 1 < s.length() && (s.charAt(i + 1) == '{' || s.charAt(i + 1) == '}')) {
        depth += s.charAt(i + 1) == '{' ? 1 : -1;
        i++;
        continue;
      }
      if (c == '{' || c == '(' || c == '[') {
        depth++;
      } else if (c == '}' || c == ')' || c == ']') {
        depth--;
      } else if (depth == 0 && s.startsWith(sep, i)) {
        if (sep.equals("=") && i > 0 && "<>!\\".indexOf(s.charAt(i - 1)) >= 0) {
          continue;
        }
        out.add(s.substring(start, i).strip());
        start = i + sep.length();
        i += sep.length() - 1;
      }
    }
    out.add(s.substring(start).strip());
    return out;
  }

  /** Reads one normalised answer; recursion is bounded by the input length (≤ {@link #MAX_CHARS}). */
  final class Reader {
    private static final Pattern REL = Pattern.compile(
        "\\\\(?:leqslant|geqslant|leq|geq|neq|le|ge|ne|lt|gt)(?![a-zA-Z])|<=|>=|!=|=|<|>|≤|≥|≠");
    private static final Pattern THOUSANDS = Pattern.compile("^-?\\d{1,3}(,\\d{3})+(\\.\\d+)?$");
    private static final Pattern MATRIX = Pattern.compile(
        "^\\\\begin\\{([pbBvV]?matrix|array)\\}(\\{[^}]*\\})?(.*)\\\\end\\{\\1\\}$", Pattern.DOTALL);

    private final Budget budget;
    private int pmCount;

    Reader(Budget budget) {
      this.budget = budget;
    }

    Answer read(String s) {
      budget.check();
      String t = s.strip();
      // X \approx v: v when X is a symbol, else X
      List<String> approx = splitTop(t, "\\approx");
      if (approx.size() > 1) {
        Answer lhs = read(approx.get(0));
        if (onlySymbols(lhs)) {
          return read(approx.get(1));
        }
        return lhs;
      }
      // x \in S → S
      List<String> in = splitTop(t.replaceAll("\\\\in(?![a-zA-Z])", "\\\\in "), "\\in ");
      if (in.size() == 2) {
        Answer lhs = read(in.get(0));
        if (onlySymbols(lhs)) {
          return read(in.get(1));
        }
      }
      // lists: ';' groups of ',' items
      if (!THOUSANDS.matcher(t.replace(" ", "")).matches()) {
        List<String> groups = splitTop(t, ";");
        List<List<String>> parts = new ArrayList<>();
        boolean list = groups.size() > 1;
        for (String g : groups) {
          List<String> items = splitTop(g, ",");
          list |= items.size() > 1;
          parts.add(items);
        }
        if (list) {
          return list(parts, t);
        }
      }
      List<String> union = splitTop(t, "\\cup");
      if (union.size() > 1) {
        List<Answer> ps = new ArrayList<>();
        for (String u : union) {
          ps.add(read(u));
        }
        return new Union(ps, t);
      }
      Answer rel = relation(t);
      if (rel != null) {
        return rel;
      }
      return atom(t);
    }

    private Answer list(List<List<String>> groups, String source) {
      if (groups.size() == 1 || groups.stream().allMatch(g -> g.size() == 1)) {
        List<Answer> items = new ArrayList<>();
        for (List<String> g : groups) {
          for (String x : g) {
            if (!x.isEmpty()) {
              items.add(read(x));
            }
          }
        }
        return items.size() == 1 ? items.get(0) : new Items(false, items, source);
      }
      List<Answer> tuples = new ArrayList<>();
      for (List<String> g : groups) {
        List<Answer> items = new ArrayList<>();
        for (String x : g) {
          items.add(read(x));
        }
        tuples.add(new Items(true, items, String.join(",", g)));
      }
      return new Items(false, tuples, source);
    }

    /** A chain {@code a op b op c …} split at top-level relation operators, or null. */
    private Answer relation(String t) {
      List<String> operands = new ArrayList<>();
      List<String> ops = new ArrayList<>();
      int depth = 0;
      int start = 0;
      Matcher m = REL.matcher(t);
      int i = 0;
      while (i < t.length()) {
        char c = t.charAt(i);
        if (c == '{' || c == '(' || c == '[') {
          depth++;
        } else if (c == '}' || c == ')' || c == ']') {
          depth--;
        }
        m.region(i, t.length());
        if (depth == 0 && m.lookingAt() && !(c == '\\' && i + 1 < t.length() && "{}".indexOf(t.charAt(i + 1)) >= 0)) {
          operands.add(t.substring(start, i).strip());
          ops.add(op(m.group()));
          i = m.end();
          start = i;
          continue;
        }
        i++;
      }
      if (ops.isEmpty()) {
        return null;
      }
      operands.add(t.substring(start).strip());
      if (operands.stream().anyMatch(String::isEmpty)) {
        return null;
      }
      List<Answer> read = new ArrayList<>();
      for (String o : operands) {
        read.add(atomOrList(o));
      }
      return new Relation(read, ops, t);
    }

    private Answer atomOrList(String o) {
      return atom(o);
    }

    private static String op(String raw) {
      return switch (raw) {
        case "\\leqslant", "\\leq", "\\le", "<=", "≤" -> "<=";
        case "\\geqslant", "\\geq", "\\ge", ">=", "≥" -> ">=";
        case "\\neq", "\\ne", "!=", "≠" -> "!=";
        case "\\lt", "<" -> "<";
        case "\\gt", ">" -> ">";
        default -> "=";
      };
    }

    private Answer atom(String s) {
      budget.check();
      String t = s.strip();
      Matcher mx = MATRIX.matcher(t);
      if (mx.matches()) {
        return matrix(mx.group(3), t);
      }
      if (t.startsWith("\\{") && t.endsWith("\\}") && closesAtEnd(t, 1)) {
        return items(t.substring(2, t.length() - 2), false, t);
      }
      if (t.startsWith("{") && t.endsWith("}") && closesAtEnd(t, 0)) {
        String inner = t.substring(1, t.length() - 1);
        if (splitTop(inner, ",").size() > 1 || splitTop(inner, ";").size() > 1) {
          return items(inner, false, t);
        }
        return atom(inner);
      }
      if (t.length() >= 2 && "([".indexOf(t.charAt(0)) >= 0 && ")]".indexOf(t.charAt(t.length() - 1)) >= 0
          && closesAtEnd(t, 0)) {
        String inner = t.substring(1, t.length() - 1);
        List<String> parts = splitTop(inner, ",");
        if (parts.size() == 1 && inner.contains(";")) {
          parts = splitTop(inner, ";");
        }
        if (parts.size() == 2 && t.charAt(0) == '(' && t.charAt(t.length() - 1) == ')' && descending(parts)) {
          return new Items(true, List.of(read(parts.get(0)), read(parts.get(1))), t);
        }
        if (parts.size() == 2) {
          return new Interval(t.charAt(0) == '(', read(parts.get(0)), read(parts.get(1)), t.charAt(t.length() - 1) == ')', t);
        }
        if (parts.size() > 2) {
          List<Answer> items = new ArrayList<>();
          for (String p : parts) {
            items.add(read(p));
          }
          return new Items(true, items, t);
        }
        if (parts.size() == 1) {
          Answer in = read(inner);
          if (in instanceof Matrix) {
            return in;
          }
        }
        if (t.charAt(0) == '(' && t.charAt(t.length() - 1) == ')') {
          Answer in = read(inner);
          if (!(in instanceof Scalar)) {
            return in;
          }
        }
      }
      if (t.contains("\\pm") || t.contains("\\mp")) {
        return plusMinus(t);
      }
      return new Scalar(t, false, t);
    }

    /** Two numbers with the first not below the second: SymPy cannot make an interval of them. */
    private static boolean descending(List<String> parts) {
      try {
        Exact a = Exact.of(parts.get(0), false);
        Exact b = Exact.of(parts.get(1), false);
        return a != null && b != null && a.rounded(12).compareTo(b.rounded(12)) >= 0;
      } catch (Budget.Exhausted e) {
        return false;
      }
    }

    private Answer items(String inner, boolean ordered, String source) {
      List<String> parts = splitTop(inner, ",");
      if (parts.size() == 1) {
        parts = splitTop(inner, ";");
      }
      List<Answer> items = new ArrayList<>();
      for (String p : parts) {
        if (!p.isEmpty()) {
          items.add(read(p));
        }
      }
      return new Items(ordered, items, source);
    }

    private Answer matrix(String body, String source) {
      List<Answer> cells = new ArrayList<>();
      int cols = -1;
      int rows = 0;
      for (String row : body.split("\\\\\\\\")) {
        budget.check();
        if (row.isBlank() || row.strip().equals("\\hline")) {
          continue;
        }
        String[] cs = row.split("&", -1);
        if (cols >= 0 && cols != cs.length) {
          return new Scalar(source, false, source);
        }
        cols = cs.length;
        rows++;
        for (String c : cs) {
          cells.add(read(c.strip()));
        }
      }
      return new Matrix(rows, Math.max(cols, 0), cells, source);
    }

    /** {@code a \pm b} → {a+b, a−b}; at most {@link #MAX_PM} signs per answer (2^8 values). */
    private Answer plusMinus(String t) {
      List<String> out = new ArrayList<>();
      expand(t, out);
      List<Answer> items = new ArrayList<>();
      for (String e : out) {
        items.add(new Scalar(e, false, e));
      }
      return items.size() == 1 ? items.get(0) : new Items(false, items, t);
    }

    private void expand(String t, List<String> out) {
      budget.check();
      int i = t.indexOf("\\pm");
      int j = t.indexOf("\\mp");
      int k = i < 0 ? j : (j < 0 ? i : Math.min(i, j));
      if (k < 0) {
        out.add(t);
        return;
      }
      pmCount++;
      Budget.cap(pmCount > (1 << MAX_PM), "\\pm expansion");
      boolean pm = t.startsWith("\\pm", k);
      String head = t.substring(0, k);
      String tail = t.substring(k + 3);
      String plus = head + (head.isBlank() ? "" : "+") + tail;
      String minus = head + "-" + tail;
      expand(pm ? plus : minus, out);
      expand(pm ? minus : plus, out);
    }

    private static boolean closesAtEnd(String t, int open) {
      int depth = 0;
      for (int i = open; i < t.length(); i++) {
        char c = t.charAt(i);
        if (c == '\\' && i + 1 < t.length() && "{}".indexOf(t.charAt(i + 1)) >= 0) {
          depth += t.charAt(i + 1) == '{' ? 1 : -1;
          if (depth == 0 && i + 1 != t.length() - 1) {
            return false;
          }
          i++;
          continue;
        }
        if (c == '(' || c == '[' || c == '{') {
          depth++;
        } else if (c == ')' || c == ']' || c == '}') {
          depth--;
          if (depth == 0 && i != t.length() - 1) {
            return false;
          }
        }
      }
      return depth == 0;
    }
  }

  /** Lower-case letters outside command names (Math-Verify's symbols are case-insensitive). */
  static String canonical(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\') {
        int j = i + 1;
        while (j < s.length() && Character.isLetter(s.charAt(j))) {
          j++;
        }
        sb.append(s, i, Math.max(j, i + 2 <= s.length() ? i + 2 : j));
        i = Math.max(j, i + 2) - 1;
        continue;
      }
      if (!Character.isWhitespace(c)) {
        sb.append(Character.toLowerCase(c));
      }
    }
    return sb.toString();
  }
}
