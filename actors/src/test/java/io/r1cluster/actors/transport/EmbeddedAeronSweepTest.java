package io.r1cluster.actors.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.aeron.Publication;
import io.aeron.Subscription;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A media driver's directory that a SIGKILLed process left behind (on tmpfs: its log buffers stay in
 * memory) is removed when the next driver starts below the same root; a running driver's directory,
 * and a directory this code did not make, are kept.
 */
@Timeout(120)
class EmbeddedAeronSweepTest {
  @Test
  void theDirectoryOfAKilledProcessIsRemovedWhenTheNextDriverStartsAndALiveOneIsKept(@TempDir Path root)
      throws Exception {
    Path foreign = Files.createDirectories(root.resolve("aeron-someone-else"));
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:TieredStopAtLevel=1",
        "-Dr1.transport.aeron.dir-root=" + root));
    cmd.addAll(io.r1cluster.core.ChildJvmFlags.inherited());
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), AeronDriverChild.class.getName()));
    Path log = root.resolve("child.log");
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Path dead = null;
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (dead == null && child.isAlive() && System.nanoTime() < deadline) {
        for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
          if (line.startsWith("DIR ")) {
            dead = Path.of(line.substring(4));
          }
        }
        Thread.sleep(50);
      }
      assertTrue(dead != null, "the child printed its driver directory; its output:\n" + Files.readString(log));
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hook, the driver does not delete its directory
      child.waitFor(30, TimeUnit.SECONDS);
    }
    long killedAt = System.nanoTime();
    assertTrue(Files.isDirectory(dead), "a SIGKILLed driver leaves its directory: " + dead);

    AeronSettings s = AeronSettings.fromConfig(ConfigFactory.load()
        .withValue("r1.transport.aeron.dir-root", ConfigValueFactory.fromAnyRef(root.toString())))
        .withTermLength(1 << 20);
    try (EmbeddedAeron live = EmbeddedAeron.launch(s)) {
      // the dead driver's heartbeat has to age past Aeron's driver timeout before it counts as gone
      long wait = EmbeddedAeron.STALE_AFTER.toNanos() + TimeUnit.SECONDS.toNanos(1) - (System.nanoTime() - killedAt);
      if (wait > 0) {
        Thread.sleep(TimeUnit.NANOSECONDS.toMillis(wait) + 1);
      }
      try (EmbeddedAeron next = EmbeddedAeron.launch(s)) {
        assertFalse(Files.exists(dead), "the killed process's directory is removed by the next driver's start");
        assertTrue(Files.isDirectory(Path.of(live.directory())), "a running driver's directory is kept");
        assertTrue(Files.isDirectory(Path.of(next.directory())));
        assertTrue(Files.isDirectory(foreign), "a directory not named r1-aeron-* is not touched");
        // the kept driver still carries messages
        try (Publication pub = live.aeron().addPublication("aeron:ipc", 9);
            Subscription sub = live.aeron().addSubscription("aeron:ipc", 9)) {
          UnsafeBuffer msg = new UnsafeBuffer(new byte[] {42});
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
          while (pub.offer(msg) < 0 && System.nanoTime() < deadline) {
            Thread.sleep(1);
          }
          int[] got = {0};
          while (got[0] == 0 && System.nanoTime() < deadline) {
            sub.poll((buf, off, len, h) -> got[0] = buf.getByte(off), 1);
          }
          assertEquals(42, got[0]);
        }
      }
    }
  }
}
