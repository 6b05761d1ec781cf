package io.r1cluster.actors.grpo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real {@code r1} process for the multi-JVM tests: the CLI's main class ({@code io.r1cluster.actors.cli.R1})
 * with this JVM's class path, module flags and {@code r1.*} system properties, stdout and stderr in a
 * log file. {@link #kill()} is SIGKILL ({@link Process#destroyForcibly()}): no shutdown hook, no
 * leaving the cluster, no final save.
 */
public final class ChildJvm implements AutoCloseable {
  /** Cluster timing of the child members: a dead peer on loopback is noticed and downed within seconds. */
  public static final List<String> MEMBER_PROPS = List.of(
      "pekko.cluster.failure-detector.acceptable-heartbeat-pause=4s",
      "pekko.cluster.failure-detector.heartbeat-interval=500ms",
      "pekko.cluster.split-brain-resolver.stable-after=3s",
      "pekko.cluster.jmx.enabled=off",
      "r1.grpo.dispatch-timeout=8s",
      "r1.grpo.rollout.entities=4",
      "r1.grpo.progress-interval=1s");

  private final Process process;
  private final Path log;

  private ChildJvm(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  /**
   * Starts {@code r1 ARGS...} with extra {@code -Dkey=value} properties (cluster timing for a test).
   *
   * @param log the child's stdout and stderr
   */
  public static ChildJvm r1(Path log, List<String> properties, String... args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx1g", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"));
    cmd.addAll(io.r1cluster.core.ChildJvmFlags.inherited()); // module flags (Aeron / Agrona) and r1.* settings
    // a JVM started on a loaded machine can take longer than Artery's default 3 s to bind its port
    cmd.add("-Dpekko.remote.artery.bind.bind-timeout=30s");
    if (System.getProperty("r1.home") == null) {
      cmd.add("-Dr1.home=" + home()); // cluster-config/application.conf, as ./r1 runs it
    }
    for (String p : properties) {
      cmd.add("-D" + p);
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.r1cluster.actors.cli.R1"));
    cmd.addAll(List.of(args));
    Files.createDirectories(log.toAbsolutePath().getParent());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new ChildJvm(p, log);
  }

  /** The checkout's root (the folder with cluster-config/). */
  public static Path home() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("cluster-config"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no cluster-config/ above " + Path.of("").toAbsolutePath());
    }
    return p;
  }

  /** Waits until the log contains {@code text}; false when the time is up or the process has exited without it. */
  public boolean awaitLog(String text, Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (System.nanoTime() < deadline) {
      if (log().contains(text)) {
        return true;
      }
      if (!process.isAlive()) {
        return log().contains(text);
      }
      Thread.sleep(50);
    }
    return false;
  }

  /** SIGKILL; returns the exit status (137 when the kill ended it). */
  public int kill() throws InterruptedException {
    process.destroyForcibly();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      throw new AssertionError("pid " + process.pid() + " survived SIGKILL for 30 s");
    }
    return process.exitValue();
  }

  /** Waits for the process to end on its own; its exit status, or -1 on timeout. */
  public int waitFor(Duration max) throws InterruptedException {
    return process.waitFor(max.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The child's output so far. */
  public String log() {
    try {
      return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Kills the process if it still runs (test teardown). */
  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
