package io.r1cluster.core.verify;

/**
 * One wall-clock deadline for one verification: extraction, normalisation, ± expansion, exact
 * big-number arithmetic and the CAS all draw on it. Code that loops or allocates in proportion to
 * its input calls {@link #check()}; running out throws {@link Exhausted}, which
 * {@link MathVerifier} turns into "not verified" and counts. Not thread-safe: one per call.
 */
final class Budget {
  /** Thrown when the deadline has passed or a size cap is hit; never escapes {@link MathVerifier}. */
  static final class Exhausted extends RuntimeException {
    Exhausted(String why) {
      super(why, null, false, false);
    }
  }

  private final long deadline;

  private Budget(long deadline) {
    this.deadline = deadline;
  }

  static Budget ofMillis(long ms) {
    return new Budget(System.nanoTime() + Math.max(0, ms) * 1_000_000L);
  }

  /** Milliseconds left, at least 0. */
  long remainingMillis() {
    return Math.max(0, (deadline - System.nanoTime()) / 1_000_000L);
  }

  boolean expired() {
    return System.nanoTime() - deadline >= 0;
  }

  void check() {
    if (expired()) {
      throw new Exhausted("deadline");
    }
  }

  /** {@code text} read under this budget (regular expressions included): see {@link Text}. */
  Text guard(String text) {
    return new Text(text, this);
  }

  /**
   * A string whose {@link #charAt} checks the deadline every {@value #STRIDE} reads, so that a
   * regular expression that backtracks over a long input (Java's matcher cannot be interrupted)
   * still stops at the deadline with {@link Exhausted}. The few String methods the extractor needs
   * are delegated unchecked: they are linear.
   */
  static final class Text implements CharSequence {
    static final int STRIDE = 1 << 12;
    private final String s;
    private final Budget budget;
    private int reads;

    Text(String s, Budget budget) {
      this.s = s;
      this.budget = budget;
    }

    @Override
    public char charAt(int i) {
      if ((++reads & (STRIDE - 1)) == 0) {
        budget.check();
      }
      return s.charAt(i);
    }

    @Override
    public int length() {
      return s.length();
    }

    @Override
    public CharSequence subSequence(int from, int to) {
      return s.substring(from, to);
    }

    @Override
    public String toString() {
      return s;
    }

    String substring(int from, int to) {
      return s.substring(from, to);
    }

    String substring(int from) {
      return s.substring(from);
    }

    int indexOf(String what, int from) {
      return s.indexOf(what, from);
    }

    int indexOf(char c, int from) {
      return s.indexOf(c, from);
    }

    int indexOf(String what) {
      return s.indexOf(what);
    }

    int lastIndexOf(char c) {
      return s.lastIndexOf(c);
    }

    boolean startsWith(String prefix, int at) {
      return s.startsWith(prefix, at);
    }
  }

  /** A size cap: over it, the answer is not verified (same accounting as the deadline). */
  static void cap(boolean over, String what) {
    if (over) {
      throw new Exhausted(what);
    }
  }
}
