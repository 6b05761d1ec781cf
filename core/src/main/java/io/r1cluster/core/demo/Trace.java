package io.r1cluster.core.demo;

/**
 * A teacher's worked solution.
 *
 * @param thinking the steps, one line, computable left to right
 * @param answer the final answer (an integer, as text)
 * @param correct whether the answer equals the gold answer
 */
public record Trace(String thinking, String answer, boolean correct) {
  /** R1 format: {@code <think>\n…\n</think>\n<answer>\n…\n</answer>}. */
  public String completion() {
    return "<think>\n" + thinking + "\n</think>\n<answer>\n" + answer + "\n</answer>";
  }
}
