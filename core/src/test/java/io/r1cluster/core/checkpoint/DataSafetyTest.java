package io.r1cluster.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.r1cluster.core.InputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crashes done for real: separate JVMs killed mid-write, each running as PID 1 in its own PID
 * namespace ({@code unshare -rpf}) the way every pod's JVM does, so the "is its writer still alive?"
 * question cannot be answered by the pid alone.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DataSafetyTest {
  @TempDir Path dir;

  static boolean unshareWorks() {
    try {
      Process p = new ProcessBuilder("unshare", "-rpf", "--mount-proc", "true").start();
      return p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }

  /** Runs CheckpointCrashMain as PID 1 of a fresh PID namespace; returns exit code and output. */
  static Result asPid1(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("unshare", "-rpf", "--mount-proc",
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
        "-cp", System.getProperty("java.class.path"), CheckpointCrashMain.class.getName()));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    return new Result(p.exitValue(), out);
  }

  record Result(int exit, String out) {}

  List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void overwriteKilledBetweenRenamesIsRestoredByTheNextPid1() throws Exception {
    assumeTrue(unshareWorks(), "unprivileged PID namespaces unavailable");
    Path ckpt = dir.resolve("checkpoint-10");
    HfCheckpoint.writeAtomically(ckpt, d -> Files.writeString(d.resolve("weights.txt"), "old"));

    Result crash = asPid1("overwrite-and-die", ckpt.toString(), "new");
    assertEquals(137, crash.exit(), crash.out());
    List<String> left = names();
    assertFalse(left.contains("checkpoint-10"), "killed between the renames: " + left);
    assertTrue(left.stream().anyMatch(n -> n.matches("\\.checkpoint-10\\.tmp-1-\\d+-\\d+-old")), left.toString());
    assertTrue(left.stream().anyMatch(n -> n.matches("\\.checkpoint-10\\.tmp-1-\\d+-\\d+")), left.toString());

    Result recover = asPid1("recover", dir.toString());
    assertEquals(0, recover.exit(), recover.out());
    assertTrue(recover.out().contains("PID 1"), "the recovering JVM is PID 1 as well: " + recover.out());
    assertEquals(List.of("checkpoint-10"), names());
    assertEquals("old", Files.readString(ckpt.resolve("weights.txt")));
  }

  @Test
  void writeKilledMidwayLeavesTheOldCopyAndItsTempIsRemoved() throws Exception {
    assumeTrue(unshareWorks(), "unprivileged PID namespaces unavailable");
    Path ckpt = dir.resolve("final");
    HfCheckpoint.writeAtomically(ckpt, d -> Files.writeString(d.resolve("weights.txt"), "old"));
    assertEquals(137, asPid1("write-and-die", ckpt.toString(), "new").exit());
    assertEquals(2, names().size(), names().toString());
    assertEquals(0, asPid1("recover", dir.toString()).exit());
    assertEquals(List.of("final"), names());
    assertEquals("old", Files.readString(ckpt.resolve("weights.txt")));
  }

  @Test
  void ownAndLiveWritersAreNotStaleButAReusedPidIs() {
    ProcessHandle self = ProcessHandle.current();
    long start = DurableFiles.startMillis(self);
    assertFalse(DurableFiles.writerGone(self.pid(), start), "this process");
    // same pid, another start time: PID 1 of a previous container
    assertTrue(DurableFiles.writerGone(self.pid(), start - 60_000));
    ProcessHandle parent = self.parent().orElseThrow();
    assertFalse(DurableFiles.writerGone(parent.pid(), DurableFiles.startMillis(parent)), "a live process");
    assertTrue(DurableFiles.writerGone(parent.pid(), DurableFiles.startMillis(parent) + 1));
  }

  @Test
  void secondProcessOnTheRunFolderIsRefusedUntilTheFirstDies() throws Exception {
    Path run = dir.resolve("run");
    Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx64m",
        "-cp", System.getProperty("java.class.path"), CheckpointCrashMain.class.getName(), "lock", run.toString())
        .redirectErrorStream(true).start();
    try {
      BufferedReader out = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
      assertEquals("LOCKED", out.readLine());
      InputException e = assertThrows(InputException.class, () -> RunFolderLock.acquire(run));
      assertTrue(e.getMessage().contains("run folder is in use by another r1 process (pid " + holder.pid()),
          e.getMessage());
      holder.destroyForcibly(); // SIGKILL: the kernel drops the lock with the process
      assertTrue(holder.waitFor(30, TimeUnit.SECONDS));
      try (RunFolderLock l = RunFolderLock.acquire(run)) {
        // the same JVM cannot take it twice either
        assertThrows(InputException.class, () -> RunFolderLock.acquire(run));
      }
      RunFolderLock.acquire(run).close();
    } finally {
      holder.destroyForcibly();
    }
  }

  @Test
  void durableWriteReplacesWholeFiles() throws Exception {
    Path f = dir.resolve("state.json");
    DurableFiles.writeString(f, "{\"a\":1}\n");
    DurableFiles.writeString(f, "{\"a\":2}\n");
    assertEquals("{\"a\":2}\n", Files.readString(f));
    assertEquals(List.of("state.json"), names());
  }
}
