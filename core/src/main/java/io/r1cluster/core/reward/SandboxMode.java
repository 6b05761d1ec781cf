package io.r1cluster.core.reward;

import io.r1cluster.core.InputException;
import java.util.Locale;

/** Recipe key {@code code_sandbox}: how the code rewards run untrusted completions. */
public enum SandboxMode {
  /**
   * {@code bwrap} (default): bubblewrap with user, PID, mount, network, IPC and UTS namespaces,
   * rlimits and a private tmpfs. Refuses to run when the namespaces cannot be set up.
   */
  ISOLATED("bwrap"),
  /**
   * {@code unsafe-local}: a plain subprocess with rlimits and an empty environment, nothing else. The
   * code can read the trainer's files and reach the network. Only for trusted completions.
   */
  UNSAFE_LOCAL("unsafe-local");

  private final String key;

  SandboxMode(String key) {
    this.key = key;
  }

  /** The recipe spelling. */
  public String key() {
    return key;
  }

  /** Parses the recipe value; {@code null} is the default ({@link #ISOLATED}). */
  public static SandboxMode parse(Object value) {
    if (value == null) {
      return ISOLATED;
    }
    String v = value.toString().trim().toLowerCase(Locale.ROOT);
    for (SandboxMode m : values()) {
      if (m.key.equals(v)) {
        return m;
      }
    }
    throw new InputException(null, 0, "code_sandbox", "expected one of [bwrap, unsafe-local], got '" + value + "'");
  }
}
