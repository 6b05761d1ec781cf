package io.r1cluster.actors.transport;

import static io.r1cluster.actors.transport.Snapshots.assertBitIdentical;
import static io.r1cluster.actors.transport.WeightTransportTest.await;
import static io.r1cluster.actors.transport.WeightTransportTest.awaitVersion;
import static io.r1cluster.actors.transport.WeightTransportTest.freeUdpPort;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.actors.grpo.RunSpec;
import io.r1cluster.actors.transport.WeightPublisher.Outcome;
import io.r1cluster.core.data.WeightSnapshot;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The weight stream under attack: an attacker who knows the channel and the publisher id (both are
 * visible on the wire) but not the run's key publishes, over a real Aeron publication of its own, a
 * complete snapshot with version {@code Long.MAX_VALUE}. Without authentication that version would
 * become the latest and every later legitimate version would be dropped as older.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WeightAuthTest {
  static final AeronSettings SETTINGS = AeronSettings.defaults().withTermLength(4 << 20);
  static EmbeddedAeron learnerHost;

  @BeforeAll
  static void launch() {
    learnerHost = EmbeddedAeron.launch(SETTINGS);
  }

  @AfterAll
  static void close() {
    learnerHost.close();
  }

  @Test
  void forgedSnapshotOverIpcFromAnotherClientIsRejectedAndLaterVersionsStillArrive() throws Exception {
    WeightKey key = WeightKey.random();
    String channel = WeightChannels.ipc(SETTINGS);
    // the attacker is a separate Aeron client of the same media driver (a process on the learner's host)
    try (WeightPublisher pub = WeightPublisher.create(learnerHost.aeron(), channel, SETTINGS, key);
        WeightReceiver rec = WeightReceiver.create(learnerHost.aeron(), channel, SETTINGS, pub.publisherId(), key);
        EmbeddedAeron attackerClient = EmbeddedAeron.launch(SETTINGS.withExternalDir(learnerHost.directory()));
        WeightPublisher attacker = WeightPublisher.impersonate(attackerClient.aeron(), channel, SETTINGS,
            WeightKey.random(), pub.publisherId())) {
      // every version counts as announced here: only the tags stand between the attacker and the swap
      rec.announced(Long.MAX_VALUE);
      rec.start();
      attackAndRecover(pub, rec, attacker);
    }
  }

  @Test
  void forgedSnapshotOverUdpFromAnotherHostIsRejected() throws Exception {
    WeightKey key = WeightKey.random();
    String control = "localhost:" + freeUdpPort();
    try (EmbeddedAeron rolloutHost = EmbeddedAeron.launch(SETTINGS);
        EmbeddedAeron attackerHost = EmbeddedAeron.launch(SETTINGS);
        WeightPublisher pub = WeightPublisher.create(learnerHost.aeron(), WeightChannels.udpPublication(SETTINGS, control),
            SETTINGS, key);
        WeightReceiver rec = WeightReceiver.create(rolloutHost.aeron(),
            WeightChannels.udpSubscription(SETTINGS, "localhost:0", control), SETTINGS, pub.publisherId(), key)) {
      rec.announced(Long.MAX_VALUE);
      rec.start();
      await(() -> rec.isConnected() && pub.isConnected(), "receiver joined");
      // the attacker learns the receiver's data endpoint (it is on the wire too) and sends to it directly
      String endpoint = rec.localAddress();
      try (WeightPublisher attacker = WeightPublisher.impersonate(attackerHost.aeron(),
          "aeron:udp?endpoint=" + endpoint + "|mtu=" + SETTINGS.mtu(), SETTINGS, WeightKey.random(), pub.publisherId())) {
        attackAndRecover(pub, rec, attacker);
      }
    }
  }

  private static void attackAndRecover(WeightPublisher pub, WeightReceiver rec, WeightPublisher attacker)
      throws Exception {
    assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
    WeightSnapshot v1 = Snapshots.random(1, 1, 11);
    assertEquals(Outcome.SENT, pub.publish(v1));
    awaitVersion(rec, 1);

    assertTrue(attacker.awaitConnected(Duration.ofSeconds(10)), "the attacker's publication reaches the receiver");
    WeightSnapshot forged = Snapshots.random(Long.MAX_VALUE, 1, 12);
    assertEquals(Outcome.SENT, attacker.publish(forged));
    long forgedMessages = 2 + attacker.stats().chunks(); // manifest + chunks + commit
    await(() -> rec.stats().forged() >= 2, "forged manifest and commit counted (stats " + rec.stats() + ")");
    assertEquals(1, rec.latestVersion(), "the forged version was not swapped in");
    assertTrue(forgedMessages > 2);

    WeightSnapshot v2 = Snapshots.random(2, 1, 13);
    assertEquals(Outcome.SENT, pub.publish(v2));
    awaitVersion(rec, 2);
    try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
      assertBitIdentical(v2, lease.snapshot());
    }
    assertEquals(2, rec.stats().completed());
  }

  @Test
  void completeVersionWaitsForItsAnnouncement() throws Exception {
    WeightKey key = WeightKey.random();
    String channel = WeightChannels.ipc(SETTINGS);
    try (WeightPublisher pub = WeightPublisher.create(learnerHost.aeron(), channel, SETTINGS, key);
        WeightReceiver rec = WeightReceiver.create(learnerHost.aeron(), channel, SETTINGS, pub.publisherId(), key)) {
      rec.announced(1);
      rec.start();
      assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
      WeightSnapshot v1 = Snapshots.random(1, 1, 21);
      assertEquals(Outcome.SENT, pub.publish(v1));
      awaitVersion(rec, 1);
      // v2 arrives whole and verified, but the learner has not announced it (yet)
      WeightSnapshot v2 = Snapshots.random(2, 1, 22);
      assertEquals(Outcome.SENT, pub.publish(v2));
      await(() -> rec.stats().chunks() == pub.stats().chunks() && rec.missingRanges(2).isEmpty(), "v2 assembled");
      Thread.sleep(100);
      assertEquals(1, rec.latestVersion(), "not announced: not swapped in");
      try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
        assertBitIdentical(v1, lease.snapshot());
      }
      rec.announced(2);
      assertEquals(2, rec.latestVersion(), "swapped in on the announcement");
      try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
        assertBitIdentical(v2, lease.snapshot());
      }
    }
  }

  @Test
  void keyNeverPrintedWithTheRunSpec() {
    WeightKey key = WeightKey.random();
    RunSpec.WeightSource s = new RunSpec.WeightSource("IPC", "/dev/shm/x", "", 7, 0, key.bytes());
    String hex = HexFormat.of().formatHex(key.bytes());
    assertFalse(s.toString().contains(hex), s.toString());
    assertFalse(s.toString().contains(java.util.Arrays.toString(key.bytes())), s.toString());
    assertEquals("WeightKey[redacted]", key.toString());
    assertEquals(List.of(true), List.of(java.util.Arrays.equals(key.bytes(), s.weightKey().bytes())));
  }
}
