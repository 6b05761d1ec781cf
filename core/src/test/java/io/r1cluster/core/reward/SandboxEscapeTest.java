package io.r1cluster.core.reward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Hostile completions against the code sandbox, checked from OUTSIDE: a listener the test opens,
 * a witness process holding a secret in its environment, a host folder, a process scan. Each
 * scenario runs with the launcher in this JVM (root in CI) and in a JVM started as {@code nobody}
 * ({@code setpriv --reuid=65534}), which is how the Docker image and Kubernetes run it. Each also
 * has a control run in {@code unsafe-local} mode that DOES escape, so the probe itself is known to work.
 */
@Timeout(120)
class SandboxEscapeTest {
  enum Launcher { THIS_JVM, NOBODY_JVM }

  private static Optional<String> unavailable;
  private final List<Process> cleanup = new ArrayList<>();

  @BeforeAll
  static void probe() {
    unavailable = PythonSandbox.unavailableReason();
  }

  @AfterEach
  void killLeftovers() {
    cleanup.forEach(p -> {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    });
  }

  /** One run's outcome as seen by the launcher, plus the launcher's own fate. */
  record Run(String stdout, String stderr, int exit, boolean timedOut, String isolation, boolean launcherAlive, double seconds) {}

  private static void assumeIsolation(Launcher l) {
    assumeTrue(unavailable.isEmpty(), () -> "SKIPPED: no isolating sandbox on this machine: " + unavailable.orElse(""));
    if (l == Launcher.NOBODY_JVM) {
      assumeTrue(PythonSandbox.isRoot(), "SKIPPED: starting a launcher as nobody needs root (setpriv)");
    }
  }

