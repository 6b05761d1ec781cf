package io.r1cluster.core.verify;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.matheclipse.core.eval.ExprEvaluator;
import org.matheclipse.core.expression.F;
import org.matheclipse.core.form.tex.TeXParser;
import org.matheclipse.core.interfaces.IExpr;

/**
 * Decides whether a predicted answer equals a gold answer, the way Hugging Face Math-Verify does
 * for open-r1's {@code accuracy} reward.
 *
 * <p>Pipeline: extraction ({@link Extract}) → normalisation ({@link LatexNormalizer}) → structure
 * (equation, inequality/interval, union, set, tuple, matrix, ±, list) → scalar comparison. Scalars
 * are first compared exactly as rationals (integers, decimals, {@code a/b}, {@code \frac{a}{b}});
 * decimals also match after rounding to {@code precision} digits. Everything else goes to the Symja
 * computer-algebra system ({@code a − b} simplifies to 0, or is numerically below
 * 10<sup>−precision</sup>). Every CAS call runs on a worker thread with a deadline; a timeout counts
 * as "not verified" and is counted, never a hang.
 *
 * <p>Thread-safe. The CAS is initialised lazily on first use (about 2 s) and shared.
 */
public final class MathVerifier {
  /** Math-Verify's default float rounding. */
  public static final int DEFAULT_PRECISION = 6;

  private static final Pattern RATIONAL = Pattern.compile("^([+-]?)(\\d+(?:\\.\\d+)?|\\.\\d+)(?:/(\\d+(?:\\.\\d+)?))?$");
  private static final Pattern FRAC = Pattern.compile("^([+-]?)\\\\frac\\{([+-]?\\d+(?:\\.\\d+)?)\\}\\{([+-]?\\d+(?:\\.\\d+)?)\\}$");
  private static final Pattern SINGLE_VAR = Pattern.compile("^\\\\?[a-zA-Z](_\\{?\\w+\\}?)?$");

  private final int precision;
  private final Duration timeout;
  private final AtomicLong timeouts = new AtomicLong();
  private final AtomicLong casCalls = new AtomicLong();
  private ExecutorService cas;
  private ExprEvaluator evaluator;

  public MathVerifier() {
    this(DEFAULT_PRECISION, Duration.ofSeconds(5));
  }

  public MathVerifier(int precision, Duration timeout) {
    this.precision = precision;
    this.timeout = timeout;
  }

  /** Comparisons that hit the deadline so far. */
  public long timeouts() {
    return timeouts.get();
  }

  /** Calls that needed the computer-algebra system so far. */
  public long casCalls() {
    return casCalls.get();
  }

  /**
   * Verifies a completion or bare answer ({@code pred}) against a gold solution text.
   * Returns empty when the gold cannot be parsed (the reward gives no score then).
   */
  public Optional<Boolean> verifyCompletion(String gold, String completion) {
    Optional<String> g = Extract.gold(gold);
    if (g.isEmpty() || LatexNormalizer.normalize(g.get()).isEmpty()) {
      return Optional.empty();
    }
    Optional<String> p = Extract.prediction(completion);
    if (p.isEmpty()) {
      return Optional.of(false);
    }
    return Optional.of(equivalent(g.get(), p.get(), precision));
  }

  /** Verifies two answers (each may still carry delimiters or a box). */
  public boolean verify(String gold, String pred) {
    return verify(gold, pred, precision);
  }

  public boolean verify(String gold, String pred, int digits) {
    String g = Extract.gold(gold).orElse(gold);
    List<String> pb = Extract.boxes(pred);
    String p = pb.isEmpty() ? pred : pb.get(pb.size() - 1);
    return equivalent(g, p, digits);
  }

  boolean equivalent(String goldRaw, String predRaw, int digits) {
    String g = LatexNormalizer.normalize(goldRaw);
    String p = LatexNormalizer.normalize(predRaw);
    if (g.isEmpty() || p.isEmpty()) {
      return false;
    }
    if (g.equals(p)) {
      return true;
    }
    return compare(g, p, digits);
  }

