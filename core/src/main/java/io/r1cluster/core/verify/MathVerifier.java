package io.r1cluster.core.verify;

import io.r1cluster.core.verify.Answer.Interval;
import io.r1cluster.core.verify.Answer.Items;
import io.r1cluster.core.verify.Answer.Matrix;
import io.r1cluster.core.verify.Answer.Relation;
import io.r1cluster.core.verify.Answer.Scalar;
import io.r1cluster.core.verify.Answer.Union;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.matheclipse.core.eval.ExprEvaluator;
import org.matheclipse.core.expression.F;
import org.matheclipse.core.form.tex.TeXParser;
import org.matheclipse.core.interfaces.IExpr;

/**
 * Decides whether a predicted answer equals a gold answer as Hugging Face Math-Verify does
 * ({@code verify(parse(gold), parse(pred))}, LaTeX and plain-expression targets, boxed first), the
 * check behind open-r1's {@code accuracy} reward.
 *
 * <p>Pipeline: {@link Extract} finds the answer in each text → {@link LatexNormalizer} →
 * {@link Answer} reads it into a tree → {@link #equal} compares gold with prediction:
 * <ol>
 *   <li>assignments: {@code x = 5} (left side only symbols) compares as 5 against a bare value, and
 *       a chain {@code x = 2+3 = 5} as {@code x = 5}; a predicted equation against a bare gold
 *       value compares by its last right side;</li>
 *   <li>a gold relation against a predicted interval/set/union becomes that set
 *       ({@code 1 < x < 2} = {@code (1,2)}); the other way round only with
 *       {@link Options#allowSetRelation};</li>
 *   <li>equal normalised text is equal;</li>
 *   <li>relations: same operator and equal {@code lhs − rhs}, or the mirrored operator and
 *       opposite difference ({@code -x > -1} = {@code x < 1}), or proportional equations;</li>
 *   <li>sets are unordered, tuples ordered, an open interval equals the pair of its ends,
 *       intervals compare ends and openness, matrices cell by cell;</li>
 *   <li>symbols are case-insensitive, a word equals the product of its letters;</li>
 *   <li>numbers: exact for integers and fractions (any size); when one side is a decimal both are
 *       rounded to {@code precision} places (an integer against a decimal stays exact, as SymPy);
 *       other expressions go to the Symja CAS: numerically within 1e-12, or {@code a − b}
 *       simplifies to 0.</li>
 * </ol>
 * With {@link Options#strict} off, variables are matched by position ({@code f(x)} = {@code f(y)}).
 *
 * <p>Budget: every call has one wall-clock deadline ({@code timeout}) for extraction,
 * normalisation, ± expansion, big numbers and the CAS, plus size caps (input
 * {@value #MAX_INPUT_CHARS} characters, {@value Answer#MAX_PM} ± signs, answer
 * {@value Answer#MAX_CHARS} characters for structure). Running out is "not verified" and counted in
 * {@link #timeouts()}; nothing is thrown.
 *
 * <p>Thread-safe. The CAS is initialised lazily on first use (about 2 s) and shared.
 */
public final class MathVerifier {
  /** Math-Verify's default float rounding. */
  public static final int DEFAULT_PRECISION = 6;
  /** Longer inputs are not verified (counted as out of budget). */
  public static final int MAX_INPUT_CHARS = 4_000_000;

  /** Math-Verify's {@code strict} and {@code allow_set_relation_comp}. */
  public record Options(int precision, boolean strict, boolean allowSetRelation) {
    public Options {
      if (precision < 0 || precision > 100) {
        throw new IllegalArgumentException("precision must be 0..100, got " + precision);
      }
    }

    public static Options of(int precision) {
      return new Options(precision, true, false);
    }
  }

