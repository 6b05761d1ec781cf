package io.r1cluster.core.reward;

import java.time.Duration;

/** Runs untrusted code for the code rewards. Implementations must isolate it (see {@link PythonSandbox}). */
public interface CodeRunner {
  /** Why a run gave no verdict on the code. */
  enum Failure {
    /** The code ran (it may still have failed, timed out or printed the wrong answer). */
    NONE,
    /** The sandbox itself broke (could not start, could not write the program). */
    SANDBOX,
    /** The interpreter the runner was configured with does not exist. */
    NO_INTERPRETER
  }

  /** Outcome of one run. A {@code failure} other than {@link Failure#NONE} means no verdict on the code. */
  record Result(int exitCode, String stdout, String stderr, boolean timedOut, Failure failure) {
    public Result {
      failure = failure == null ? Failure.NONE : failure;
    }

    /** The runner could not judge the code: the reward is "no score" (NaN), not 0. */
    public boolean sandboxError() {
      return failure != Failure.NONE;
    }

    static Result failed(Failure why, String message) {
      return new Result(-1, "", message, false, why);
    }
  }

  /** The language tag of fenced code blocks this runner executes, e.g. {@code python}. */
  String language();

  Result run(String code, String stdin, Duration timeout, long memoryBytes);
}
