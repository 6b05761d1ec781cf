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

  /** A size cap: over it, the answer is not verified (same accounting as the deadline). */
  static void cap(boolean over, String what) {
    if (over) {
      throw new Exhausted(what);
    }
  }
}
