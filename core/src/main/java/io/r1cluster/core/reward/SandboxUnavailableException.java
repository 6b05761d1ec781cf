package io.r1cluster.core.reward;

import io.r1cluster.core.InputException;

/**
 * The code sandbox cannot isolate on this machine (no bubblewrap, user namespaces disabled, a
 * seccomp profile that forbids them). Code rewards refuse to run; the CLI exits 2 before any work.
 */
public final class SandboxUnavailableException extends InputException {
  public SandboxUnavailableException(String why) {
    super(null, 0, "code_sandbox", "the code rewards run untrusted completions and need an isolating sandbox, but "
        + why + ". Install bubblewrap (Debian: apt-get install bubblewrap) and allow user namespaces "
        + "(sysctl user.max_user_namespaces > 0; in a container a seccomp/AppArmor profile that permits unshare), "
        + "or set 'code_sandbox: unsafe-local' to run completions WITHOUT isolation (trusted completions only)");
  }
}