  private final int precision;
  private final Duration timeout;
  private final AtomicLong timeouts = new AtomicLong();
  private final AtomicLong casCalls = new AtomicLong();
  /** Set once the CAS has answered in this JVM: only that first start-up is outside the budget. */
  private static volatile boolean casStarted;
  private ExecutorService cas;
  private volatile ExprEvaluator evaluator;
  /** How long the CAS worker waits idle before it ends (tests shorten it). */
  static volatile long casIdleMillis = 30_000;

  public MathVerifier() {
    this(DEFAULT_PRECISION, Duration.ofSeconds(5));
  }

  public MathVerifier(int precision, Duration timeout) {
    if (precision < 0 || precision > 100) {
      throw new IllegalArgumentException("precision must be 0..100, got " + precision);
    }
    this.precision = precision;
    this.timeout = timeout;
  }

  /** Comparisons that ran out of budget (deadline or size cap) so far. */
  public long timeouts() {
    return timeouts.get();
  }

  /** CAS worker threads alive now: 1 while in use, 0 once idle for {@link #casIdleMillis}. */
  synchronized int casThreads() {
    return cas == null ? 0 : ((java.util.concurrent.ThreadPoolExecutor) cas).getPoolSize();
  }

  /** Calls that needed the computer-algebra system so far. */
  public long casCalls() {
    return casCalls.get();
  }

  /**
   * Verifies a completion against a gold solution text. Empty when the gold has no answer that
   * can be extracted (the reward gives no score then).
   */
  public Optional<Boolean> verifyCompletion(String gold, String completion) {
    if (gold == null || gold.isBlank()) {
      return Optional.empty();
    }
    Budget b = Budget.ofMillis(timeout.toMillis());
    try {
      Extract.Result g = extract(gold, b);
      if (g.answer() == null && g.fallback() == null) {
        return Optional.empty();
      }
      return Optional.of(compare(g, extract(completion, b), Options.of(precision), b));
    } catch (Budget.Exhausted | StackOverflowError e) {
      timeouts.incrementAndGet();
      return Optional.of(false);
    } catch (RuntimeException e) {
      return Optional.of(false);
    }
  }

  public boolean verify(String gold, String pred) {
    return verify(gold, pred, Options.of(precision));
  }

  public boolean verify(String gold, String pred, int digits) {
    return verify(gold, pred, Options.of(digits));
  }