  private boolean compare(String g, String p, int digits) {
    if (g.equals(p) || g.replace(" ", "").equals(p.replace(" ", ""))) {
      return true;
    }
    // equations: "x = 3" against "3", or two equations
    String[] ge = splitTop(g, "=");
    String[] pe = splitTop(p, "=");
    if (ge.length == 2 && pe.length == 2) {
      if (isVar(ge[0]) && isVar(pe[0])) {
        return ge[0].trim().equals(pe[0].trim()) && compare(ge[1].trim(), pe[1].trim(), digits);
      }
      return equationsEquivalent(ge, pe);
    }
    if (pe.length == 2 && ge.length == 1) {
      return isVar(pe[0]) ? compare(g, pe[1].trim(), digits) : (isVar(pe[1]) && compare(g, pe[0].trim(), digits));
    }
    if (ge.length == 2 && pe.length == 1) {
      return isVar(ge[0]) && compare(ge[1].trim(), p, digits);
    }
    // inequalities become intervals; two inequalities must be in the same variable
    Intervals.Inequality gi = Intervals.parse(g);
    Intervals.Inequality pi = Intervals.parse(p);
    if (gi != null && pi != null && !gi.variable().equals(pi.variable())) {
      return false;
    }
    g = gi != null ? gi.interval() : g;
    p = pi != null ? pi.interval() : p;
    // unions of intervals and sets are order-free collections
    List<String> gu = splitTopAll(g, "\\cup");
    List<String> pu = splitTopAll(p, "\\cup");
    if (gu.size() > 1 || pu.size() > 1) {
      return gu.size() == pu.size() && sameMultiset(gu, pu, digits);
    }
    // ± expands to a two-element set
    if (g.contains("\\pm") || p.contains("\\pm")) {
      return sameMultiset(expandAll(g), expandAll(p), digits);
    }
    Bracketed gb = Bracketed.of(g);
    Bracketed pbk = Bracketed.of(p);
    if (gb != null || pbk != null) {
      if (gb == null || pbk == null) {
        // "{1, 2}" vs "1, 2": a set against an unbracketed list
        Bracketed b = gb != null ? gb : pbk;
        String other = gb != null ? p : g;
        if (b.kind() == Bracketed.Kind.SET) {
          List<String> items = splitTopAll(other, ",");
          return gb != null ? sameMultiset(b.items(), items, digits) : sameMultiset(items, b.items(), digits);
        }
        return false;
      }
      if (gb.kind() != pbk.kind() || gb.items().size() != pbk.items().size()) {
        return false;
      }
      return switch (gb.kind()) {
        case SET -> sameMultiset(gb.items(), pbk.items(), digits);
        case INTERVAL, TUPLE -> gb.open().equals(pbk.open()) && gb.close().equals(pbk.close())
            && sameSequence(gb.items(), pbk.items(), digits);
        case MATRIX -> gb.cols() == pbk.cols() && sameSequence(gb.items(), pbk.items(), digits);
      };
    }
    List<String> gl = splitTopAll(g, ",");
    List<String> pl = splitTopAll(p, ",");
    if (gl.size() > 1 || pl.size() > 1) {
      return gl.size() == pl.size() && sameMultiset(gl, pl, digits);
    }
    return scalarEqual(g, p, digits);
  }

