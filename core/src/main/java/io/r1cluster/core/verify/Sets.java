package io.r1cluster.core.verify;

import io.r1cluster.core.verify.Answer.Interval;
import io.r1cluster.core.verify.Answer.Items;
import io.r1cluster.core.verify.Answer.Relation;
import io.r1cluster.core.verify.Answer.Scalar;
import io.r1cluster.core.verify.Answer.Union;
import java.util.List;

/**
 * A relation in one variable as the set it describes (SymPy's {@code as_set}), so that a gold
 * {@code 1 < x \leq 2} equals a predicted {@code (1,2]}: one-sided and two-sided inequalities
 * (either way round), {@code a \leq |x| \leq b} (two intervals), {@code x \neq c} (two rays) and
 * {@code x = c} (one point). Null when the relation is not one of these.
 */
final class Sets {
  private Sets() {}

  private static final Scalar INF = new Scalar("\\infty", false, "\\infty");
  private static final Scalar NEG_INF = new Scalar("-\\infty", false, "-\\infty");

  static Answer of(Relation r) {
    List<Answer> xs = r.operands();
    for (Answer a : xs) {
      if (!(a instanceof Scalar s) || s.percent()) {
        return null;
      }
    }
    if (xs.size() == 2) {
      Scalar l = (Scalar) xs.get(0);
      Scalar rr = (Scalar) xs.get(1);
      String op = r.ops().get(0);
      if (variable(l) && !variable(rr)) {
        return oneSided(l, op, rr);
      }
      if (variable(rr) && !variable(l)) {
        return oneSided(rr, mirror(op), l);
      }
      return null;
    }
    if (xs.size() == 3 && variable((Scalar) xs.get(1)) && !variable((Scalar) xs.get(0)) && !variable((Scalar) xs.get(2))) {
      String a = r.ops().get(0);
      String b = r.ops().get(1);
      Scalar lo = (Scalar) xs.get(0);
      Scalar hi = (Scalar) xs.get(2);
      boolean up = isLess(a) && isLess(b);
      boolean down = isGreater(a) && isGreater(b);
      if (!up && !down) {
        return null;
      }
      if (down) {
        Scalar t = lo;
        lo = hi;
        hi = t;
        String ta = mirror(b);
        b = mirror(a);
        a = ta;
      }
      boolean loOpen = a.equals("<");
      boolean hiOpen = b.equals("<");
      Scalar v = (Scalar) xs.get(1);
      if (absolute(v)) {
        Scalar nlo = neg(hi);
        Scalar nhi = neg(lo);
        return new Union(List.of(new Interval(hiOpen, nlo, nhi, loOpen, r.source()),
            new Interval(loOpen, lo, hi, hiOpen, r.source())), r.source());
      }
      return new Interval(loOpen, lo, hi, hiOpen, r.source());
    }
    return null;
  }

  private static Answer oneSided(Scalar v, String op, Scalar c) {
    if (absolute(v)) {
      return null;
    }
    return switch (op) {
      case ">" -> new Interval(true, c, INF, true, c.source());
      case ">=" -> new Interval(false, c, INF, true, c.source());
      case "<" -> new Interval(true, NEG_INF, c, true, c.source());
      case "<=" -> new Interval(true, NEG_INF, c, false, c.source());
      case "!=" -> new Union(List.of(new Interval(true, NEG_INF, c, true, c.source()),
          new Interval(true, c, INF, true, c.source())), c.source());
      default -> new Items(false, List.of(c), c.source());
    };
  }

  private static boolean isLess(String op) {
    return op.equals("<") || op.equals("<=");
  }

  private static boolean isGreater(String op) {
    return op.equals(">") || op.equals(">=");
  }

  private static String mirror(String op) {
    return switch (op) {
      case "<" -> ">";
      case ">" -> "<";
      case "<=" -> ">=";
      case ">=" -> "<=";
      default -> op;
    };
  }

  private static Scalar neg(Scalar s) {
    String t = "-(" + s.tex() + ")";
    return new Scalar(t, false, t);
  }

  /** A single variable, possibly with a subscript, or its absolute value. */
  private static boolean variable(Scalar s) {
    String t = s.tex().strip();
    return t.matches("\\|?\\s*(\\\\[a-zA-Z]+|[a-zA-Z])(_\\{?\\w+\\}?)?(\\([a-zA-Z]\\))?\\s*\\|?") && !t.equals("\\infty") && !t.equals("\\pi");
  }

  private static boolean absolute(Scalar s) {
    String t = s.tex().strip();
    return t.startsWith("|") && t.endsWith("|");
  }
}
