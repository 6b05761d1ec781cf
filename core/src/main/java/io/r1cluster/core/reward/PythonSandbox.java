package io.r1cluster.core.reward;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Logger;
import java.util.stream.Stream;

/**
 * Runs untrusted Python code (a completion's last code block) and fails closed.
 *
 * <p>{@link SandboxMode#ISOLATED} builds, for every run:
 * <pre>
 *   [setpriv --reuid=65534 --regid=65534 --clear-groups]      only when the JVM runs as root
 *   bwrap --unshare-user --unshare-pid --unshare-net --unshare-ipc --unshare-uts --unshare-cgroup-try
 *         --die-with-parent --new-session --uid 65534 --gid 65534 --disable-userns --cap-drop ALL
 *         --ro-bind /usr /usr  (/bin /lib /lib64 /sbin as on the host: symlinks or read-only binds)
 *         --ro-bind-try /etc/ld.so.cache, /etc/localtime, /etc/alternatives
 *         [--ro-bind PREFIX PREFIX]                          an interpreter installed outside /usr
 *         --proc /proc --dev /dev --size 64MiB --tmpfs /tmp --chdir /tmp
 *         --ro-bind RUN_DIR /code --clearenv --setenv PATH … HOME /tmp LANG C.UTF-8
 *   -- prlimit --as=MEM --cpu=⌈timeout⌉+1 --nproc=32 --fsize=16MiB --nofile=64 --core=0
 *   -- python3 -I -B /code/main.py
 * </pre>
 * so the code sees no host process (its own PID namespace: no {@code /proc/<ppid>/environ}, no
 * {@code kill} of the trainer), no network interface but its own loopback, a read-only {@code /usr}
 * and a private 64 MiB {@code /tmp}, no environment variable of the trainer. When the JVM is root
 * the sandbox runs as {@code nobody} (root's processes are exempt from {@code RLIMIT_NPROC}, and a
 * mapped root owns host files). When the main program exits, the PID namespace's init exits and the
 * kernel kills everything left in it (double-forked daemons included); {@code --die-with-parent}
 * does the same if the JVM dies. On the deadline the whole tree is killed.
 *
 * <p>Stdin is written by its own thread after the deadline has started, so a program that never reads
 * a large input cannot stall the caller. Output is captured up to 1 MiB per stream.
 *
 * <p>Construction probes the sandbox once per configuration and throws
 * {@link SandboxUnavailableException} when bubblewrap cannot set the namespaces up: code rewards
 * refuse to run rather than run unisolated. {@link SandboxMode#UNSAFE_LOCAL} skips bubblewrap (rlimits,
 * empty environment and tree kill only). A missing interpreter is not a sandbox refusal: every run
 * answers {@link CodeRunner.Failure#NO_INTERPRETER} ("no score").
 */
public final class PythonSandbox implements CodeRunner {
  private static final Logger LOG = Logger.getLogger(PythonSandbox.class.getName());
  /** Uid/gid the sandbox runs as, inside and (when the JVM is root) outside. */
  static final int NOBODY = 65534;
  static final long TMPFS_BYTES = 64L << 20;
  static final long MAX_FILE_BYTES = 16L << 20;
  static final int MAX_PROCESSES = 32;
  static final int MAX_OPEN_FILES = 64;
  static final int MAX_CAPTURE = 1 << 20;
  private static final String SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin";
  private static final Map<List<String>, Optional<String>> PROBES = new ConcurrentHashMap<>();
  private static final AtomicReference<Boolean> WARNED_UNSAFE = new AtomicReference<>(false);

  private final SandboxMode mode;
  private final String python;
  private final Path interpreter;
  private final String prlimit;
  /** bwrap (and setpriv) arguments up to the per-run code bind; empty in unsafe-local mode. */
  private final List<String> isolationArgs;
  private final String isolation;

  /** An isolated sandbox running {@code python3}; throws {@link SandboxUnavailableException} if it cannot isolate. */
  public PythonSandbox() {
    this(SandboxMode.ISOLATED, "python3");
  }

  public PythonSandbox(SandboxMode mode) {
    this(mode, "python3");
  }

  /**
   * @param python an interpreter name (looked up in {@code /usr/local/bin:/usr/bin:/bin}, the sandbox's
   *     PATH) or an absolute path
   */
  public PythonSandbox(SandboxMode mode, String python) {
    this(mode, python, null);
  }