  private Run run(Launcher l, SandboxMode mode, String code, String stdin, Duration timeout) throws Exception {
    long t0 = System.nanoTime();
    if (l == Launcher.THIS_JVM) {
      PythonSandbox box = new PythonSandbox(mode);
      CodeRunner.Result r = box.run(code, stdin, timeout, 256L << 20);
      assertFalse(r.sandboxError(), r.stderr());
      return new Run(r.stdout(), r.stderr(), r.exitCode(), r.timedOut(), box.isolation(), true, (System.nanoTime() - t0) / 1e9);
    }
    Path dir = Files.createTempDirectory("r1-escape-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Path codeFile = Files.writeString(dir.resolve("code.py"), code);
    Path stdinFile = Files.writeString(dir.resolve("stdin.txt"), stdin);
    List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
        ProcessHandle.current().info().command().orElse("java"), "-Xmx64m", "-XX:TieredStopAtLevel=1", "-cp", classpath(),
        SandboxLauncherMain.class.getName(), mode.key(), String.valueOf(timeout.toMillis()), codeFile.toString(), stdinFile.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("R1_SECRET", secret);
    Process p = pb.start();
    cleanup.add(p);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    Files.walk(dir).sorted(Collections.reverseOrder()).forEach(f -> f.toFile().delete());
    String unavailableLine = field(out, "unavailable");
    assumeTrue(unavailableLine == null, () -> "SKIPPED: no isolating sandbox for an unprivileged launcher: " + unavailableLine);
    String stdoutB64 = field(out, "stdout");
    assertTrue(stdoutB64 != null, "launcher output: " + out);
    Base64.Decoder d = Base64.getDecoder();
    return new Run(new String(d.decode(stdoutB64), StandardCharsets.UTF_8),
        new String(d.decode(field(out, "stderr")), StandardCharsets.UTF_8), Integer.parseInt(field(out, "exit")),
        Boolean.parseBoolean(field(out, "timedOut")), field(out, "isolation"),
        p.exitValue() == 0 && out.contains("\nalive"), (System.nanoTime() - t0) / 1e9);
  }

  private static String field(String out, String name) {
    return out.lines().filter(s -> s.startsWith(name + " ")).map(s -> s.substring(name.length() + 1)).findFirst()
        .orElse(out.lines().anyMatch(s -> s.equals(name)) ? "" : null);
  }

  private static String classpath() throws Exception {
    String main = Path.of(PythonSandbox.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    String test = Path.of(SandboxLauncherMain.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    return main + ":" + test;
  }

  private final String secret = "s3cr3t-" + UUID.randomUUID();

  /** A long-lived process with the secret in its environment, as the launcher's user. */
  private Process witness(Launcher l) throws IOException {
    List<String> cmd = new ArrayList<>();
    if (l == Launcher.NOBODY_JVM) {
      cmd.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
    }
    cmd.addAll(List.of("sleep", "300"));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("R1_SECRET", secret);
    Process p = pb.start();
    cleanup.add(p);
    return p;
  }

  @ParameterizedTest
  @EnumSource(Launcher.class)
  void networkIsUnreachableBySocketRawSocketAndSubprocess(Launcher l) throws Exception {
    assumeIsolation(l);
    try (ServerSocket server = new ServerSocket()) {
      server.bind(new InetSocketAddress("0.0.0.0", 0));
      server.setSoTimeout(200);
      AtomicInteger accepted = new AtomicInteger();
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try (Socket s = server.accept()) {
            accepted.incrementAndGet();
          } catch (SocketTimeoutException e) {
            // poll again
          } catch (IOException e) {
            return;
          }
        }
      });
      acceptor.start();
      int port = server.getLocalPort();
      // the listener is real: this JVM reaches it
      try (Socket s = new Socket("127.0.0.1", port)) {
        assertTrue(s.isConnected());
      }
      waitFor(() -> accepted.get() == 1);
      List<String> hosts = new ArrayList<>(List.of("127.0.0.1"));
      for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
        for (InetAddress a : Collections.list(ni.getInetAddresses())) {
          if (!a.isLoopbackAddress() && a.getAddress().length == 4) {
            hosts.add(a.getHostAddress());
          }
        }
      }
      String code = """
          import socket, subprocess, sys
          PORT = %d
          hits = []
          for host in %s:
              try:
                  socket.create_connection((host, PORT), timeout=2).close(); hits.append(host)
              except OSError as e:
                  pass
          try:
              import _socket
              s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM); s.settimeout(2); s.connect(('127.0.0.1', PORT)); hits.append('_socket')
          except OSError:
              pass
          r = subprocess.run([sys.executable, '-c', "import socket; socket.create_connection(('127.0.0.1', %d), timeout=2)"], capture_output=True)
          print('subprocess exit', r.returncode)
          print('hits', hits)
          """.formatted(port, pythonList(hosts), port);
      Run r = run(l, SandboxMode.ISOLATED, code, "", Duration.ofSeconds(20));
      assertTrue(r.stdout().contains("hits []"), r.stdout() + r.stderr());
      assertEquals(1, accepted.get(), "connections that reached the test's listener from the sandbox");
      // control: the same code without isolation does reach the listener (socket, _socket and subprocess)
      Run unsafe = run(l, SandboxMode.UNSAFE_LOCAL, code, "", Duration.ofSeconds(20));
      waitFor(() -> accepted.get() >= 1 + 3);
      assertTrue(accepted.get() >= 4, "control run reached the listener " + (accepted.get() - 1) + " times: " + unsafe.stdout());
      server.close();
      acceptor.join(2000);
    }
  }

  @ParameterizedTest
  @EnumSource(Launcher.class)
  void otherProcessesEnvironmentIsInvisible(Launcher l) throws Exception {
    assumeIsolation(l);
    Process w = witness(l);
    String code = """
        import os
        SECRET = %s
        leaks = []
        pids = [p for p in os.listdir('/proc') if p.isdigit()] + ['%d', str(os.getppid())]
        for pid in pids:
            try:
                data = open('/proc/%%s/environ' %% pid, 'rb').read().decode('latin-1')
                if SECRET in data:
                    leaks.append(data)
            except OSError:
                pass
        print('processes seen', len(set(pids)))
        print('env', dict(os.environ))
        print('leaks', leaks)
        """.formatted(pythonString(secret), w.pid());
    Run r = run(l, SandboxMode.ISOLATED, code, "", Duration.ofSeconds(20));
    assertTrue(r.stdout().contains("leaks []"), r.stdout() + r.stderr());
    assertFalse(r.stdout().contains(secret), r.stdout());
    assertFalse(r.stdout().contains("R1_SECRET"), r.stdout());
    Run unsafe = run(l, SandboxMode.UNSAFE_LOCAL, code, "", Duration.ofSeconds(20));
    assertTrue(unsafe.stdout().contains(secret), "control: the witness's environment is readable without isolation: " + unsafe.stdout());
  }

  @ParameterizedTest
  @EnumSource(Launcher.class)
  void writesOutsideDoNotLand(Launcher l) throws Exception {
    assumeIsolation(l);
    Path outside = Files.createTempDirectory("r1-outside-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
    Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rwxrwxrwx"));
    String token = UUID.randomUUID().toString();
    Path hostTmp = Path.of("/tmp", "r1-escaped-" + token);
    Path home = Path.of(System.getProperty("user.home"), "r1-escaped-" + token);
    String code = """
        import os
        wrote = []
        for path in [%s, %s, %s]:
            try:
                with open(path, 'w') as f:
                    f.write('escaped')
                wrote.append(path)
            except OSError as e:
                print('refused', path, e)
        print('wrote', wrote)
        """.formatted(pythonString(outside.resolve("escaped.txt").toString()), pythonString(hostTmp.toString()), pythonString(home.toString()));
    try {
      Run r = run(l, SandboxMode.ISOLATED, code, "", Duration.ofSeconds(20));
      assertTrue(r.stdout().contains("wrote"), r.stdout() + r.stderr());
      assertFalse(Files.exists(outside.resolve("escaped.txt")), "file written into a host folder: " + r.stdout());
      assertFalse(Files.exists(hostTmp), "file written into the host /tmp");
      assertFalse(Files.exists(home), "file written into the launcher's home");
      run(l, SandboxMode.UNSAFE_LOCAL, code, "", Duration.ofSeconds(20));
      assertTrue(Files.exists(outside.resolve("escaped.txt")), "control: without isolation the write lands");
    } finally {
      Files.deleteIfExists(outside.resolve("escaped.txt"));
      Files.deleteIfExists(outside);
      Files.deleteIfExists(hostTmp);
      Files.deleteIfExists(home);
    }
  }

  @ParameterizedTest
  @EnumSource(Launcher.class)
  void codeCannotKillTheLauncherOrOtherProcesses(Launcher l) throws Exception {
    assumeIsolation(l);
    Process w = witness(l);
    long launcher = l == Launcher.THIS_JVM ? ProcessHandle.current().pid() : -1;
    String code = """
        import os, signal
        for pid in [%d, %d, os.getppid(), 1]:
            try:
                os.kill(pid, signal.SIGKILL); print('killed', pid)
            except (OSError, ValueError) as e:
                print('could not kill', pid, e)
        try:
            os.kill(-1, signal.SIGKILL)
        except OSError as e:
            print('kill -1', e)
        print('survived')
        """.formatted(w.pid(), launcher);
    Run r = run(l, SandboxMode.ISOLATED, code, "", Duration.ofSeconds(20));
    assertTrue(r.launcherAlive(), "the launcher JVM died");
    Thread.sleep(200);
    assertTrue(w.isAlive(), "the witness process was killed from the sandbox: " + r.stdout());
    // control: without isolation the witness (same user) is killable; the launcher pid is left out here
    Process w2 = witness(l);
    run(l, SandboxMode.UNSAFE_LOCAL, "import os, signal\nos.kill(%d, signal.SIGKILL)".formatted(w2.pid()), "", Duration.ofSeconds(20));
    assertTrue(w2.waitFor(5, TimeUnit.SECONDS), "control: without isolation the witness is killed");
  }

  @ParameterizedTest
  @EnumSource(Launcher.class)
  void doubleForkedDaemonDoesNotSurvive(Launcher l) throws Exception {
    assumeIsolation(l);
    String marker = "r1-daemon-" + UUID.randomUUID();
    String code = """
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', %s])
            os._exit(0)
        time.sleep(0.5)
        print('parent exits')
        """.formatted(pythonString(marker));
    Run r = run(l, SandboxMode.ISOLATED, code, "", Duration.ofSeconds(20));
    Thread.sleep(300);
    assertEquals(List.of(), processesWith(marker), "daemon processes left behind by the sandbox");
    assertTrue(r.stdout().contains("parent exits"), r.stdout() + r.stderr());
    run(l, SandboxMode.UNSAFE_LOCAL, code, "", Duration.ofSeconds(20));
    List<Long> survivors = processesWith(marker);
    survivors.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    assertFalse(survivors.isEmpty(), "control: without a PID namespace the daemon survives");
  }

  @ParameterizedTest
  @EnumSource(Launcher.class)
  @Timeout(45)
  void megabyteOfUnreadStdinStillTimesOut(Launcher l) throws Exception {
    assumeIsolation(l);
    String stdin = "x".repeat(1 << 20);
    Run r = run(l, SandboxMode.ISOLATED, "import time\nwhile True:\n    time.sleep(0.05)\n", stdin, Duration.ofMillis(1500));
    assertTrue(r.timedOut(), r.stdout() + r.stderr());
    assertTrue(r.seconds() < 15, "took " + r.seconds() + " s");
    // and a program that does read it sees all of it
    Run echo = run(l, SandboxMode.ISOLATED, "import sys\nprint(len(sys.stdin.read()))", stdin, Duration.ofSeconds(20));
    assertEquals(String.valueOf(1 << 20), echo.stdout().strip(), echo.stderr());
  }

  @ParameterizedTest
  @EnumSource(Launcher.class)
  void forkBombIsCappedAndNothingOutlivesTheCall(Launcher l) throws Exception {
    assumeIsolation(l);
    String marker = "r1-bomb-" + UUID.randomUUID();
    String code = """
        import os, sys, time
        n = 0
        try:
            for i in range(500):
                if os.fork() == 0:
                    os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(120)', %s])
                n += 1
        except OSError as e:
            print('fork refused', e.errno)
        print('children', n)
        """.formatted(pythonString(marker));
    Run r = run(l, SandboxMode.ISOLATED, code, "", Duration.ofSeconds(20));
    String children = r.stdout().lines().filter(s -> s.startsWith("children ")).findFirst().orElse("children -1");
    int n = Integer.parseInt(children.substring(9).strip());
    if (!r.isolation().contains("process limit not enforced")) {
      assertTrue(n >= 0 && n < PythonSandbox.MAX_PROCESSES, r.stdout() + r.stderr());
    }
    Thread.sleep(300);
    assertEquals(List.of(), processesWith(marker), "processes left behind");
  }

  private static List<Long> processesWith(String marker) throws IOException {
    List<Long> found = new ArrayList<>();
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (!name.chars().allMatch(Character::isDigit)) {
          continue;
        }
        try {
          String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8);
          if (cmdline.contains(marker)) {
            found.add(Long.parseLong(name));
          }
        } catch (IOException e) {
          // exited meanwhile
        }
      }
    }
    return found;
  }

  private static void waitFor(java.util.function.BooleanSupplier cond) throws InterruptedException {
    for (int i = 0; i < 50 && !cond.getAsBoolean(); i++) {
      Thread.sleep(100);
    }
  }

  private static String pythonString(String s) {
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }

  private static String pythonList(List<String> xs) {
    return "[" + String.join(", ", xs.stream().map(SandboxEscapeTest::pythonString).toList()) + "]";
  }
}