  /** Parses both texts as Math-Verify's {@code parse} would and compares them; never throws. */
  public boolean verify(String gold, String pred, Options o) {
    Budget b = Budget.ofMillis(timeout.toMillis());
    try {
      return compare(extract(gold, b), extract(pred, b), o, b);
    } catch (Budget.Exhausted | StackOverflowError e) {
      timeouts.incrementAndGet();
      return false;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static Extract.Result extract(String text, Budget b) {
    if (text == null) {
      return Extract.Result.NONE;
    }
    Budget.cap(text.length() > MAX_INPUT_CHARS, "input length");
    return Extract.extract(text, b);
  }

  /** Math-Verify compares every gold reading with every predicted one: parsed × parsed, fallback text × text. */
  private boolean compare(Extract.Result g, Extract.Result p, Options o, Budget b) {
    if (g.answer() != null && p.answer() != null) {
      Answer ga = g.answer();
      Answer pa = p.answer();
      if (!o.strict()) {
        ga = Variables.positional(ga);
        pa = Variables.positional(pa);
      }
      if (new Comparison(o, b).equal(ga, pa)) {
        return true;
      }
    }
    return g.fallback() != null && p.fallback() != null && !g.fallback().isBlank() && g.fallback().strip().equals(p.fallback().strip());
  }

  /** One comparison under one budget. */
  private final class Comparison {
    private final Options o;
    private final Budget b;

    Comparison(Options o, Budget b) {
      this.o = o;
      this.b = b;
    }

    boolean equal(Answer g, Answer p) {
      b.check();
      boolean gAssign = g instanceof Relation r && r.assignment();
      boolean pAssign = p instanceof Relation r && r.assignment();
      boolean gEq = g instanceof Relation r && r.equation();
      boolean pEq = p instanceof Relation r && r.equation();
      if (gAssign) {
        g = firstLast((Relation) g);
      }
      if (pAssign) {
        p = firstLast((Relation) p);
      }
      if (pEq && !gEq) {
        p = last((Relation) p);
      } else if (gAssign && !pEq) {
        g = last((Relation) g);
      }
      if (g instanceof Relation gr && setLike(p)) {
        Answer s = Sets.of(gr);
        g = s != null ? s : g;
      }
      if (o.allowSetRelation() && p instanceof Relation pr && setLike(g)) {
        Answer s = Sets.of(pr);
        p = s != null ? s : p;
      }
      if (Answer.canonical(g.source()).equals(Answer.canonical(p.source())) && g.getClass() == p.getClass()) {
        return true;
      }
      if (g instanceof Relation gr && p instanceof Relation pr) {
        return relations(gr, pr);
      }
      if (g instanceof Relation || p instanceof Relation) {
        return false;
      }
      if (g instanceof Matrix gm && p instanceof Matrix pm) {
        return gm.rows() == pm.rows() && gm.cols() == pm.cols() && sequence(gm.cells(), pm.cells());
      }
      if (setLike(g) || setLike(p) || g instanceof Items || p instanceof Items) {
        return sets(g, p);
      }
      if (g instanceof Scalar gs && p instanceof Scalar ps) {
        return scalars(gs, ps);
      }
      return false;
    }

    private Relation firstLast(Relation r) {
      return new Relation(List.of(r.operands().get(0), r.operands().get(r.operands().size() - 1)), List.of("="),
          r.source());
    }

    private Answer last(Relation r) {
      return r.operands().get(r.operands().size() - 1);
    }

    private boolean setLike(Answer a) {
      return a instanceof Interval || a instanceof Union || (a instanceof Items i && !i.ordered());
    }

    // ---- relations ----

    private boolean relations(Relation g, Relation p) {
      if (g.ops().size() != p.ops().size()) {
        return false;
      }
      if (g.ops().size() > 1) {
        for (int i = 0; i < g.ops().size(); i++) {
          if (!relations(sub(g, i), sub(p, i))) {
            return false;
          }
        }
        return true;
      }
      String go = g.ops().get(0);
      String po = p.ops().get(0);
      Answer gl = g.operands().get(0);
      Answer gr = g.operands().get(1);
      Answer pl = p.operands().get(0);
      Answer pr = p.operands().get(1);
      if (!(gl instanceof Scalar && gr instanceof Scalar && pl instanceof Scalar && pr instanceof Scalar)) {
        return go.equals(po) && equal(gl, pl) && equal(gr, pr);
      }
      String gd = diff((Scalar) gl, (Scalar) gr);
      String pd = diff((Scalar) pl, (Scalar) pr);
      if (go.equals(po) && cas(gd, pd, 0)) {
        return true;
      }
      if (mirror(go).equals(po) && cas(gd, "-(" + pd + ")", 0)) {
        return true;
      }
      // the same solution set: one difference a constant multiple of the other
      if (go.equals(po) || mirror(go).equals(po)) {
        int sign = go.equals("=") || go.equals("!=") ? 0 : (go.equals(po) ? 1 : -1);
        return proportional(gd, pd, sign);
      }
      return false;
    }

    private Relation sub(Relation r, int i) {
      return new Relation(List.of(r.operands().get(i), r.operands().get(i + 1)), List.of(r.ops().get(i)), r.source());
    }

    private String mirror(String op) {
      return switch (op) {
        case "<" -> ">";
        case ">" -> "<";
        case "<=" -> ">=";
        case ">=" -> "<=";
        default -> op;
      };
    }

    private String diff(Scalar l, Scalar r) {
      return "(" + texOf(l) + ")-(" + texOf(r) + ")";
    }

    // ---- sets, tuples, intervals ----

    private boolean sets(Answer g, Answer p) {
      if (g instanceof Interval gi && p instanceof Interval pi) {
        return gi.leftOpen() == pi.leftOpen() && gi.rightOpen() == pi.rightOpen() && equal(gi.lo(), pi.lo())
            && equal(gi.hi(), pi.hi());
      }
      if (g instanceof Union gu && p instanceof Union pu) {
        return multiset(gu.parts(), pu.parts());
      }
      // an open interval is also the pair of its ends
      if (g instanceof Interval gi && gi.leftOpen() && gi.rightOpen() && p instanceof Items pi && pi.items().size() == 2) {
        return sequence(List.of(gi.lo(), gi.hi()), pi.ordered() ? pi.items() : sorted(pi.items()));
      }
      if (p instanceof Interval pi && pi.leftOpen() && pi.rightOpen() && g instanceof Items gi && gi.items().size() == 2) {
        return sequence(gi.ordered() ? gi.items() : sorted(gi.items()), List.of(pi.lo(), pi.hi()));
      }
      List<Answer> gs = g instanceof Items gi ? gi.items() : (g instanceof Interval || g instanceof Union ? null : List.of(g));
      List<Answer> ps = p instanceof Items pi ? pi.items() : (p instanceof Interval || p instanceof Union ? null : List.of(p));
      if (gs == null || ps == null) {
        return false;
      }
      boolean gOrdered = g instanceof Items gi && gi.ordered();
      boolean pOrdered = p instanceof Items pi && pi.ordered();
      if (gOrdered && pOrdered) {
        return sequence(gs, ps);
      }
      if (gOrdered) {
        return sequence(gs, ps); // a gold tuple against a set: the set as written
      }
      if (pOrdered) {
        return sequence(sorted(gs), ps); // a gold set against a tuple: the set sorted
      }
      return multiset(distinct(gs), distinct(ps));
    }

    /** A set holds each element once: written duplicates collapse (by normalised text). */
    private List<Answer> distinct(List<Answer> xs) {
      List<Answer> out = new ArrayList<>();
      java.util.Set<String> seen = new java.util.HashSet<>();
      for (Answer x : xs) {
        if (seen.add(Answer.canonical(x.source()))) {
          out.add(x);
        }
      }
      return out;
    }

    /** Numbers in ascending order (as SymPy orders a set); anything else keeps its written order. */
    private List<Answer> sorted(List<Answer> xs) {
      List<java.math.BigDecimal> keys = new ArrayList<>();
      for (Answer x : xs) {
        Exact e = x instanceof Scalar s ? Exact.of(s.tex(), s.percent()) : null;
        if (e == null) {
          return xs;
        }
        keys.add(e.rounded(30));
      }
      Integer[] idx = new Integer[xs.size()];
      for (int i = 0; i < idx.length; i++) {
        idx[i] = i;
      }
      java.util.Arrays.sort(idx, (a, c) -> keys.get(a).compareTo(keys.get(c)));
      List<Answer> out = new ArrayList<>();
      for (int i : idx) {
        out.add(xs.get(i));
      }
      return out;
    }

    private boolean sequence(List<Answer> a, List<Answer> c) {
      if (a.size() != c.size()) {
        return false;
      }
      for (int i = 0; i < a.size(); i++) {
        if (!equal(a.get(i), c.get(i))) {
          return false;
        }
      }
      return true;
    }

    private boolean multiset(List<Answer> a, List<Answer> c) {
      if (a.size() != c.size()) {
        return false;
      }
      boolean[] used = new boolean[c.size()];
      outer:
      for (Answer x : a) {
        for (int j = 0; j < c.size(); j++) {
          if (!used[j] && equal(x, c.get(j))) {
            used[j] = true;
            continue outer;
          }
        }
        return false;
      }
      return true;
    }

    // ---- scalars ----

    private boolean scalars(Scalar g, Scalar p) {
      Exact ge = Exact.of(g.tex(), g.percent());
      Exact pe = Exact.of(p.tex(), p.percent());
      if (ge != null && pe != null) {
        if (ge.isFloat() || pe.isFloat()) {
          boolean gInt = ge.integerValued();
          boolean pInt = pe.integerValued();
          if (gInt || pInt) {
            return ge.sameValue(pe); // SymPy: an Integer never equals a rounded Float
          }
          return ge.rounded(o.precision()).compareTo(pe.rounded(o.precision())) == 0;
        }
        return ge.sameValue(pe);
      }
      String gw = Symbols.word(g);
      String pw = Symbols.word(p);
      if (gw != null || pw != null) {
        if (gw != null && pw != null) {
          return gw.equals(pw);
        }
        if (ge != null || pe != null) {
          return false;
        }
      }
      String gt = texOf(g);
      String pt = texOf(p);
      if (ge != null && ge.isFloat() || pe != null && pe.isFloat()) {
        return Boolean.TRUE.equals(withCas(ev -> {
          BigDecimal a = numeric(ev, gt);
          BigDecimal c = numeric(ev, pt);
          return a != null && c != null && a.setScale(o.precision(), java.math.RoundingMode.HALF_EVEN)
              .compareTo(c.setScale(o.precision(), java.math.RoundingMode.HALF_EVEN)) == 0;
        }));
      }
      return cas(gt, pt, ge != null || pe != null ? -1 : 0);
    }

    /**
     * {@code a − b} is 0: numerically (within 1e-12 of the larger magnitude; skipped when
     * {@code mode} is -1, an exact number against an expression) or after simplification.
     */
    private boolean cas(String a, String c, int mode) {
      return Boolean.TRUE.equals(withCas(ev -> {
        IExpr x = parseTex(a);
        IExpr y = parseTex(c);
        IExpr d = ev.eval(F.Subtract(x, y));
        if (d.isZero()) {
          return true;
        }
        if (d.isExactNumber()) {
          return false; // exact arithmetic, any size: 10^33+1 and 10^33+2 differ by 1
        }
        if (mode != -1 && d.isNumericFunction(true)) {
          // as SymPy's (a - b).evalf(chop=True) == 0: an absolute threshold on the difference,
          // evaluated with 40 significant digits so that large magnitudes do not round it away
          IExpr n = ev.eval(F.N(d, F.ZZ(40)));
          if (n.isNumber() && !n.isComplexInfinity()) {
            IExpr mag = ev.eval(F.N(F.Abs(n)));
            return mag.isReal() && mag.evalDouble() <= 1e-12;
          }
        }
        // a polynomial difference is decided by expanding it: zero, or a non-zero polynomial
        // (cheap; Simplify on a wrong polynomial answer costs tens of milliseconds)
        IExpr ex = ev.eval(F.Expand(d));
        if (ex.isZero()) {
          return true;
        }
        IExpr vars = ev.eval(F.Variables(ex));
        if (vars.isList() && vars.size() > 1 && ((org.matheclipse.core.interfaces.IAST) vars).forAll(IExpr::isSymbol)
            && ex.isPolynomial(vars) && ex.isFree(IExpr::isInexactNumber, true)) {
          return false;
        }
        IExpr s = ev.eval(F.Simplify(d));
        if (s.isZero()) {
          return true;
        }
        IExpr e = ev.eval(F.Simplify(ex));
        return e.isZero();
      }));
    }

    /** {@code a/c} simplifies to a non-zero constant (with the given sign when sign != 0). */
    private boolean proportional(String a, String c, int sign) {
      return Boolean.TRUE.equals(withCas(ev -> {
        IExpr x = ev.eval(parseTex(a));
        IExpr y = ev.eval(parseTex(c));
        if (x.isZero() || y.isZero()) {
          return false;
        }
        IExpr q = ev.eval(F.Together(F.Divide(x, y)));
        if (!q.isNumber()) {
          q = ev.eval(F.Simplify(q));
        }
        if (!q.isNumber() || q.isZero()) {
          return false;
        }
        return sign == 0 || (q.isReal() && Math.signum(q.evalDouble()) == sign);
      }));
    }

    private BigDecimal numeric(ExprEvaluator ev, String tex) {
      IExpr n = ev.eval(F.N(parseTex(tex)));
      if (!n.isReal()) {
        return null;
      }
      double v = n.evalDouble();
      return Double.isFinite(v) ? new BigDecimal(v) : null;
    }

    private interface CasJob {
      Boolean run(ExprEvaluator ev) throws Exception;
    }

    private Boolean withCas(CasJob job) {
      b.check();
      casCalls.incrementAndGet();
      Future<Boolean> f;
      boolean cold;
      synchronized (MathVerifier.this) {
        cold = !casStarted;
        if (cas == null) {
          // one worker that ends after 30 s idle (and takes its evaluator with it): a verifier no longer
          // used (a finished run's reward functions) then holds no thread and no CAS
          java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(1, 1,
              casIdleMillis, TimeUnit.MILLISECONDS, new java.util.concurrent.LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(() -> {
                  try {
                    r.run();
                  } finally {
                    evaluator = null; // the next worker builds its own
                  }
                }, "math-verify-cas");
                t.setDaemon(true);
                return t;
              });
          pool.allowCoreThreadTimeOut(true);
          cas = pool;
        }
        f = cas.submit(() -> {
          try {
            ExprEvaluator ev = evaluator();
            casStarted = true;
            return job.run(ev);
          } catch (Exception | StackOverflowError e) {
            return Boolean.FALSE;
          }
        });
      }
      try {
        // the first call also pays for the CAS start-up, outside the answer's budget
        long ms = b.remainingMillis() + (cold ? 30_000 : 0);
        return f.get(Math.max(1, ms), TimeUnit.MILLISECONDS);
      } catch (TimeoutException e) {
        f.cancel(true);
        synchronized (MathVerifier.this) {
          // abandon the stuck worker; the next call gets a fresh thread and evaluator
          cas.shutdownNow();
          cas = null;
          evaluator = null;
        }
        throw new Budget.Exhausted("CAS deadline");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      } catch (Exception e) {
        return false;
      }
    }
  }

  /** LaTeX for the CAS: case folded, words as symbols, percent as /100. */
  private static String texOf(Scalar s) {
    String t = Symbols.forCas(s.tex());
    return s.percent() ? "(" + t + ")/100" : t;
  }

  /** One parser per CAS thread (building one costs more than most comparisons). */
  private static final ThreadLocal<TeXParser> TEX = ThreadLocal.withInitial(TeXParser::new);

  private static IExpr parseTex(String s) {
    try {
      return TEX.get().parse(s);
    } catch (RuntimeException | StackOverflowError e) {
      TEX.remove(); // a fresh parser after a failure, whatever state it left
      throw e;
    }
  }

  private ExprEvaluator evaluator() {
    if (evaluator == null) {
      // JAS runs two GCD algorithms on extra threads and keeps the first result: on a reward pool
      // that already uses every core that only doubles the work
      org.matheclipse.core.basic.Config.JAS_NO_THREADS = true;
      evaluator = new ExprEvaluator();
      // Symja prints its evaluation messages to stdout/stderr; a failed comparison is "not equal"
      var engine = evaluator.getEvalEngine();
      engine.setQuietMode(true);
      java.io.PrintStream sink = new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
      engine.setOutPrintStream(sink);
      engine.setErrorPrintStream(sink);
    }
    return evaluator;
  }

  /** Top-level splitting (outside braces/brackets); kept for callers that split lists. */
  static List<String> splitTopAll(String s, String sep) {
    return new ArrayList<>(Answer.splitTop(s, sep));
  }
}
