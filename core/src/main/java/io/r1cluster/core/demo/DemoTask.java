package io.r1cluster.core.demo;

import io.r1cluster.core.InputException;
import java.util.Locale;

/** Kinds of demo problems. */
public enum DemoTask {
  /** Column addition, e.g. "What is 47 + 38?". */
  ADD,
  /** Column subtraction with a non-negative result, e.g. "What is 52 - 17?". */
  SUB,
  /** A number times one digit, e.g. "What is 47 * 6?". */
  MUL,
  /** A linear equation with an integer solution, e.g. "Solve 2x + 3 = 7". */
  LINEAR;

  /** Parses {@code add}, {@code sub}, {@code mul} or {@code linear}. */
  public static DemoTask parse(String s) {
    try {
      return valueOf(s.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new InputException(null, 0, "tasks", "unknown demo task '" + s + "' (add, sub, mul, linear)");
    }
  }
}
