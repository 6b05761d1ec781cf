package io.r1cluster.core.checkpoint;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A separate process for {@link DataSafetyTest} (run as PID 1 in its own PID namespace, as a pod's
 * JVM is):
 * <ul>
 *   <li>{@code overwrite-and-die DIR TEXT}: overwrites checkpoint DIR and halts between the renames;
 *   <li>{@code write-and-die DIR TEXT}: halts while writing the temp folder;
 *   <li>{@code recover PARENT}: {@link HfCheckpoint#removeStaleTemps} on PARENT, prints {@code PID n};
 *   <li>{@code lock RUN_DIR}: holds the run-folder lock, prints {@code LOCKED}, waits for stdin to close.
 * </ul>
 */
public final class CheckpointCrashMain {
  private CheckpointCrashMain() {}

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "overwrite-and-die" -> {
        HfCheckpoint.betweenRenames = () -> Runtime.getRuntime().halt(137);
        HfCheckpoint.writeAtomically(Path.of(args[1]), d -> Files.writeString(d.resolve("weights.txt"), args[2]));
        System.exit(3); // not reached
      }
      case "write-and-die" -> HfCheckpoint.writeAtomically(Path.of(args[1]), d -> {
        Files.writeString(d.resolve("weights.txt"), args[2]);
        Runtime.getRuntime().halt(137);
      });
      case "recover" -> {
        HfCheckpoint.removeStaleTemps(Path.of(args[1]));
        System.out.println("PID " + ProcessHandle.current().pid());
      }
      case "lock" -> {
        try (RunFolderLock l = RunFolderLock.acquire(Path.of(args[1]))) {
          System.out.println("LOCKED");
          System.out.flush();
          BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
          while (in.readLine() != null) {
            // hold the lock until stdin closes (or the process is killed)
          }
        }
      }
      default -> throw new IllegalArgumentException(args[0]);
    }
  }
}
