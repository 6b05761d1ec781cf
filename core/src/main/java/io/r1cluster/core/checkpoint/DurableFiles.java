package io.r1cluster.core.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;

/**
 * Writes that survive a power cut or a killed pod, not just a killed process: data is forced to
 * the device ({@code fsync}) before the rename that publishes it, and the directory entry after.
 * Also the identity of a writing process, {@link #WRITER}, that stays unique when every pod's JVM
 * is PID 1 (the process start time goes with the pid).
 */
public final class DurableFiles {
  private DurableFiles() {}

  /** This process as temp names record it: {@code PID-STARTMILLIS}. */
  public static final String WRITER = ProcessHandle.current().pid() + "-" + startMillis(ProcessHandle.current());

  /**
   * Replaces {@code file} with {@code content} atomically and durably: a sibling temp file is
   * written and fsynced, renamed over {@code file}, and the directory fsynced. A reader sees the
   * old content or the new, never a mix; after a crash, the new content once this returned.
   */
  public static void writeString(Path file, String content) {
    Path dir = file.toAbsolutePath().getParent();
    Path tmp = dir.resolve("." + file.getFileName() + ".tmp-" + WRITER);
    try {
      Files.createDirectories(dir);
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING)) {
        ByteBuffer b = ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8));
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
      syncDirectory(dir);
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // best effort
      }
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  /** Forces every regular file under {@code dir} and the directories themselves to the device. */
  public static void syncTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        if (Files.isRegularFile(p)) {
          try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
            ch.force(true);
          }
        } else if (Files.isDirectory(p)) {
          syncDirectory(p);
        }
      }
    }
  }

  /** Forces a directory's entries (renames, creations) to the device; a no-op where the OS refuses. */
  public static void syncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      if (!Files.isDirectory(dir)) {
        throw e;
      }
      // some file systems cannot open a directory for sync; the rename itself is still atomic
    }
  }

  /**
   * Whether the process that wrote a temp named with {@code pid} and {@code startMillis} is gone:
   * not this process, and no live process on this host has that pid <em>and</em> that start time.
   * (PID 1 in a restarted container is a different process with a different start time.)
   *
   * @param startMillis the writer's start time, or -1 for names without one (older versions):
   *     then only the pid is compared, and this process's own pid counts as gone
   */
  public static boolean writerGone(long pid, long startMillis) {
    ProcessHandle self = ProcessHandle.current();
    if (startMillis >= 0 && pid == self.pid() && startMillis == startMillis(self)) {
      return false;
    }
    if (startMillis < 0 && pid == self.pid()) {
      return true;
    }
    return ProcessHandle.of(pid)
        .filter(ProcessHandle::isAlive)
        .map(h -> startMillis >= 0 && startMillis(h) != startMillis)
        .orElse(true);
  }

  static long startMillis(ProcessHandle h) {
    return h.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
  }
}
