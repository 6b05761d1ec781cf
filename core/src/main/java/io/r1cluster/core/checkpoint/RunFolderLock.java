package io.r1cluster.core.checkpoint;

import io.r1cluster.core.InputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * One process per run folder: {@code r1 run} holds an exclusive lock on {@code RUN_DIR/.r1.lock}
 * (an OS file lock, released by the kernel when the process dies, however it dies) for as long as
 * it works there. A second {@code r1 run} on the same folder fails at once with an
 * {@link InputException} (exit 2) naming the holder, instead of interleaving its checkpoints and
 * {@code state.json} with the first one's.
 */
public final class RunFolderLock implements AutoCloseable {
  /** The lock file's name inside the run folder. */
  public static final String FILE = ".r1.lock";

  private final FileChannel channel;
  private final FileLock lock;

  private RunFolderLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Locks {@code runDir} (created if missing) for this process.
   *
   * @throws InputException when another process (or another run in this one) holds it
   */
  public static RunFolderLock acquire(Path runDir) {
    Path f = runDir.resolve(FILE);
    FileChannel ch = null;
    try {
      Files.createDirectories(runDir);
      ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException e) {
        l = null; // held by this JVM
      }
      if (l == null) {
        String holder = Files.readString(f, StandardCharsets.UTF_8).strip();
        ch.close();
        throw new InputException(runDir, 0, null, "run folder is in use by another r1 process"
            + (holder.isEmpty() ? "" : " (" + holder + ")")
            + "; wait for it to finish, stop it, or give this run another name");
      }
      String me = "pid " + ProcessHandle.current().pid() + " on " + host() + ", since " + Instant.now();
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(me.getBytes(StandardCharsets.UTF_8)), 0);
      ch.force(true);
      return new RunFolderLock(ch, l);
    } catch (IOException e) {
      if (ch != null) {
        try {
          ch.close();
        } catch (IOException ignored) {
          // closing after a failure
        }
      }
      throw new UncheckedIOException("locking run folder " + runDir, e);
    }
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown host";
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      throw new UncheckedIOException("releasing the run folder lock", e);
    }
  }
}
