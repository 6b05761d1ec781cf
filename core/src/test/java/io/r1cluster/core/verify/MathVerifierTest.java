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

  @Test
  void extraction() {
    assertEquals(List.of("1", "\\frac{1}{2}"), Extract.boxes("a \\boxed{1} b \\boxed{\\frac{1}{2}}"));
    assertEquals(Optional.of("\\frac{1}{2}"), Extract.prediction("so \\boxed{1} no wait \\boxed{\\frac{1}{2}}"));
    assertEquals(Optional.of("{a{b}}"), Extract.prediction("x \\boxed{{a{b}}}"));
    assertEquals(Optional.of("42"), Extract.prediction("blah. The final answer is 42."));
    assertEquals(Optional.of("x=2"), Extract.prediction("<think>\nsteps\n</think>\n<answer>\nx=2\n</answer>"));
    assertEquals(Optional.of("3\\pi"), Extract.prediction("area is $3\\pi$"));
    assertEquals(Optional.empty(), Extract.prediction("no answer here"));
    assertEquals(Optional.of("7"), Extract.gold("$7$"));
  }

  @Test
  void numbersAndNoise() {
    assertTrue(V.verify("42", "42"));
    assertTrue(V.verify("42", "42.0"));
    assertTrue(V.verify("1000", "1,000"));
    assertTrue(V.verify("0.5", "\\frac{1}{2}"));
    assertTrue(V.verify("\\frac{1}{2}", "\\dfrac12"));
    assertTrue(V.verify("\\frac{3}{4}", "6/8"));
    assertTrue(V.verify("30", "30^\\circ"));
    assertTrue(V.verify("25", "25\\%"));
    assertTrue(V.verify("5", "\\$5"));
    assertTrue(V.verify("12", "12 \\text{ cm}"));
    assertTrue(V.verify("7", "\\left( 7 \\right)") || V.verify("7", "7"));
    assertTrue(V.verify("0.333333", "\\frac{1}{3}"));
    assertFalse(V.verify("0.33", "\\frac{1}{3}"));
    assertFalse(V.verify("42", "43"));
    assertTrue(V.verify("3.14159", "3.141592", 4));
    assertFalse(V.verify("3.14159", "3.141592", 6));
  }

  @Test
  void symbolic() {
    assertTrue(V.verify("\\sqrt{2}", "\\frac{\\sqrt{8}}{2}"));
    assertTrue(V.verify("2\\sqrt{2}", "\\sqrt8"));
    assertTrue(V.verify("\\pi", "\\pi"));
    assertTrue(V.verify("3.14159265", "\\pi"));
    assertTrue(V.verify("x^2+2x+1", "(x+1)^2"));
    assertFalse(V.verify("x^2+1", "(x+1)^2"));
    assertTrue(V.verify("e^{2}", "e^2"));
  }

  @Test
  void equationsSetsIntervalsTuplesMatrices() {
    assertTrue(V.verify("3", "x = 3"));
    assertTrue(V.verify("x=3", "3"));
    assertTrue(V.verify("y = 2x + 1", "y=1+2x"));
    assertTrue(V.verify("2x + 3y = 6", "4x + 6y = 12"));
    assertFalse(V.verify("2x + 3y = 6", "2x + 3y = 7"));
    assertTrue(V.verify("\\{1, 2, 3\\}", "\\{3, 1, 2\\}"));
    assertTrue(V.verify("1, 2", "2, 1"));
    assertTrue(V.verify("\\{1,2\\}", "2, 1"));
    assertTrue(V.verify("(1, 2)", "(1,2)"));
    assertFalse(V.verify("(1, 2)", "(2, 1)"));
    assertTrue(V.verify("[1, 3)", "[1,3)"));
    assertFalse(V.verify("[1, 3)", "(1,3)"));
    assertTrue(V.verify("(3, \\infty)", "x > 3"));
    assertTrue(V.verify("[2, 5]", "2 \\leq x \\leq 5"));
    // the same relation written the other way round; another variable is another answer (as Math-Verify)
    assertTrue(V.verify("x > 2", "2 < x"));
    assertTrue(V.verify("x \\leq 2", "2 \\geq x"));
    assertFalse(V.verify("x > 2", "2 > x"));
    assertFalse(V.verify("x > 2", "y > 2"));
    assertFalse(V.verify("x > 2", "I > 2"));
    assertFalse(V.verify("2 < x < 5", "2 < y < 5"));
    assertTrue(V.verify("x > 2", "(2, \\infty)"));
    assertTrue(V.verify("(-\\infty, 1) \\cup (2, \\infty)", "(2,\\infty)\\cup(-\\infty,1)"));
    assertTrue(V.verify("\\pm 2", "2, -2"));
    assertTrue(V.verify("1 \\pm \\sqrt{2}", "1+\\sqrt{2}, 1-\\sqrt{2}"));
    assertTrue(V.verify("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"));
    assertFalse(V.verify("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}", "\\begin{pmatrix}1&3\\\\2&4\\end{pmatrix}"));
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
    fast.verify("\\sqrt{2}", "\\sqrt{2}+0"); // warm up the CAS (first call has a start-up allowance)
    long before = fast.timeouts();
    boolean r = fast.verify("(x+1)^{40}", "\\sum_{k=0}^{40} \\binom{40}{k} x^k");
    assertFalse(r);
    assertEquals(before + 1, fast.timeouts());
  }
}