  private boolean sameSequence(List<String> a, List<String> b, int digits) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!compare(a.get(i).trim(), b.get(i).trim(), digits)) {
        return false;
      }
    }
    return true;
  }

  private boolean sameMultiset(List<String> a, List<String> b, int digits) {
    if (a.size() != b.size()) {
      return false;
    }
    boolean[] used = new boolean[b.size()];
    outer:
    for (String x : a) {
      for (int j = 0; j < b.size(); j++) {
        if (!used[j] && compare(x.trim(), b.get(j).trim(), digits)) {
          used[j] = true;
          continue outer;
        }
      }
      return false;
    }
    return true;
  }

  /** Top-level comma items, each with ± expanded. */
  private static List<String> expandAll(String s) {
    List<String> out = new ArrayList<>();
    for (String item : splitTopAll(s, ",")) {
      out.addAll(expandPm(item));
    }
    return out;
  }

  private static List<String> expandPm(String s) {
    if (!s.contains("\\pm")) {
      return List.of(s);
    }
    String plus = s.replaceFirst("\\\\pm", "+");
    String minus = s.replaceFirst("\\\\pm", "-");
    if (plus.startsWith("+")) {
      plus = plus.substring(1);
    }
    List<String> out = new ArrayList<>(expandPm(plus));
    out.addAll(expandPm(minus));
    return out;
  }

  private static boolean isVar(String s) {
    return SINGLE_VAR.matcher(s.trim()).matches();
  }

  /** Scalars: exact rationals first, then the CAS. */
  boolean scalarEqual(String g, String p, int digits) {
    BigDecimal[] gr = rational(g);
    BigDecimal[] pr = rational(p);
    if (gr != null && pr != null) {
      // a/b == c/d  ⇔  a·d == c·b
      if (gr[0].multiply(pr[1]).compareTo(pr[0].multiply(gr[1])) == 0) {
        return true;
      }
      MathContext mc = new MathContext(30, RoundingMode.HALF_EVEN);
      BigDecimal gv = gr[0].divide(gr[1], mc);
      BigDecimal pv = pr[0].divide(pr[1], mc);
      return gv.setScale(digits, RoundingMode.HALF_EVEN).compareTo(pv.setScale(digits, RoundingMode.HALF_EVEN)) == 0;
    }
    if (gr != null && !looksSymbolic(p) && pr == null) {
      return false;
    }
    return casEqual(g, p, digits);
  }

  private static boolean looksSymbolic(String s) {
    return s.contains("\\") || s.matches(".*[a-zA-Z^*/+\\-()].*");
  }

  /** {numerator, denominator} or null. */
  static BigDecimal[] rational(String s) {
    String t = s.replace(" ", "");
    Matcher m = RATIONAL.matcher(t);
    if (m.matches()) {
      BigDecimal num = new BigDecimal(m.group(2));
      BigDecimal den = m.group(3) == null ? BigDecimal.ONE : new BigDecimal(m.group(3));
      if (den.signum() == 0) {
        return null;
      }
      return new BigDecimal[] {m.group(1).equals("-") ? num.negate() : num, den};
    }
    Matcher f = FRAC.matcher(t);
    if (f.matches()) {
      BigDecimal num = new BigDecimal(f.group(2));
      BigDecimal den = new BigDecimal(f.group(3));
      if (den.signum() == 0) {
        return null;
      }
      return new BigDecimal[] {f.group(1).equals("-") ? num.negate() : num, den};
    }
    return null;
  }

  private boolean equationsEquivalent(String[] a, String[] b) {
    // (l1 - r1) and (l2 - r2) describe the same solution set when one is a non-zero constant
    // multiple of the other
    return Boolean.TRUE.equals(withCas(ev -> {
      IExpr d1 = ev.eval(F.Subtract(tex(a[0]), tex(a[1])));
      IExpr d2 = ev.eval(F.Subtract(tex(b[0]), tex(b[1])));
      if (d2.isZero() || d1.isZero()) {
        return d1.isZero() && d2.isZero();
      }
      IExpr q = ev.eval(F.Simplify(F.Divide(d1, d2)));
      return q.isNumber() && !q.isZero();
    }));
  }

  private boolean casEqual(String g, String p, int digits) {
    return Boolean.TRUE.equals(withCas(ev -> {
      IExpr a = tex(g);
      IExpr b = tex(p);
      IExpr diff = ev.eval(F.Simplify(F.Subtract(a, b)));
      if (diff.isZero()) {
        return true;
      }
      IExpr n = ev.eval(F.N(diff));
      if (n.isNumber()) {
        double v = n.evalDouble();
        return Math.abs(v) < Math.pow(10, -digits);
      }
      return false;
    }));
  }

  private static IExpr tex(String s) {
    return new TeXParser().parse(s.replace("\\infty", "\\infty ").replace("\\cdot", "*").replace("\\times", "*"));
  }

  private interface CasJob {
    Boolean run(ExprEvaluator ev) throws Exception;
  }

  private Boolean withCas(CasJob job) {
    casCalls.incrementAndGet();
    Future<Boolean> f;
    synchronized (this) {
      if (cas == null) {
        cas = Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, "math-verify-cas");
          t.setDaemon(true);
          return t;
        });
      }
      f = cas.submit(() -> {
        ExprEvaluator ev = evaluator();
        try {
          return job.run(ev);
        } catch (Exception | StackOverflowError e) {
          return Boolean.FALSE;
        }
      });
    }
    try {
      // the first call also pays for the CAS start-up
      long ms = timeout.toMillis() + (evaluator == null ? 30_000 : 0);
      return f.get(ms, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      timeouts.incrementAndGet();
      f.cancel(true);
      synchronized (this) {
        // abandon the stuck worker; the next call gets a fresh thread and evaluator
        cas.shutdownNow();
        cas = null;
        evaluator = null;
      }
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (Exception e) {
      return false;
    }
  }

  private ExprEvaluator evaluator() {
    if (evaluator == null) {
      evaluator = new ExprEvaluator();
      // Symja prints its evaluation messages ("General: Invalid comparison …", "ToExpression: null.")
      // to stdout/stderr; a failed comparison is just "not equal" here, so keep them out of the run log
      var engine = evaluator.getEvalEngine();
      engine.setQuietMode(true);
      java.io.PrintStream sink = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
      engine.setOutPrintStream(sink);
      engine.setErrorPrintStream(sink);
    }
    return evaluator;
  }

  // ---- top-level splitting (outside braces/brackets) ----

  static String[] splitTop(String s, String sep) {
    List<String> parts = splitTopAll(s, sep);
    return parts.toArray(new String[0]);
  }

  static List<String> splitTopAll(String s, String sep) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '{' || c == '(' || c == '[') {
        depth++;
      } else if (c == '}' || c == ')' || c == ']') {
        depth--;
      } else if (depth == 0 && s.startsWith(sep, i)) {
        if (sep.equals("=") && i > 0 && "<>!\\".indexOf(s.charAt(i - 1)) >= 0) {
          continue;
        }
        out.add(s.substring(start, i).trim());
        start = i + sep.length();
        i += sep.length() - 1;
      }
    }
    out.add(s.substring(start).trim());
    return out;
  }

  /** True when {@code BigInteger}-sized integers; exposed for the benchmark's input classes. */
  static boolean isInteger(String s) {
    try {
      new BigInteger(s.trim());
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