  /** As above with an explicit bubblewrap executable (tests: one that cannot isolate). */
  PythonSandbox(SandboxMode mode, String python, Path bwrapOverride) {
    this.mode = mode;
    this.python = python;
    this.interpreter = resolveInterpreter(python);
    this.prlimit = which("prlimit").map(Path::toString)
        .orElseThrow(() -> new SandboxUnavailableException("'prlimit' (util-linux) is not installed"));
    if (mode == SandboxMode.UNSAFE_LOCAL) {
      isolationArgs = List.of();
      isolation = "unsafe-local (no isolation)";
      if (WARNED_UNSAFE.compareAndSet(false, true)) {
        LOG.warning("code_sandbox: unsafe-local: completions run WITHOUT isolation (they can read files and use the network)");
      }
      return;
    }
    Path bwrap = Optional.ofNullable(bwrapOverride).or(() -> which("bwrap"))
        .orElseThrow(() -> new SandboxUnavailableException("bubblewrap ('bwrap') is not installed"));
    List<String> tried = new ArrayList<>();
    List<String> chosen = null;
    String how = null;
    for (boolean dropToNobody : isRoot() ? new boolean[] {true, false} : new boolean[] {false}) {
      Optional<Path> setpriv = dropToNobody ? which("setpriv") : Optional.empty();
      if (dropToNobody && setpriv.isEmpty()) {
        continue;
      }
      List<String> args = bwrapArgs(bwrap, setpriv.orElse(null));
      Optional<String> err = PROBES.computeIfAbsent(args, a -> probe(a, prlimit));
      if (err.isEmpty()) {
        chosen = args;
        how = dropToNobody ? "bwrap as nobody (user+pid+mount+net namespaces)"
            : isRoot() ? "bwrap as root (user+pid+mount+net namespaces; process limit not enforced for root)"
            : "bwrap (user+pid+mount+net namespaces)";
        break;
      }
      tried.add(err.get());
    }
    if (chosen == null) {
      throw new SandboxUnavailableException("bubblewrap could not set up its namespaces here: " + String.join("; ", tried));
    }
    isolationArgs = chosen;
    isolation = how;
  }

  /** How code is isolated, in words. */
  public String isolation() {
    return isolation;
  }

  public SandboxMode mode() {
    return mode;
  }

  @Override
  public String language() {
    return "python";
  }

  /** Whether an isolating sandbox can be set up on this machine (for tests and diagnostics). */
  public static Optional<String> unavailableReason() {
    try {
      new PythonSandbox(SandboxMode.ISOLATED);
      return Optional.empty();
    } catch (SandboxUnavailableException e) {
      return Optional.of(e.getMessage());
    }
  }

  @Override
  public Result run(String code, String stdin, Duration timeout, long memoryBytes) {
    if (interpreter == null) {
      return Result.failed(Failure.NO_INTERPRETER, "no Python interpreter '" + python + "' (looked in " + SANDBOX_PATH + ")");
    }
    Path dir = null;
    Process p = null;
    try {
      dir = Files.createTempDirectory("r1-sandbox-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
      Path main = dir.resolve("main.py");
      Files.writeString(main, code);
      Files.setPosixFilePermissions(main, PosixFilePermissions.fromString("rw-r--r--"));
      List<String> cmd = command(dir, timeout, memoryBytes);
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
      pb.environment().clear();
      if (mode == SandboxMode.UNSAFE_LOCAL) {
        pb.environment().put("PATH", SANDBOX_PATH);
        pb.environment().put("HOME", dir.toString());
        pb.environment().put("LANG", "C.UTF-8");
      }
      long deadline = System.nanoTime() + timeout.toNanos();
      p = pb.start();
      Capture out = new Capture(p.getInputStream(), "r1-sandbox-out");
      Capture err = new Capture(p.getErrorStream(), "r1-sandbox-err");
      Thread feeder = feed(p.getOutputStream(), stdin);
      boolean done = p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (!done) {
        killTree(p);
      }
      feeder.interrupt();
      return new Result(done ? p.exitValue() : -1, out.text(), err.text(), !done, Failure.NONE);
    } catch (IOException e) {
      return Result.failed(Failure.SANDBOX, "sandbox could not start: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Result.failed(Failure.SANDBOX, "interrupted");
    } finally {
      if (p != null) {
        killTree(p);
      }
      if (dir != null) {
        deleteTree(dir);
      }
    }
  }

  /** The full command line of one run (the program is {@code dir/main.py}). */
  List<String> command(Path dir, Duration timeout, long memoryBytes) {
    long cpu = Math.max(1, (timeout.toMillis() + 999) / 1000) + 1;
    List<String> cmd = new ArrayList<>(isolationArgs);
    String program = dir.resolve("main.py").toString();
    if (mode == SandboxMode.ISOLATED) {
      cmd.addAll(List.of("--ro-bind", dir.toString(), "/code", "--"));
      program = "/code/main.py";
    }
    cmd.addAll(List.of(prlimit, "--as=" + memoryBytes, "--cpu=" + cpu, "--nproc=" + MAX_PROCESSES,
        "--fsize=" + MAX_FILE_BYTES, "--nofile=" + MAX_OPEN_FILES, "--core=0", "--",
        interpreter.toString(), "-I", "-B", program));
    return cmd;
  }

  private List<String> bwrapArgs(Path bwrap, Path setpriv) {
    List<String> a = new ArrayList<>();
    if (setpriv != null) {
      a.addAll(List.of(setpriv.toString(), "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups"));
    }
    a.addAll(List.of(bwrap.toString(), "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
        "--unshare-uts", "--unshare-cgroup-try", "--die-with-parent", "--new-session",
        "--uid", String.valueOf(NOBODY), "--gid", String.valueOf(NOBODY), "--disable-userns", "--cap-drop", "ALL",
        "--ro-bind", "/usr", "/usr"));
    for (String top : List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")) {
      Path t = Path.of(top);
      try {
        if (Files.isSymbolicLink(t)) {
          a.addAll(List.of("--symlink", Files.readSymbolicLink(t).toString(), top));
        } else if (Files.isDirectory(t)) {
          a.addAll(List.of("--ro-bind", top, top));
        }
      } catch (IOException e) {
        // not readable: leave it out of the sandbox
      }
    }
    for (String etc : List.of("/etc/ld.so.cache", "/etc/localtime", "/etc/alternatives")) {
      a.addAll(List.of("--ro-bind-try", etc, etc));
    }
    if (interpreter != null) {
      Path prefix = interpreterPrefix(interpreter);
      if (prefix != null) {
        a.addAll(List.of("--ro-bind", prefix.toString(), prefix.toString()));
      }
    }
    a.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--size", String.valueOf(TMPFS_BYTES), "--tmpfs", "/tmp",
        "--chdir", "/tmp", "--clearenv", "--setenv", "PATH", SANDBOX_PATH, "--setenv", "HOME", "/tmp",
        "--setenv", "LANG", "C.UTF-8"));
    return List.copyOf(a);
  }

