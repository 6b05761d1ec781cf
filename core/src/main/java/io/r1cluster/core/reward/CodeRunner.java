package io.r1cluster.core.reward;

import java.time.Duration;

/** Runs untrusted code for the code rewards. Implementations must isolate it (see {@link PythonSandbox}). */
public interface CodeRunner {
  /** Outcome of one run. {@code sandboxError} means the sandbox itself failed (no verdict on the code). */
  record Result(int exitCode, String stdout, String stderr, boolean timedOut, boolean sandboxError) {}

  /** The language tag of fenced code blocks this runner executes, e.g. {@code python}. */
  String language();

  Result run(String code, String stdin, Duration timeout, long memoryBytes);
}
