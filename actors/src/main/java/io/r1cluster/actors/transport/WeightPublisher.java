package io.r1cluster.actors.transport;

import static io.r1cluster.actors.transport.WeightWire.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.logbuffer.BufferClaim;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.WeightSnapshot;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.BitSet;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.zip.CRC32C;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.IdleStrategy;

/**
 * Publishes {@link WeightSnapshot}s on one Aeron publication in the {@link WeightWire} format:
 * MANIFEST, then every tensor cut into CHUNKs of {@link #chunkSize()} bytes (one Aeron frame each,
 * written in place with {@code tryClaim} — no allocation per chunk), then a COMMIT trailer with
 * per-tensor CRC32C (derived from the chunk CRCs, so each byte is checksummed once, hot in cache).
 * Every message carries an HMAC-SHA256 tag keyed with the run's {@link WeightKey}; chunk tags are
 * computed once per retained snapshot and reused by resends.
 *
 * <p>The latest snapshot is retained so {@link #resend(ResendRequest)} can republish parts of it for a
 * receiver that missed chunks or joined late. Snapshots are immutable; the publisher only reads them.
 *
 * <p>Blocking: {@link #publish} returns when the last byte is in the publication (for UDP with
 * {@code fc=min}, that is when the slowest receiver's window allows). Call it from a dedicated thread
 * or a blocking dispatcher, never from an actor's own thread. Methods are synchronized: publish and
 * resend never interleave.
 *
 * <p>Offer results are classified: BACK_PRESSURED / ADMIN_ACTION are retried with a backing-off idle
 * strategy (and fail as retryable after {@link AeronSettings#backPressureTimeout()}); NOT_CONNECTED
 * ends the publish with {@link Outcome#NOT_CONNECTED}; CLOSED and MAX_POSITION_EXCEEDED are fatal
 * {@link WeightTransportException}s.
 */
public final class WeightPublisher implements AutoCloseable {

  /** How a publish or resend ended. */
  public enum Outcome {
    /** Every message is in the publication. */
    SENT,
    /** No receiver is connected (nothing sent, or the last receiver left mid-way). */
    NOT_CONNECTED,
    /** A resend asked for a version this publisher no longer retains; announce the latest instead. */
    UNKNOWN_VERSION,
    /** A resend addressed to another publisher id; ignored. */
    OTHER_PUBLISHER
  }

  private final Publication publication;
  private final long publisherId;
  private final int chunkSize;
  private final long backPressureTimeoutNs;
  private final IdleStrategy idle = EmbeddedAeron.idle();
  private final BufferClaim claim = new BufferClaim();
  private final ChunkFlyweight chunk = new ChunkFlyweight();
  private final CRC32C crc = new CRC32C();
  private final ExpandableArrayBuffer control = new ExpandableArrayBuffer(64 * 1024);
  private final Crc32c.Combiner fullChunk;
  private final WeightKey.Tagger tagger;
  private final org.agrona.concurrent.UnsafeBuffer headerScratch =
      new org.agrona.concurrent.UnsafeBuffer(new byte[CHUNK_HEADER_LENGTH]);

  // the retained latest snapshot and what was derived from it
  private WeightSnapshot retained;
  private SnapshotLayout layout;
  private ByteBuffer[] views;
  private int[] chunkCrc;
  private byte[] chunkTag;
  private BitSet crcKnown;
  private BitSet tagKnown;

  private long chunksSent;
  private long bytesSent;
  private long backPressured;
  private long snapshotsSent;
  private long resends;
  private int corruptChunkForTest = -1;

  private WeightPublisher(Publication publication, long publisherId, AeronSettings settings, WeightKey key) {
    this.publication = publication;
    this.tagger = key.tagger();
    this.publisherId = publisherId;
    int size = publication.maxPayloadLength() - CHUNK_HEADER_LENGTH;
    this.chunkSize = size & ~63; // keep chunk boundaries 64-byte aligned in the tensors
    this.backPressureTimeoutNs = settings.backPressureTimeout().toNanos();
    this.fullChunk = new Crc32c.Combiner(chunkSize);
  }

  /**
   * Adds a publication on {@code channel} ({@link WeightChannels#ipc} or
   * {@link WeightChannels#udpPublication}) and stream {@link AeronSettings#streamId()}, with a
   * fresh random publisher id, tagging every message with {@code key} (give receivers the same key).
   */
  public static WeightPublisher create(Aeron aeron, String channel, AeronSettings settings, WeightKey key) {
    long id;
    do {
      id = ThreadLocalRandom.current().nextLong();
    } while (id == 0);
    return new WeightPublisher(aeron.addPublication(channel, settings.streamId()), id, settings, key);
  }