  /** The installation prefix to bind for an interpreter outside /usr (its real path's grandparent), else null. */
  private static Path interpreterPrefix(Path interpreter) {
    try {
      Path real = interpreter.toRealPath();
      if (real.startsWith("/usr") || real.getParent() == null || real.getParent().getParent() == null) {
        return null;
      }
      return real.getParent().getParent();
    } catch (IOException e) {
      return null;
    }
  }

  /** Runs {@code prlimit} (no arguments: it prints its limits) inside the sandbox; empty when that works. */
  private static Optional<String> probe(List<String> args, String prlimit) {
    List<String> cmd = new ArrayList<>(args);
    cmd.addAll(List.of("--", prlimit));
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
      pb.environment().clear();
      Process p = pb.start();
      p.getOutputStream().close();
      byte[] out = p.getInputStream().readNBytes(4096);
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        killTree(p);
        return Optional.of(cmd.get(0) + " did not finish its probe in 20 s");
      }
      if (p.exitValue() != 0) {
        String text = new String(out, StandardCharsets.UTF_8).strip();
        return Optional.of((args.get(0).endsWith("setpriv") ? "as nobody: " : "") + (text.isEmpty() ? "exit " + p.exitValue() : text));
      }
      return Optional.empty();
    } catch (IOException e) {
      return Optional.of(e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    }
  }

  private static Path resolveInterpreter(String python) {
    if (python.contains("/")) {
      Path p = Path.of(python);
      return Files.isRegularFile(p) && Files.isExecutable(p) ? p.toAbsolutePath() : null;
    }
    for (String d : SANDBOX_PATH.split(":")) {
      Path p = Path.of(d, python);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return p;
      }
    }
    return null;
  }

  private static Optional<Path> which(String tool) {
    List<String> dirs = new ArrayList<>(List.of("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"));
    String path = System.getenv("PATH");
    if (path != null) {
      dirs.addAll(List.of(path.split(":")));
    }
    for (String d : dirs) {
      if (d.isEmpty()) {
        continue;
      }
      Path p = Path.of(d, tool);
      if (Files.isRegularFile(p) && Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  static boolean isRoot() {
    try (Stream<String> lines = Files.lines(Path.of("/proc/self/status"))) {
      return lines.filter(l -> l.startsWith("Uid:")).findFirst()
          .map(l -> l.split("\\s+")[2].equals("0")).orElse(false);
    } catch (IOException e) {
      return false;
    }
  }

  private static Thread feed(OutputStream in, String stdin) {
    byte[] bytes = (stdin == null ? "" : stdin).getBytes(StandardCharsets.UTF_8);
    Thread t = new Thread(() -> {
      try (OutputStream o = in) {
        o.write(bytes);
      } catch (IOException ignored) {
        // the program exited or was killed without reading all of its input
      }
    }, "r1-sandbox-in");
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** Reads a stream to its end on its own thread, keeping the first {@link #MAX_CAPTURE} bytes. */
  private static final class Capture {
    private final Thread thread;
    private volatile byte[] bytes = new byte[0];

    Capture(InputStream s, String name) {
      thread = new Thread(() -> {
        try (s) {
          bytes = s.readNBytes(MAX_CAPTURE);
          s.transferTo(OutputStream.nullOutputStream());
        } catch (IOException ignored) {
          // the process was killed
        }
      }, name);
      thread.setDaemon(true);
      thread.start();
    }

    String text() throws InterruptedException {
      thread.join(2000);
      return new String(bytes, StandardCharsets.UTF_8);
    }
  }

  static void killTree(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
    try {
      p.waitFor(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> w = Files.walk(dir)) {
      w.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // best effort
    }
  }
}
