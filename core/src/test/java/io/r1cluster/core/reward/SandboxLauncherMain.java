package io.r1cluster.core.reward;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/**
 * Runs one snippet through {@link PythonSandbox} in a JVM of its own, so that tests can start the
 * JVM-side launcher as an unprivileged user ({@code setpriv --reuid=65534 …}). Needs only the JDK and
 * this module's classes.
 *
 * <p>Arguments: {@code MODE TIMEOUT_MS CODE_FILE STDIN_FILE}. Prints {@code pid}, {@code isolation},
 * {@code exit}, {@code timedOut}, {@code failure} lines and base64 {@code stdout}/{@code stderr} lines;
 * {@code unavailable <reason>} when the sandbox refuses to start.
 */
public final class SandboxLauncherMain {
  private SandboxLauncherMain() {}

  public static void main(String[] args) throws Exception {
    System.out.println("pid " + ProcessHandle.current().pid());
    PythonSandbox box;
    try {
      box = new PythonSandbox(SandboxMode.parse(args[0]));
    } catch (SandboxUnavailableException e) {
      System.out.println("unavailable " + e.getMessage().replace('\n', ' '));
      return;
    }
    String code = Files.readString(Path.of(args[2]));
    String stdin = Files.readString(Path.of(args[3]));
    CodeRunner.Result r = box.run(code, stdin, Duration.ofMillis(Long.parseLong(args[1])), 256L << 20);
    Base64.Encoder b64 = Base64.getEncoder();
    System.out.println("isolation " + box.isolation());
    System.out.println("exit " + r.exitCode());
    System.out.println("timedOut " + r.timedOut());
    System.out.println("failure " + r.failure());
    System.out.println("stdout " + b64.encodeToString(r.stdout().getBytes(StandardCharsets.UTF_8)));
    System.out.println("stderr " + b64.encodeToString(r.stderr().getBytes(StandardCharsets.UTF_8)));
    System.out.println("alive");
  }
}