  /**
   * A publisher that claims someone else's publisher id on its own exclusive publication: what an
   * attacker who sniffed the id can do. Tests only.
   */
  static WeightPublisher impersonate(Aeron aeron, String channel, AeronSettings settings, WeightKey key, long publisherId) {
    return new WeightPublisher(aeron.addExclusivePublication(channel, settings.streamId()), publisherId, settings, key);
  }

  /** Random id written into every message; receivers accept only the id they were told. */
  public long publisherId() {
    return publisherId;
  }

  /** Aeron session id of the publication. */
  public int sessionId() {
    return publication.sessionId();
  }

  /** Payload bytes per chunk (the publication's max payload minus the chunk header, 64-aligned). */
  public int chunkSize() {
    return chunkSize;
  }

  public boolean isConnected() {
    return publication.isConnected();
  }

  /** Waits (polling every millisecond) until at least one receiver is connected. */
  public boolean awaitConnected(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!publication.isConnected()) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      Thread.sleep(1);
    }
    return true;
  }

  /** Version of the retained snapshot, {@code -1} when none. */
  public synchronized long retainedVersion() {
    return retained == null ? -1 : retained.version();
  }

  /**
   * Publishes {@code snapshot} (manifest, chunks, commit) and retains it for resends.
   *
   * @throws WeightTransportException when the publication is closed, exhausted, or back-pressured
   *     past the timeout
   */
  public synchronized Outcome publish(WeightSnapshot snapshot) {
    retain(snapshot);
    snapshotsSent++;
    return sendAll();
  }

  /** Republishes what a receiver reported missing (see {@link WeightReceiver#resendRequest}). */
  public synchronized Outcome resend(ResendRequest request) {
    if (request.publisherId() != publisherId) {
      return Outcome.OTHER_PUBLISHER;
    }
    if (retained == null || request.version() != retained.version()) {
      return Outcome.UNKNOWN_VERSION;
    }
    resends++;
    for (ChunkRange r : request.ranges()) {
      if (r.isAll()) {
        return sendAll();
      }
    }
    int total = layout.totalChunks();
    for (ChunkRange r : request.ranges()) {
      int end = (int) Math.min(r.end(), total);
      for (int i = r.first(); i < end; i++) {
        if (!sendChunk(i, layout.tensorOfChunk(i))) {
          return Outcome.NOT_CONNECTED;
        }
      }
    }
    return sendCommit() ? Outcome.SENT : Outcome.NOT_CONNECTED;
  }

  /** Test hook: the next full publish writes chunk {@code index} with a wrong CRC (once). */
  synchronized void corruptChunkOnce(int index) {
    corruptChunkForTest = index;
  }

  private void retain(WeightSnapshot s) {
    SnapshotLayout l = SnapshotLayout.of(s, chunkSize);
    List<TensorData> ts = s.tensors();
    ByteBuffer[] v = new ByteBuffer[ts.size()];
    for (int t = 0; t < v.length; t++) {
      v[t] = ts.get(t).data(); // our own read-only view; position/limit are ours to move
    }
    retained = s;
    layout = l;
    views = v;
    if (chunkCrc == null || chunkCrc.length < l.totalChunks()) {
      chunkCrc = new int[l.totalChunks()];
      chunkTag = new byte[l.totalChunks() * TAG_LENGTH];
    }
    crcKnown = new BitSet(l.totalChunks());
    tagKnown = new BitSet(l.totalChunks());
  }

  private Outcome sendAll() {
    int len = layout.encodeManifest(control, publisherId, retained.version());
    tagger.start(control, 0, len).finishInto(control, len);
    if (!offerControl(len + TAG_LENGTH)) {
      return Outcome.NOT_CONNECTED;
    }
    int total = layout.totalChunks();
    int t = 0;
    for (int i = 0; i < total; i++) {
      while (layout.firstChunk(t + 1) <= i) {
        t++;
      }
      if (!sendChunk(i, t)) {
        return Outcome.NOT_CONNECTED;
      }
    }
    return sendCommit() ? Outcome.SENT : Outcome.NOT_CONNECTED;
  }

  private boolean sendChunk(int index, int t) {
    long offset = layout.offsetOfChunk(index, t);
    int length = layout.lengthOfChunk(index, t);
    int c;
    if (crcKnown.get(index)) {
      c = chunkCrc[index];
    } else {
      c = Crc32c.of(crc, views[t], (int) offset, length);
      chunkCrc[index] = c;
      crcKnown.set(index);
    }
    if (!tagKnown.get(index)) {
      // tag = HMAC(key, header without the tag ‖ payload); header fields are fixed per retained version
      chunk.wrapForWrite(headerScratch, 0)
          .header(publisherId, retained.version(), t, layout.tensorCount(), offset, layout.length(t), length, c);
      tagger.start(headerScratch, 0, CHUNK_TAG_OFFSET).update(views[t], (int) offset, length)
          .finishInto(chunkTag, index * TAG_LENGTH);
      tagKnown.set(index);
    }
    if (index == corruptChunkForTest) {
      c = ~c;
      corruptChunkForTest = -1;
    }
    if (!claim(CHUNK_HEADER_LENGTH + length)) {
      return false;
    }
    MutableDirectBuffer b = claim.buffer();
    int at = claim.offset();
    chunk.wrapForWrite(b, at)
        .header(publisherId, retained.version(), t, layout.tensorCount(), offset, layout.length(t), length, c);
    b.putBytes(chunk.tagOffset(), chunkTag, index * TAG_LENGTH, TAG_LENGTH);
    b.putBytes(chunk.payloadOffset(), views[t], (int) offset, length);
    claim.commit();
    chunksSent++;
    bytesSent += length;
    return true;
  }

  private boolean sendCommit() {
    int n = layout.tensorCount();
    putCommon(control, 0, TYPE_COMMIT, publisherId, retained.version());
    control.putInt(COMMIT_TENSOR_COUNT_OFFSET, n, LITTLE_ENDIAN);
    control.putInt(COMMIT_TOTAL_CHUNKS_OFFSET, layout.totalChunks(), LITTLE_ENDIAN);
    for (int t = 0; t < n; t++) {
      control.putInt(COMMIT_CRCS_OFFSET + t * Integer.BYTES, tensorCrc(t), LITTLE_ENDIAN);
    }
    int len = COMMIT_CRCS_OFFSET + n * Integer.BYTES;
    tagger.start(control, 0, len).finishInto(control, len);
    return offerControl(len + TAG_LENGTH);
  }

  /** CRC32C of tensor {@code t}, combined from its chunk CRCs (computing any not yet known). */
  private int tensorCrc(int t) {
    int value = 0; // CRC32C of the empty message
    int end = layout.firstChunk(t + 1);
    for (int i = layout.firstChunk(t); i < end; i++) {
      int length = layout.lengthOfChunk(i, t);
      if (!crcKnown.get(i)) {
        chunkCrc[i] = Crc32c.of(crc, views[t], (int) layout.offsetOfChunk(i, t), length);
        crcKnown.set(i);
      }
      value = length == chunkSize ? fullChunk.combine(value, chunkCrc[i]) : Crc32c.combine(value, chunkCrc[i], length);
    }
    return value;
  }

  private boolean claim(int length) {
    long deadline = 0;
    idle.reset();
    while (true) {
      long r = publication.tryClaim(length, claim);
      if (r > 0) {
        return true;
      }
      if (!retry(r)) {
        return false;
      }
      deadline = waitOrFail(deadline);
    }
  }

  private boolean offerControl(int length) {
    long deadline = 0;
    idle.reset();
    while (true) {
      long r = publication.offer(control, 0, length);
      if (r > 0) {
        return true;
      }
      if (!retry(r)) {
        return false;
      }
      deadline = waitOrFail(deadline);
    }
  }

  /** True: retry; false: not connected; throws on fatal results. */
  private boolean retry(long result) {
    if (result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION) {
      return true;
    }
    if (result == Publication.NOT_CONNECTED) {
      return false;
    }
    if (result == Publication.CLOSED) {
      throw new WeightTransportException("weight publication " + publication.channel() + " is closed", false);
    }
    if (result == Publication.MAX_POSITION_EXCEEDED) {
      throw new WeightTransportException("weight publication " + publication.channel()
          + " reached its maximum position; create a new publisher", false);
    }
    throw new WeightTransportException("unexpected offer result " + result, false);
  }

  private long waitOrFail(long deadline) {
    long now = System.nanoTime();
    if (deadline == 0) {
      deadline = now + backPressureTimeoutNs;
    } else if (now - deadline > 0) {
      throw new WeightTransportException("weight publication back-pressured for more than "
          + Duration.ofNanos(backPressureTimeoutNs) + " (a receiver is stuck)", true);
    }
    backPressured++;
    idle.idle();
    return deadline;
  }

  /** Counters since creation. */
  public synchronized Stats stats() {
    return new Stats(snapshotsSent, resends, chunksSent, bytesSent, backPressured);
  }

  /** Publisher counters. */
  public record Stats(long snapshots, long resends, long chunks, long bytes, long backPressuredRetries) {}

  @Override
  public synchronized void close() {
    publication.close();
    retained = null;
    views = null;
  }
}
