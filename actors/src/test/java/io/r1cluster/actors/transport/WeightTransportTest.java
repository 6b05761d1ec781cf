package io.r1cluster.actors.transport;

import static io.r1cluster.actors.transport.Snapshots.assertBitIdentical;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.actors.transport.WeightPublisher.Outcome;
import io.r1cluster.core.data.WeightSnapshot;
import java.net.DatagramSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Real Aeron (embedded drivers), over IPC and over UDP multi-destination-cast on loopback. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WeightTransportTest {
  /** Small terms keep /dev/shm use and start-up low; the protocol does not depend on the size. */
  static final AeronSettings SETTINGS = AeronSettings.defaults().withTermLength(4 << 20);
  static EmbeddedAeron aeron;
  static final WeightKey KEY = WeightKey.random();

  /** A receiver of this run's key that swaps to any version it completes (announcements are tested in WeightAuthTest). */
  static WeightReceiver receiver(io.aeron.Aeron a, String channel, AeronSettings settings, long publisherId) {
    WeightReceiver r = WeightReceiver.create(a, channel, settings, publisherId, KEY);
    r.announced(Long.MAX_VALUE);
    return r;
  }

  @BeforeAll
  static void launch() {
    aeron = EmbeddedAeron.launch(SETTINGS);
  }

  @AfterAll
  static void close() {
    aeron.close();
  }

  @Test
  void ipcSnapshotArrivesBitIdentical() throws Exception {
    String channel = WeightChannels.ipc(SETTINGS);
    try (WeightPublisher pub = WeightPublisher.create(aeron.aeron(), channel, SETTINGS, KEY);
        WeightReceiver rec = receiver(aeron.aeron(), channel, SETTINGS, pub.publisherId()).start()) {
      assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
      WeightSnapshot v1 = Snapshots.random(1, 4, 1);
      assertEquals(Outcome.SENT, pub.publish(v1));
      awaitVersion(rec, 1);
      try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
        assertBitIdentical(v1, lease.snapshot());
      }
      // a second version of the same sizes lands in recycled buffers and is still exact
      WeightSnapshot v2 = Snapshots.random(2, 4, 2);
      assertEquals(Outcome.SENT, pub.publish(v2));
      awaitVersion(rec, 2);
      try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
        assertBitIdentical(v2, lease.snapshot());
      }
      WeightReceiver.Stats s = rec.stats();
      assertEquals(2, s.completed());
      assertEquals(0, s.crcRejected());
      assertEquals(v1.byteSize() + v2.byteSize(), s.bytes());
      assertTrue(rec.missingRanges(2).isEmpty());
    }
  }

  @Test
  void udpMdcSnapshotArrivesBitIdenticalAtTwoReceivers() throws Exception {
    String control = "localhost:" + freeUdpPort();
    try (EmbeddedAeron hostB = EmbeddedAeron.launch(SETTINGS);
        EmbeddedAeron hostC = EmbeddedAeron.launch(SETTINGS);
        WeightPublisher pub = WeightPublisher.create(aeron.aeron(), WeightChannels.udpPublication(SETTINGS, control),
            SETTINGS, KEY);
        WeightReceiver b = receiver(hostB.aeron(),
            WeightChannels.udpSubscription(SETTINGS, "localhost:0", control), SETTINGS, pub.publisherId()).start();
        WeightReceiver c = receiver(hostC.aeron(),
            WeightChannels.udpSubscription(SETTINGS, "localhost:0", control), SETTINGS, pub.publisherId()).start()) {
      await(() -> b.isConnected() && c.isConnected() && pub.isConnected(), "both receivers joined");
      assertTrue(pub.chunkSize() < SETTINGS.mtu(), "a chunk fits one UDP frame");
      WeightSnapshot v1 = Snapshots.random(1, 4, 3);
      assertEquals(Outcome.SENT, pub.publish(v1));
      awaitVersion(b, 1);
      awaitVersion(c, 1);
      for (WeightReceiver r : List.of(b, c)) {
        try (SnapshotLease lease = r.acquireLatest().orElseThrow()) {
          assertBitIdentical(v1, lease.snapshot());
        }
      }
    }
  }

  @Test
  void corruptedChunkIsRejectedCountedAndRepairedByResend() throws Exception {
    String channel = WeightChannels.ipc(SETTINGS);
    try (WeightPublisher pub = WeightPublisher.create(aeron.aeron(), channel, SETTINGS, KEY);
        WeightReceiver rec = receiver(aeron.aeron(), channel, SETTINGS, pub.publisherId()).start()) {
      assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
      WeightSnapshot v1 = Snapshots.random(1, 1, 4);
      pub.corruptChunkOnce(3);
      assertEquals(Outcome.SENT, pub.publish(v1));
      await(() -> rec.stats().crcRejected() == 1 && rec.missingRanges(1).size() == 1, "corrupted chunk seen");
      assertEquals(-1, rec.latestVersion(), "an incomplete version is never exposed");
      assertEquals(List.of(new ChunkRange(3, 1)), rec.missingRanges(1));
      ResendRequest req = rec.resendRequest(1);
      assertEquals(pub.publisherId(), req.publisherId());
      assertEquals(Outcome.SENT, pub.resend(req));
      awaitVersion(rec, 1);
      try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
        assertBitIdentical(v1, lease.snapshot());
      }
      assertEquals(1, rec.stats().crcRejected());
      assertNull(rec.resendRequest(1));
    }
  }

  @Test
  void lateJoinerGetsCurrentVersionByResend() throws Exception {
    String channel = WeightChannels.ipc(SETTINGS);
    try (WeightPublisher pub = WeightPublisher.create(aeron.aeron(), channel, SETTINGS, KEY);
        WeightReceiver early = receiver(aeron.aeron(), channel, SETTINGS, pub.publisherId()).start()) {
      assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
      WeightSnapshot v7 = Snapshots.random(7, 1, 5);
      assertEquals(Outcome.SENT, pub.publish(v7));
      awaitVersion(early, 7);
      // An IPC subscriber may join at a position that still holds v7 (the driver updates consumer
      // positions lazily); to model a node that learns about the publisher only after v7 went out,
      // it first expects nobody, lets any replay pass, then switches to the publisher.
      try (WeightReceiver late = receiver(aeron.aeron(), channel, SETTINGS, 0).start()) {
        await(late::isConnected, "late receiver connected");
        Thread.sleep(200);
        late.expectPublisher(pub.publisherId());
        assertEquals(-1, late.latestVersion());
        ResendRequest req = late.resendRequest(7);
        assertEquals(List.of(ChunkRange.ALL), req.ranges(), "never saw the manifest: everything");
        assertEquals(Outcome.UNKNOWN_VERSION, pub.resend(new ResendRequest(pub.publisherId(), 6, req.ranges())));
        assertEquals(Outcome.OTHER_PUBLISHER, pub.resend(new ResendRequest(pub.publisherId() + 1, 7, req.ranges())));
        assertEquals(Outcome.SENT, pub.resend(req));
        awaitVersion(late, 7);
        try (SnapshotLease lease = late.acquireLatest().orElseThrow()) {
          assertBitIdentical(v7, lease.snapshot());
        }
      }
      // the early receiver saw the resend as duplicates and kept its copy
      assertTrue(early.stats().duplicates() > 0);
      assertEquals(1, early.stats().completed());
    }
  }

  @Test
  void previousCompleteVersionStaysWhileNewOneIsIncomplete() throws Exception {
    String channel = WeightChannels.ipc(SETTINGS);
    try (WeightPublisher pub = WeightPublisher.create(aeron.aeron(), channel, SETTINGS, KEY);
        WeightReceiver rec = receiver(aeron.aeron(), channel, SETTINGS, pub.publisherId()).start()) {
      assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
      WeightSnapshot v1 = Snapshots.random(1, 1, 6);
      WeightSnapshot v2 = Snapshots.random(2, 1, 7);
      assertEquals(Outcome.SENT, pub.publish(v1));
      awaitVersion(rec, 1);
      SnapshotLease pinned = rec.acquireLatest().orElseThrow();
      pub.corruptChunkOnce(0);
      assertEquals(Outcome.SENT, pub.publish(v2));
      await(() -> rec.stats().crcRejected() == 1 && rec.missingRanges(2).size() == 1, "v2 assembled but for a chunk");
      assertEquals(2, rec.assemblingVersion());
      assertEquals(1, rec.latestVersion(), "v1 stays the latest while v2 is incomplete");
      try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
        assertBitIdentical(v1, lease.snapshot());
      }
      assertEquals(Outcome.SENT, pub.resend(rec.resendRequest(2)));
      awaitVersion(rec, 2);
      // the pinned lease of v1 was never written into while v2 was assembled
      assertBitIdentical(v1, pinned.snapshot());
      pinned.close();
      try (SnapshotLease lease = rec.acquireLatest().orElseThrow()) {
        assertBitIdentical(v2, lease.snapshot());
      }
    }
  }

  @Test
  void foreignPublisherIsIgnored() throws Exception {
    String channel = WeightChannels.ipc(SETTINGS);
    try (WeightPublisher pub = WeightPublisher.create(aeron.aeron(), channel, SETTINGS, KEY);
        WeightReceiver rec = receiver(aeron.aeron(), channel, SETTINGS, pub.publisherId() ^ 1).start()) {
      assertTrue(pub.awaitConnected(Duration.ofSeconds(10)));
      assertEquals(Outcome.SENT, pub.publish(Snapshots.random(1, 1, 8)));
      await(() -> rec.stats().foreign() > 0 && pub.stats().chunks() > 0, "messages seen");
      Thread.sleep(100);
      assertEquals(-1, rec.latestVersion());
      assertFalse(rec.acquireLatest().isPresent());
      assertEquals(0, rec.stats().chunks());
      assertNotNull(rec.resendRequest(1));
    }
  }

  static void awaitVersion(WeightReceiver r, long version) throws InterruptedException {
    await(() -> r.latestVersion() >= version, "version " + version + " (stats " + r.stats() + ")");
  }

  static void await(BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(2);
    }
  }

  static int freeUdpPort() throws Exception {
    try (DatagramSocket s = new DatagramSocket(0)) {
      return s.getLocalPort();
    }
  }
}
