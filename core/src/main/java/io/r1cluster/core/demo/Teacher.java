package io.r1cluster.core.demo;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A programmatic teacher that writes short R1-style traces for {@link DemoProblem}s, column by
 * column, e.g. for 47 + 38: {@code 7+8=15, carry 1. 4+3+1=8. So 85.}
 *
 * <p>Like a student with a bad habit it is reliable on easy steps and, at every hard step, forgets
 * with probability {@code errorRate}. The hard steps are a column that should take a carry or a
 * borrow from the column before (the teacher leaves it out: {@code 4+3=7} instead of
 * {@code 4+3+1=8}) and moving a term across the equals sign (the teacher keeps its sign). The
 * arithmetic it writes is always right and the rest of the trace follows from the slip, so the
 * final answer is wrong but the trace stays internally consistent. A problem with h hard steps
 * gets a wrong trace with probability 1 - (1 - errorRate)^h ({@link #wrongProbability}).
 * Distillation copies the habit; since it is one recognisable decision, repeated across problems,
 * RL with a verifiable reward can unlearn it.
 */
public final class Teacher {
  private final double errorRate;

  /** @param errorRate chance of a slip at each hard step, in [0, 1] */
  public Teacher(double errorRate) {
    if (!(errorRate >= 0 && errorRate <= 1)) {
      throw new IllegalArgumentException("error rate must be in [0, 1], got " + errorRate);
    }
    this.errorRate = errorRate;
  }

  public double errorRate() {
    return errorRate;
  }

  /** Solves a problem; {@code rnd} decides at which hard steps the teacher slips. */
  public Trace solve(DemoProblem p, Random rnd) {
    Worked t = switch (p.task()) {
      case ADD -> add(p.a(), p.b(), errorRate, rnd);
      case SUB -> sub(p.a(), p.b(), errorRate, rnd);
      case MUL -> mul(p.a(), p.b(), errorRate, rnd);
      case LINEAR -> linear(p.a(), p.b(), p.c(), errorRate, rnd);
    };
    return new Trace(t.thinking(), t.answer(), t.answer().equals(p.answer()));
  }

  /** The number of hard steps in the teacher's slip-free trace for {@code p}. */
  public static int hardSteps(DemoProblem p) {
    // a teacher that never slips still walks the same columns: count the hard ones
    return switch (p.task()) {
      case ADD -> add(p.a(), p.b(), 0, null).hard();
      case SUB -> sub(p.a(), p.b(), 0, null).hard();
      case MUL -> mul(p.a(), p.b(), 0, null).hard();
      case LINEAR -> linear(p.a(), p.b(), p.c(), 0, null).hard();
    };
  }

  /** The chance that this teacher's trace for {@code p} ends in a wrong answer. */
  public double wrongProbability(DemoProblem p) {
    return 1 - Math.pow(1 - errorRate, hardSteps(p));
  }

  /** A trace before it is checked, with the number of hard steps met on the way. */
  private record Worked(String thinking, String answer, int hard) {}

  private static boolean slips(boolean hard, double rate, Random rnd) {
    return hard && rate > 0 && rnd.nextDouble() < rate;
  }

  /** Whether moving {@code b} across with the wrong sign still gives a whole-number x (only then the teacher can slip). */
  private static boolean signSlipPossible(int a, int b, int c) {
    return b != 0 && (c + b) % a == 0;
  }

  private static int[] digitsLsbFirst(int n) {
    String s = Integer.toString(n);
    int[] d = new int[s.length()];
    for (int i = 0; i < d.length; i++) {
      d[i] = s.charAt(s.length() - 1 - i) - '0';
    }
    return d;
  }

  private static Worked add(int a, int b, double rate, Random rnd) {
    int[] da = digitsLsbFirst(a);
    int[] db = digitsLsbFirst(b);
    int n = Math.max(da.length, db.length);
    int hard = 0;
    List<String> steps = new ArrayList<>();
    StringBuilder digits = new StringBuilder();
    int carry = 0;
    for (int i = 0; i < n; i++) {
      // a column that takes a carry is hard: the teacher may forget to add it
      boolean isHard = carry > 0;
      hard += isHard ? 1 : 0;
      if (slips(isHard, rate, rnd)) {
        carry = 0;
      }
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
    return new Worked(String.join(" ", steps), ans, hard);
  }

  private static Worked sub(int hi, int lo, double rate, Random rnd) {
    int[] da = digitsLsbFirst(hi);
    int[] db = digitsLsbFirst(lo);
    int n = da.length;
    int hard = 0;
    List<String> steps = new ArrayList<>();
    StringBuilder digits = new StringBuilder();
    int borrow = 0;
    for (int i = 0; i < n; i++) {
      // a column that pays back a borrow is hard: the teacher may forget to take it off
      boolean isHard = borrow > 0;
      hard += isHard ? 1 : 0;
      if (slips(isHard, rate, rnd)) {
        borrow = 0;
      }
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
      String step = lhs + "=" + r + (needs ? ", borrow 1." : ".");
      steps.add(step);
      digits.insert(0, r);
      borrow = needs ? 1 : 0;
    }
    String ans = strip(digits.toString());
    steps.add("So " + ans + ".");
    return new Worked(String.join(" ", steps), ans, hard);
  }

  private static Worked mul(int a, int m, double rate, Random rnd) {
    int[] da = digitsLsbFirst(a);
    int n = da.length;
    int hard = 0;
    List<String> steps = new ArrayList<>();
    StringBuilder digits = new StringBuilder();
    int carry = 0;
    for (int i = 0; i < n; i++) {
      boolean isHard = carry > 0;
      hard += isHard ? 1 : 0;
      if (slips(isHard, rate, rnd)) {
        carry = 0;
      }
      int p = da[i] * m + carry;
      String lhs = da[i] + "*" + m + (carry > 0 ? "+" + carry : "");
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
    return new Worked(String.join(" ", steps), ans, hard);
  }

  private static Worked linear(int a, int b, int c, double rate, Random rnd) {
    // a x + b = c  ->  a x = c - b  ->  x = (c - b) / a; the slip keeps b's sign: a x = c + b
    boolean isHard = signSlipPossible(a, b, c);
    int moved = slips(isHard, rate, rnd) ? -b : b;
    int rhs = c - moved;
    String move = moved > 0 ? c + "-" + moved : c + "+" + (-moved);
    int x = rhs / a;
    String think = a + "x = " + move + " = " + rhs + ". x = " + rhs + "/" + a + " = " + x + ".";
    return new Worked(think, Integer.toString(x), isHard ? 1 : 0);
  }

  private static String strip(String digits) {
    int i = 0;
    while (i < digits.length() - 1 && digits.charAt(i) == '0') {
      i++;
    }
    return digits.substring(i);
  }
}
