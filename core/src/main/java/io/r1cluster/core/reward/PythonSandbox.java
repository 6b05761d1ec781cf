package io.r1cluster.core.reward;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs Python code in a throw-away directory as a subprocess with:
 * <ul>
 *   <li>no network: {@code unshare -n} (a fresh network namespace with no interfaces) when it works
 *       (as root, or with user namespaces); otherwise a Python preamble that disables
 *       {@code socket} (weaker — {@link #isolation()} says which is in force);
 *   <li>memory and CPU limits via {@code prlimit --as / --cpu};
 *   <li>a wall-clock limit after which the whole process tree is killed;
 *   <li>{@code python3 -I} (isolated mode: no user site, no env vars) and an empty environment.
 * </ul>
 */
public final class PythonSandbox implements CodeRunner {
  private static final String SOCKET_BLOCK = """
      import socket as _s
      def _blocked(*a, **k):
          raise OSError(101, 'network is disabled in the sandbox')
      _s.socket = _blocked; _s.create_connection = _blocked; _s.getaddrinfo = _blocked
      del _s, _blocked
      """;

  private final String python;
  private final boolean netns;

  public PythonSandbox() {
    this("python3");
  }

  public PythonSandbox(String python) {
    this.python = python;
    this.netns = probeUnshare();
  }

  /** "netns" when code runs in an empty network namespace, "socket-block" otherwise. */
  public String isolation() {
    return netns ? "netns" : "socket-block";
  }

  @Override
  public String language() {
    return "python";
  }

  private static boolean probeUnshare() {
    try {
      Process p = new ProcessBuilder("unshare", "-n", "true").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(5, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  @Override
  public Result run(String code, String stdin, Duration timeout, long memoryBytes) {
    Path dir = null;
    Process p = null;
    try {
      dir = Files.createTempDirectory("r1-sandbox-");
      Path main = dir.resolve("main.py");
      Files.writeString(main, netns ? code : SOCKET_BLOCK + code);
      List<String> cmd = new ArrayList<>();
      if (netns) {
        cmd.addAll(List.of("unshare", "-n"));
      }
      long cpu = Math.max(1, (timeout.toMillis() + 999) / 1000);
      cmd.addAll(List.of("prlimit", "--as=" + memoryBytes, "--cpu=" + cpu, "--nproc=64", "--fsize=" + (16 << 20),
          python, "-I", main.toString()));
      ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile());
      pb.environment().clear();
      pb.environment().put("PATH", "/usr/local/bin:/usr/bin:/bin:" + System.getenv().getOrDefault("PATH", ""));
      pb.environment().put("HOME", dir.toString());
      p = pb.start();
      Process proc = p;
      CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> drain(proc.getInputStream()));
      CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> drain(proc.getErrorStream()));
      try (OutputStream in = p.getOutputStream()) {
        in.write((stdin == null ? "" : stdin).getBytes(StandardCharsets.UTF_8));
      } catch (IOException ignored) {
        // the program may exit without reading its input
      }
      boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!done) {
        killTree(p);
        return new Result(-1, out.getNow(""), err.getNow(""), true, false);
      }
      return new Result(p.exitValue(), out.get(5, TimeUnit.SECONDS), err.get(5, TimeUnit.SECONDS), false, false);
    } catch (Exception e) {
      if (p != null) {
        killTree(p);
      }
      return new Result(-1, "", e.toString(), false, true);
    } finally {
      if (dir != null) {
        deleteTree(dir);
      }
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

  private static String drain(InputStream s) {
    try {
      byte[] b = s.readNBytes(1 << 20); // cap captured output at 1 MiB
      s.transferTo(OutputStream.nullOutputStream());
      return new String(b, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
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
