package io.r1cluster.core.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class MathVerifierTest {
  static final MathVerifier V = new MathVerifier();

  /**
   * Math-Verify only reads LaTeX inside math delimiters or a box ({@code parse("\\pi")} is empty,
   * so bare LaTeX never verifies): the comparisons below give both sides as {@code $…$}.
   */
  static boolean eq(String gold, String pred) {
    return V.verify("$" + gold + "$", "$" + pred + "$");
  }

  static boolean eq(String gold, String pred, int digits) {
    return V.verify("$" + gold + "$", "$" + pred + "$", digits);
  }

  @Test
  void extraction() {
    assertEquals(List.of("1", "\\frac{1}{2}"), Extract.boxes("a \\boxed{1} b \\boxed{\\frac{1}{2}}"));
    // the last box wins; boxes under 10 characters apart (or under 70 with and/or/comma) are kept together
    assertEquals(Optional.of("\\frac{1}{2}"),
        Extract.prediction("so \\boxed{1}. Hmm that does not check out. Redoing the sum gives \\boxed{\\frac{1}{2}}"));
    assertEquals(Optional.of("1,\\frac{1}{2}"), Extract.prediction("so \\boxed{1} no wait \\boxed{\\frac{1}{2}}"));
    assertEquals(List.of("{a{b}}"), Extract.boxes("x \\boxed{{a{b}}}"));
    assertEquals(Optional.of("42"), Extract.prediction("blah. The final answer is 42."));
    assertEquals(Optional.of("2"), Extract.prediction( // plain text: the number after the last "="
        "<think>\nsteps\n</think>\n<answer>\nx=2\n</answer>"));
    assertEquals(Optional.of("3\\pi"), Extract.prediction("area is $3\\pi$"));
    assertEquals(Optional.empty(), Extract.prediction("no answer here"));
    assertEquals(Optional.of("7"), Extract.gold("$7$"));
  }

  @Test
  void numbersAndNoise() {
    assertTrue(eq("42", "42"));
    assertTrue(eq("42", "42.0"));
    assertTrue(eq("1000", "1,000"));
    assertTrue(eq("0.5", "\\frac{1}{2}"));
    assertTrue(eq("\\frac{1}{2}", "\\dfrac12"));
    assertTrue(eq("\\frac{3}{4}", "6/8"));
    assertTrue(eq("30", "30^\\circ"));
    assertFalse(eq("25", "25\\%")); // 25 % is 1/4 (latex2sympy reads X% as X/100)
    assertTrue(eq("0.25", "25\\%"));
    assertTrue(V.verify("$25\\%$", "25 percent"));
    assertFalse(V.verify("\\pi", "\\pi")); // bare LaTeX is not extracted (Math-Verify)
    assertTrue(eq("5", "\\$5"));
    assertTrue(eq("12", "12 \\text{ cm}"));
    assertTrue(eq("7", "\\left( 7 \\right)") || eq("7", "7"));
    assertTrue(eq("0.333333", "\\frac{1}{3}"));
    assertFalse(eq("0.33", "\\frac{1}{3}"));
    assertFalse(eq("42", "43"));
    assertTrue(eq("3.14159", "3.141592", 4));
    assertFalse(eq("3.14159", "3.141592", 6));
  }

  @Test
  void symbolic() {
    assertTrue(eq("\\sqrt{2}", "\\frac{\\sqrt{8}}{2}"));
    assertTrue(eq("2\\sqrt{2}", "\\sqrt8"));
    assertTrue(eq("\\pi", "\\pi"));
    assertTrue(eq("3.14159265", "\\pi"));
    assertTrue(eq("x^2+2x+1", "(x+1)^2"));
    assertFalse(eq("x^2+1", "(x+1)^2"));
    assertTrue(eq("e^{2}", "e^2"));
  }

  @Test
  void equationsSetsIntervalsTuplesMatrices() {
    assertTrue(eq("3", "x = 3"));
    assertTrue(eq("x=3", "3"));
    assertTrue(eq("y = 2x + 1", "y=1+2x"));
    assertTrue(eq("2x + 3y = 6", "4x + 6y = 12"));
    assertFalse(eq("2x + 3y = 6", "2x + 3y = 7"));
    assertTrue(eq("\\{1, 2, 3\\}", "\\{3, 1, 2\\}"));
    assertTrue(eq("1, 2", "2, 1"));
    assertTrue(eq("\\{1,2\\}", "2, 1"));
    assertTrue(eq("(1, 2)", "(1,2)"));
    assertFalse(eq("(1, 2)", "(2, 1)"));
    assertTrue(eq("[1, 3)", "[1,3)"));
    assertFalse(eq("[1, 3)", "(1,3)"));
    // a gold set against a predicted relation only with allow_set_relation_comp; the other way round always
    assertFalse(eq("(3, \\infty)", "x > 3"));
    assertTrue(V.verify("$(3, \\infty)$", "$x > 3$", new MathVerifier.Options(6, true, true)));
    assertTrue(V.verify("$[2, 5]$", "$2 \\leq x \\leq 5$", new MathVerifier.Options(6, true, true)));
    assertTrue(eq("2 \\leq x \\leq 5", "[2, 5]"));
    // the same relation written the other way round; another variable is another answer (as Math-Verify)
    assertTrue(eq("x > 2", "2 < x"));
    assertTrue(eq("x \\leq 2", "2 \\geq x"));
    assertFalse(eq("x > 2", "2 > x"));
    assertFalse(eq("x > 2", "y > 2"));
    assertFalse(eq("x > 2", "I > 2"));
    assertFalse(eq("2 < x < 5", "2 < y < 5"));
    assertTrue(eq("x > 2", "(2, \\infty)"));
    assertTrue(eq("(-\\infty, 1) \\cup (2, \\infty)", "(2,\\infty)\\cup(-\\infty,1)"));
    assertTrue(eq("\\pm 2", "2, -2"));
    assertTrue(eq("1 \\pm \\sqrt{2}", "1+\\sqrt{2}, 1-\\sqrt{2}"));
    assertTrue(eq("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"));
    assertFalse(eq("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}"));
  }

  @Test
  void completionsAndUnparseableGold() {
    assertEquals(Optional.of(true), V.verifyCompletion("The answer is $\\boxed{5}$", "... so \\boxed{5}"));
    assertEquals(Optional.of(false), V.verifyCompletion("5", "I give up"));
    assertEquals(Optional.empty(), V.verifyCompletion("", "\\boxed{5}"));
    assertEquals(Optional.empty(), V.verifyCompletion("\\boxed{}", "\\boxed{5}"));
  }

  @Test
  void timeoutIsNotVerifiedAndCounted() {
    MathVerifier fast = new MathVerifier(6, Duration.ofMillis(1));
    fast.verify("$\\sqrt{2}$", "$\\sqrt{2}+0$"); // warm up the CAS (first call has a start-up allowance)
    long before = fast.timeouts();
    boolean r = fast.verify("$(x+1)^{40}$", "$\\sum_{k=0}^{40} \\binom{40}{k} x^k$");
    assertFalse(r);
    assertEquals(before + 1, fast.timeouts());
  }
}
