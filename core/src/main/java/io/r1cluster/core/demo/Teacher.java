package io.r1cluster.core.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A programmatic teacher that writes short R1-style traces for {@link DemoProblem}s, column by
 * column, e.g. for 47 + 38: {@code 7+8=15, carry 1. 4+3+1=8. So 85.}
 *
 * <p>With probability {@code errorRate} a trace contains one slip (a column result off by one, or a
 * sign error when moving a term across the equals sign) and the rest of the trace follows from
 * the slip, so the final answer is wrong but the trace stays internally consistent, as a fallible
 * teacher's would. Distillation inherits these mistakes; RL with a verifiable reward can fix them.
 */
public final class Teacher {
  private final double errorRate;

  /** @param errorRate fraction of traces with a wrong final answer, in [0, 1] */
  public Teacher(double errorRate) {
    if (!(errorRate >= 0 && errorRate <= 1)) {
      throw new IllegalArgumentException("error rate must be in [0, 1], got " + errorRate);
    }
    this.errorRate = errorRate;
  }

  public double errorRate() {
    return errorRate;
  }

  /** Solves a problem; {@code rnd} decides whether (and where) the teacher slips. */
  public Trace solve(DemoProblem p, Random rnd) {
    boolean slip = rnd.nextDouble() < errorRate;
    Trace t = switch (p.task()) {
      case ADD -> add(p.a(), p.b(), slip, rnd);
      case SUB -> sub(p.a(), p.b(), slip, rnd);
      case MUL -> mul(p.a(), p.b(), slip, rnd);
      case LINEAR -> linear(p.a(), p.b(), p.c(), slip, rnd);
    };
    return new Trace(t.thinking(), t.answer(), t.answer().equals(p.answer()));
  }

  private static int[] digitsLsbFirst(int n) {
    String s = Integer.toString(n);
    int[] d = new int[s.length()];
    for (int i = 0; i < d.length; i++) {
      d[i] = s.charAt(s.length() - 1 - i) - '0';
    }
    return d;
  }

  private static int delta(int value, int max, Random rnd) {
    if (value <= 0) {
      return 1;
    }
    if (value >= max) {
      return -1;
    }
    return rnd.nextBoolean() ? 1 : -1;
  }

  private static Trace add(int a, int b, boolean slip, Random rnd) {
    int[] da = digitsLsbFirst(a);
    int[] db = digitsLsbFirst(b);
    int n = Math.max(da.length, db.length);
    int slipAt = slip ? rnd.nextInt(n) : -1;
    List<String> steps = new ArrayList<>();
    StringBuilder digits = new StringBuilder();
    int carry = 0;
    for (int i = 0; i < n; i++) {
      StringBuilder lhs = new StringBuilder();
      int s = 0;
      if (i < da.length) {
        lhs.append(da[i]);
        s += da[i];
      }
      if (i < db.length) {
        lhs.append(lhs.length() > 0 ? "+" : "").append(db[i]);
        s += db[i];
      }
      if (carry > 0) {
        lhs.append("+").append(carry);
        s += carry;
      }
      if (i == slipAt) {
        s += delta(s, 18, rnd);
      }
      boolean last = i == n - 1;
      String step = lhs + "=" + s;
      if (!last && s >= 10) {
        step += ", carry " + s / 10;
      }
      steps.add(step + ".");
      if (last) {
        digits.insert(0, s);
      } else {
        digits.insert(0, s % 10);
        carry = s / 10;
      }
    }
    String ans = strip(digits.toString());
    steps.add("So " + ans + ".");
    return new Trace(String.join(" ", steps), ans, false);
  }

  private static Trace sub(int hi, int lo, boolean slip, Random rnd) {
    int[] da = digitsLsbFirst(hi);
    int[] db = digitsLsbFirst(lo);
    int n = da.length;
    int slipAt = slip ? rnd.nextInt(n) : -1;
    List<String> steps = new ArrayList<>();
    StringBuilder digits = new StringBuilder();
    int borrow = 0;
    for (int i = 0; i < n; i++) {
      int sub = (i < db.length ? db[i] : 0) + borrow;
      boolean needs = da[i] < sub;
      int left = da[i] + (needs ? 10 : 0);
      int r = left - sub;
      StringBuilder lhs = new StringBuilder().append(left);
      if (i < db.length) {
        lhs.append("-").append(db[i]);
      }
      if (borrow > 0) {
        lhs.append("-").append(borrow);
      }
      if (i == slipAt) {
        r += delta(r, 9, rnd);
      }
      String step = lhs + "=" + r + (needs ? ", borrow 1." : ".");
      steps.add(step);
      digits.insert(0, r);
      borrow = needs ? 1 : 0;
    }
    String ans = strip(digits.toString());
    steps.add("So " + ans + ".");
    return new Trace(String.join(" ", steps), ans, false);
  }

  private static Trace mul(int a, int m, boolean slip, Random rnd) {
    int[] da = digitsLsbFirst(a);
    int n = da.length;
    int slipAt = slip ? rnd.nextInt(n) : -1;
    List<String> steps = new ArrayList<>();
    StringBuilder digits = new StringBuilder();
    int carry = 0;
    for (int i = 0; i < n; i++) {
      int p = da[i] * m + carry;
      String lhs = da[i] + "*" + m + (carry > 0 ? "+" + carry : "");
      if (i == slipAt) {
        p += delta(p, 90, rnd);
      }
      boolean last = i == n - 1;
      String step = lhs + "=" + p;
      if (!last && p >= 10) {
        step += ", carry " + p / 10;
      }
      steps.add(step + ".");
      if (last) {
        digits.insert(0, p);
      } else {
        digits.insert(0, p % 10);
        carry = p / 10;
      }
    }
    String ans = strip(digits.toString());
    steps.add("So " + ans + ".");
    return new Trace(String.join(" ", steps), ans, false);
  }

  private static Trace linear(int a, int b, int c, boolean slip, Random rnd) {
    // a x + b = c  ->  a x = c - b  ->  x = (c - b) / a
    int rhs = c - b;
    String move = b > 0 ? c + "-" + b : c + "+" + (-b);
    int x = rhs / a;
    if (slip) {
      int wrongRhs = c + b; // sign error moving b across
      if (wrongRhs % a == 0) {
        rhs = wrongRhs;
        move = b > 0 ? c + "+" + b : c + "-" + (-b);
        x = rhs / a;
      } else {
        x += delta(x, Integer.MAX_VALUE, rnd);
      }
    }
    String think = a + "x = " + move + " = " + rhs + ". x = " + rhs + "/" + a + " = " + x + ".";
    return new Trace(think, Integer.toString(x), false);
  }

  private static String strip(String digits) {
    int i = 0;
    while (i < digits.length() - 1 && digits.charAt(i) == '0') {
      i++;
    }
    return digits.substring(i);
  }
}
