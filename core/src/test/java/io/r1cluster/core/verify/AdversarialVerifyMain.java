package io.r1cluster.core.verify;

import java.time.Duration;
import java.util.Random;

/**
 * Adversarial answers for {@link VerifyBudgetTest}, run in a child JVM with a small heap
 * ({@code -Xmx256m}): each case prints {@code name verified=<bool> outOfBudget=<bool>}. An
 * OutOfMemoryError or an exception ends the process with a non-zero status.
 */
public final class AdversarialVerifyMain {
  private AdversarialVerifyMain() {}

  public static void main(String[] args) {
    // a generous deadline for the exact paths (this machine may be busy), a short one for the rest
    MathVerifier exact = new MathVerifier(6, Duration.ofSeconds(60));
    MathVerifier quick = new MathVerifier(6, Duration.ofMillis(1500));
    quick.verify("$\\sqrt{2}$", "$\\sqrt{2}+0$"); // start the CAS outside the cases
    exact.verify("$\\sqrt{2}$", "$\\sqrt{2}+0$");

    String e33 = "1" + "0".repeat(32);
    run(exact, "e33_plus1_vs_plus2", e33 + "1", e33 + "2");
    run(exact, "e33_plus1_same", "$" + e33 + "1$", "The answer is " + e33 + "1.");
    run(exact, "pow33_plus1_vs_plus2", "$10^{33}+1$", "$10^{33}+2$");
    run(exact, "pow33_plus1_vs_digits", "$10^{33}+1$", "$" + e33 + "1$");
    run(exact, "big_fraction_vs_next", "$\\frac{" + e33 + "1}{3}$", "$\\frac{" + e33 + "2}{3}$");

    String big = digits(1_000_000, 1);
    char last = big.charAt(big.length() - 1);
    String big2 = big.substring(0, big.length() - 1) + (char) ('0' + (last - '0' + 1) % 10);
    run(exact, "million_digits_last_differs", big, big2);
    run(exact, "million_digits_same", "\\boxed{" + big + "}", "$" + big + "$");

    StringBuilder pm = new StringBuilder("$1");
    for (int i = 0; i < 26; i++) {
      pm.append("\\pm ").append((char) ('a' + i));
    }
    String pm26 = pm.append('$').toString(); // 26 signs in about 150 bytes: 2^26 values if expanded
    run(quick, "pm26_bytes_" + pm26.length(), "$1$", pm26);
    run(quick, "pm26_numeric", "$1$", "$1" + "\\pm 1".repeat(26) + "$");

    run(quick, "input_over_cap", "$5$", "5 ".repeat(MathVerifier.MAX_INPUT_CHARS / 2 + 1));
    run(quick, "backtracking_spaces", "$5$", "1 ".repeat(200_000));
    run(quick, "nested_fractions", "$5$", "$" + "\\frac{1}{".repeat(3_000) + "2" + "}".repeat(3_000) + "$");
    System.out.println("done");
  }

  private static void run(MathVerifier v, String name, String gold, String pred) {
    long before = v.timeouts();
    long t0 = System.nanoTime();
    boolean r = v.verify(gold, pred);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println(name + " verified=" + r + " outOfBudget=" + (v.timeouts() > before) + " ms=" + ms);
  }

  static String digits(int n, long seed) {
    Random rnd = new Random(seed);
    StringBuilder sb = new StringBuilder(n).append('7');
    for (int i = 1; i < n; i++) {
      sb.append((char) ('0' + rnd.nextInt(10)));
    }
    return sb.toString();
  }
}
