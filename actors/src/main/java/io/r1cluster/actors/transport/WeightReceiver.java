package io.r1cluster.actors.transport;

import static io.r1cluster.actors.transport.WeightWire.*;
import static java.nio.ByteOrder.LITTLE_ENDIAN;

import io.aeron.Aeron;
import io.aeron.FragmentAssembler;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.Header;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.WeightSnapshot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.zip.CRC32C;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;

/**
 * Receives the weight stream of one expected publisher and exposes the latest <em>complete,
 * verified</em> snapshot; an Agrona {@link Agent} (run it with {@link #start()} on its own thread).
 *
 * <p>Per version: the MANIFEST allocates (or reuses) one direct buffer per tensor; each CHUNK is
 * copied into place and its CRC32C checked over the copied bytes — a mismatch rejects the chunk
 * (counted; the range stays missing); the COMMIT trailer's per-tensor CRCs are compared with the
 * CRCs combined from the chunks. Only then is the version swapped in atomically. Until the swap,
 * {@link #acquireLatest()} keeps returning the previous version: nobody ever sees a half-written
 * snapshot, and buffers pinned by a {@link SnapshotLease} are never written to.
 *
 * <p>Messages are accepted only from the expected publisher id, only with a valid HMAC-SHA256 tag
 * under the run's {@link WeightKey} (anything else is counted as forged and dropped before it
 * changes any state), and, within a version, from the Aeron session that sent its manifest. A
 * complete version is swapped in only once the owner of the weights has announced it over Artery
 * ({@link #announced(long)}); until then it is held, verified, and {@link #acquireLatest()} keeps
 * serving the previous one. So even a holder of the key cannot push the receiver past versions the
 * learner has actually published. Missing parts of a version (lost, corrupted, or a late join)
 * are listed by {@link #missingRanges(long)}; send {@link #resendRequest(long)} to the publisher's
 * node, which calls {@link WeightPublisher#resend}.
 *
 * <p>Threads: the agent thread assembles; every public method is safe from any thread.
 */
public final class WeightReceiver implements Agent, AutoCloseable {
  private static final int FRAGMENT_LIMIT = 64;
  /** More missing ranges than this and a receiver simply asks for everything. */
  static final int MAX_RANGES = 1024;

  private final Subscription subscription;
  private final FragmentAssembler assembler;
  private final ChunkFlyweight chunk = new ChunkFlyweight();
  private final CRC32C crc = new CRC32C();
  private final WeightKey.Tagger tagger;
  private final ConcurrentLinkedQueue<SnapshotLease.BufferSet> freeList = new ConcurrentLinkedQueue<>();
  private final AtomicReference<Complete> latest = new AtomicReference<>();
  private final Object lock = new Object();
  private volatile long expectedPublisher;
  private volatile LongConsumer listener = v -> {};
  /** Notified on the agent thread each time a version becomes the latest ({@link #awaitNewerThan}). */
  private final Object completedMonitor = new Object();
  /** Highest version the owner of the weights announced; newer complete versions wait. */
  private long announcedVersion = -1;
  private AgentRunner runner;
  /** Buffer sets allocated so far (agent thread); see {@link #bufferSetsAllocated()}. */
  private volatile long setsAllocated;
  private Crc32c.Combiner fullChunk;

  /** The version being assembled (agent thread, under {@link #lock}). */
  private Assembly assembly;

  // counters (under lock)
  private long chunks;
  private long bytes;
  private long crcRejected;
  private long duplicates;
  private long malformed;
  private long foreign;
  private long orphans;
  private long tensorCrcFailures;
  private long completed;
  private long forged;

  private record Complete(WeightSnapshot snapshot, SnapshotLease.BufferSet buffers) {}

  private static final class Assembly {
    final long version;
    final int sessionId;
    final SnapshotLayout layout;
    final SnapshotLease.BufferSet buffers;
    final ByteBuffer[] views; // for CRC over the copied bytes (position/limit are ours)
    final BitSet received;
    final int[] chunkCrc;
    int receivedCount;
    int[] tensorCrc; // from COMMIT; null until it arrives
    boolean verified; // whole and checked, waiting for its announcement

    Assembly(long version, int sessionId, SnapshotLayout layout, SnapshotLease.BufferSet buffers) {
      this.version = version;
      this.sessionId = sessionId;
      this.layout = layout;
      this.buffers = buffers;
      this.views = buffers.views().toArray(new ByteBuffer[0]);
      this.received = new BitSet(layout.totalChunks());
      this.chunkCrc = new int[layout.totalChunks()];
    }
  }

  private WeightReceiver(Subscription subscription, long expectedPublisher, WeightKey key) {
    this.subscription = subscription;
    this.tagger = key.tagger();
    this.expectedPublisher = expectedPublisher;
    FragmentHandler handler = this::onFragment;
    this.assembler = new FragmentAssembler(handler);
  }

  /**
   * Subscribes to {@code channel} ({@link WeightChannels#ipc} or
   * {@link WeightChannels#udpSubscription}) on the configured stream, accepting only
   * {@code expectedPublisherId} (see {@link WeightPublisher#publisherId()}) with tags under {@code key}.
   * Call {@link #start()}, and {@link #announced(long)} as the owner announces versions.
   */
  public static WeightReceiver create(Aeron aeron, String channel, AeronSettings settings, long expectedPublisherId,
      WeightKey key) {
    return new WeightReceiver(aeron.addSubscription(channel, settings.streamId()), expectedPublisherId, key);
  }

  /**
   * The owner of the weights says versions up to {@code version} are published (a message over
   * Artery). A complete version waiting for this is swapped in now; later ones as they complete.
   */
  public void announced(long version) {
    synchronized (lock) {
      if (version <= announcedVersion) {
        return;
      }
      announcedVersion = version;
      Assembly a = assembly;
      if (a != null && a.verified && a.version <= version) {
        swap(a);
      }
    }
  }

  /** Runs the agent on its own thread with a backing-off idle strategy. */
  public synchronized WeightReceiver start() {
    if (runner == null) {
      runner = new AgentRunner(EmbeddedAeron.idle(), Throwable::printStackTrace, null, this);
      AgentRunner.startOnThread(runner);
    }
    return this;
  }

  /** Highest version the owner of the weights has announced as published, {@code -1} when none. */
  public long announcedVersion() {
    synchronized (lock) {
      return announcedVersion;
    }
  }

  /** Switches to another publisher (e.g. the learner restarted); its versions start fresh. */
  public void expectPublisher(long publisherId) {
    synchronized (lock) {
      expectedPublisher = publisherId;
      abandonAssembly();
    }
  }

  /** Called on the agent thread with the version that just became the latest (keep it short). */
  public void onComplete(LongConsumer listener) {
    this.listener = listener;
  }

  /** The subscription's local data endpoint {@code host:port} (UDP), or empty (IPC / not yet bound). */
  public String localAddress() {
    List<String> a = subscription.localSocketAddresses();
    return a.isEmpty() ? "" : a.get(0);
  }

  /** Whether a publication is connected to the subscription. */
  public boolean isConnected() {
    return subscription.isConnected();
  }

  /**
   * Waits up to {@code millis} for a complete version newer than {@code than} (woken when one
   * completes, no polling); returns whether there is one.
   */
  public boolean awaitNewerThan(long than, long millis) throws InterruptedException {
    synchronized (completedMonitor) {
      if (latestVersion() <= than) {
        completedMonitor.wait(Math.max(1, millis));
      }
    }
    return latestVersion() > than;
  }

  /** Version of the latest complete snapshot, {@code -1} when none yet. */
  public long latestVersion() {
    Complete c = latest.get();
    return c == null ? -1 : c.snapshot().version();
  }

  /**
   * Snapshot buffer sets this receiver has allocated. In a steady run it stops growing after two or
   * three (the latest, the one being assembled, a spare); one more per version means leases are
   * held and never closed.
   */
  public long bufferSetsAllocated() {
    return setsAllocated;
  }

  /** Pins and returns the latest complete snapshot; empty when none yet. Close the lease after use. */
  public Optional<SnapshotLease> acquireLatest() {
    while (true) {
      Complete c = latest.get();
      if (c == null) {
        return Optional.empty();
      }
      if (c.buffers().tryRetain()) {
        if (latest.get() == c) { // still the latest after pinning: its buffers were not recycled
          return Optional.of(new SnapshotLease(c.snapshot(), c.buffers()));
        }
        c.buffers().release(); // superseded (its set may already serve a new assembly): undo, retry
      }
    }
  }

  /**
   * What is missing of {@code version}: empty when it (or something newer) is complete here;
   * {@code [ChunkRange.ALL]} when its manifest was never seen (late join) or too much is missing;
   * otherwise the missing chunk ranges (index {@code totalChunks} = the COMMIT trailer).
   */
  public List<ChunkRange> missingRanges(long version) {
    synchronized (lock) {
      if (version <= latestVersion()) {
        return List.of();
      }
      Assembly a = assembly;
      if (a == null || a.version != version) {
        return List.of(ChunkRange.ALL);
      }
      if (a.verified) {
        return List.of(); // whole; waiting for its announcement
      }
      List<ChunkRange> out = new ArrayList<>();
      int total = a.layout.totalChunks();
      int i = a.received.nextClearBit(0);
      while (i < total) {
        int end = Math.min(a.received.nextSetBit(i) < 0 ? total : a.received.nextSetBit(i), total);
        out.add(new ChunkRange(i, end - i));
        i = a.received.nextClearBit(end);
      }
      if (a.tensorCrc == null) {
        if (!out.isEmpty() && out.get(out.size() - 1).end() == total) {
          ChunkRange last = out.remove(out.size() - 1);
          out.add(new ChunkRange(last.first(), last.count() + 1));
        } else {
          out.add(new ChunkRange(total, 1));
        }
      }
      return out.size() > MAX_RANGES ? List.of(ChunkRange.ALL) : out;
    }
  }

  /** A request for what is missing of {@code version}, or {@code null} when nothing is. */
  public ResendRequest resendRequest(long version) {
    List<ChunkRange> missing = missingRanges(version);
    return missing.isEmpty() ? null : new ResendRequest(expectedPublisher, version, missing);
  }

  /** Version being assembled, {@code -1} when none. */
  public long assemblingVersion() {
    synchronized (lock) {
      return assembly == null ? -1 : assembly.version;
    }
  }

  @Override
  public int doWork() {
    synchronized (lock) {
      return subscription.poll(assembler, FRAGMENT_LIMIT);
    }
  }

  @Override
  public String roleName() {
    return "r1-weight-receiver";
  }

  private void onFragment(DirectBuffer buffer, int offset, int length, Header header) {
    int type = checkedType(buffer, offset, length);
    if (type < 0) {
      malformed++;
      return;
    }
    if (publisherId(buffer, offset) != expectedPublisher) {
      foreign++;
      return;
    }
    long version = snapshotVersion(buffer, offset);
    if (type == TYPE_MANIFEST || type == TYPE_COMMIT) {
      // control messages end with their tag: check it before reading anything else
      int body = length - TAG_LENGTH;
      if (body < COMMON_LENGTH) {
        malformed++;
        return;
      }
      if (!tagger.start(buffer, offset, body).finishAndVerify(buffer, offset + body)) {
        forged++;
        return;
      }
      length = body;
    }
    switch (type) {
      case TYPE_CHUNK -> onChunk(buffer, offset, length, header.sessionId(), version);
      case TYPE_MANIFEST -> onManifest(buffer, offset, length, header.sessionId(), version);
      case TYPE_COMMIT -> onCommit(buffer, offset, length, header.sessionId(), version);
      default -> malformed++;
    }
  }

  private void onManifest(DirectBuffer buffer, int offset, int length, int sessionId, long version) {
    Assembly a = assembly;
    if (version <= latestVersion() || (a != null && a.version >= version)) {
      duplicates++; // already have it, or an older one than the one being assembled
      return;
    }
    SnapshotLayout layout;
    try {
      layout = SnapshotLayout.decodeManifest(buffer, offset, length);
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      malformed++;
      return;
    }
    abandonAssembly();
    SnapshotLease.BufferSet set = freeList.poll();
    if (set != null && set.fits(layout)) {
      set.reuse();
    } else {
      set = new SnapshotLease.BufferSet(layout, freeList);
      setsAllocated++;
    }
    if (fullChunk == null || fullChunk.length() != layout.chunkSize()) {
      fullChunk = new Crc32c.Combiner(layout.chunkSize());
    }
    assembly = new Assembly(version, sessionId, layout, set);
    completeIfWhole(assembly); // an empty snapshot needs only its commit
  }

  private void onChunk(DirectBuffer buffer, int offset, int length, int sessionId, long version) {
    Assembly a = assembly;
    if (a != null && a.version == version && a.sessionId != sessionId) {
      foreign++;
      return;
    }
    if (a == null || a.version != version) {
      if (version <= latestVersion()) {
        duplicates++;
      } else {
        orphans++; // no manifest seen for it: the caller will ask for ALL
      }
      return;
    }
    if (length < CHUNK_HEADER_LENGTH) {
      malformed++;
      return;
    }
    chunk.wrapForRead(buffer, offset);
    SnapshotLayout layout = a.layout;
    int t = chunk.tensorIndex();
    long byteOffset = chunk.byteOffset();
    int chunkLength = chunk.chunkLength();
    if (t < 0 || t >= layout.tensorCount() || chunk.tensorCount() != layout.tensorCount()
        || chunk.tensorLength() != layout.length(t) || byteOffset < 0 || byteOffset >= layout.length(t)
        || byteOffset % layout.chunkSize() != 0 || length != CHUNK_HEADER_LENGTH + chunkLength) {
      malformed++;
      return;
    }
    int index = layout.firstChunk(t) + (int) (byteOffset / layout.chunkSize());
    if (chunkLength != layout.lengthOfChunk(index, t)) {
      malformed++;
      return;
    }
    if (a.received.get(index)) {
      duplicates++;
      return;
    }
    // the bytes land in a buffer nobody reads until the version is whole; a chunk that fails either
    // check stays missing and a later (legitimate) copy overwrites it
    buffer.getBytes(chunk.payloadOffset(), a.buffers.buffers[t], (int) byteOffset, chunkLength);
    int c = Crc32c.of(crc, a.views[t], (int) byteOffset, chunkLength);
    if (c != chunk.crc()) {
      crcRejected++;
      return;
    }
    if (!tagger.start(buffer, offset, CHUNK_TAG_OFFSET).update(a.views[t], (int) byteOffset, chunkLength)
        .finishAndVerify(buffer, chunk.tagOffset())) {
      forged++;
      return;
    }
    a.received.set(index);
    a.chunkCrc[index] = c;
    a.receivedCount++;
    chunks++;
    bytes += chunkLength;
    if (a.receivedCount == layout.totalChunks()) {
      completeIfWhole(a);
    }
  }

  private void onCommit(DirectBuffer buffer, int offset, int length, int sessionId, long version) {
    Assembly a = assembly;
    if (a != null && a.version == version && a.sessionId != sessionId) {
      foreign++;
      return;
    }
    if (a == null || a.version != version) {
      if (version <= latestVersion()) {
        duplicates++;
      } else {
        orphans++;
      }
      return;
    }
    int n = a.layout.tensorCount();
    if (length != COMMIT_CRCS_OFFSET + n * Integer.BYTES
        || buffer.getInt(offset + COMMIT_TENSOR_COUNT_OFFSET, LITTLE_ENDIAN) != n
        || buffer.getInt(offset + COMMIT_TOTAL_CHUNKS_OFFSET, LITTLE_ENDIAN) != a.layout.totalChunks()) {
      malformed++;
      return;
    }
    if (a.tensorCrc != null) {
      duplicates++;
      return;
    }
    int[] crcs = new int[n];
    for (int t = 0; t < n; t++) {
      crcs[t] = buffer.getInt(offset + COMMIT_CRCS_OFFSET + t * Integer.BYTES, LITTLE_ENDIAN);
    }
    a.tensorCrc = crcs;
    completeIfWhole(a);
  }

  /** Verifies per-tensor CRCs and swaps the version in when every chunk and the commit are here. */
  private void completeIfWhole(Assembly a) {
    SnapshotLayout layout = a.layout;
    if (a.tensorCrc == null || a.receivedCount != layout.totalChunks()) {
      return;
    }
    boolean ok = true;
    for (int t = 0; t < layout.tensorCount(); t++) {
      int value = 0;
      int end = layout.firstChunk(t + 1);
      for (int i = layout.firstChunk(t); i < end; i++) {
        int len = layout.lengthOfChunk(i, t);
        value = len == layout.chunkSize() ? fullChunk.combine(value, a.chunkCrc[i]) : Crc32c.combine(value, a.chunkCrc[i], len);
      }
      if (value != a.tensorCrc[t]) {
        // every chunk passed its own check, so the tensor as a whole (or the trailer) is wrong:
        // drop both and let the caller ask for them again
        tensorCrcFailures++;
        ok = false;
        int first = layout.firstChunk(t);
        a.received.clear(first, end);
        a.receivedCount -= end - first;
      }
    }
    if (!ok) {
      a.tensorCrc = null;
      return;
    }
    a.verified = true;
    if (a.version <= announcedVersion) {
      swap(a);
    }
  }

  /** Makes the verified assembly {@code a} the latest snapshot. */
  private void swap(Assembly a) {
    SnapshotLayout layout = a.layout;
    List<ByteBuffer> views = a.buffers.views();
    List<TensorData> tensors = new ArrayList<>(layout.tensorCount());
    for (int t = 0; t < layout.tensorCount(); t++) {
      tensors.add(new TensorData(layout.name(t), layout.dtype(t), layout.shape(t), views.get(t)));
    }
    Complete previous = latest.getAndSet(new Complete(new WeightSnapshot(a.version, tensors), a.buffers));
    assembly = null;
    completed++;
    if (previous != null) {
      previous.buffers().release();
    }
    listener.accept(a.version);
    synchronized (completedMonitor) {
      completedMonitor.notifyAll();
    }
  }

  private void abandonAssembly() {
    if (assembly != null) {
      assembly.buffers.release();
      assembly = null;
    }
  }

  /** Counters since creation. */
  public Stats stats() {
    synchronized (lock) {
      return new Stats(latestVersion(), completed, chunks, bytes, crcRejected, duplicates, malformed, foreign,
          orphans, tensorCrcFailures, forged, announcedVersion);
    }
  }

  /**
   * Receiver counters.
   *
   * @param latestVersion latest complete version, -1 when none
   * @param completed versions completed
   * @param chunks chunks accepted
   * @param bytes payload bytes accepted
   * @param crcRejected chunks whose CRC32C did not match (rejected, left missing)
   * @param duplicates chunks/manifests/commits already held or for versions already complete
   * @param malformed messages with a bad magic/version/type or inconsistent fields
   * @param foreign messages from another publisher id or session
   * @param orphans chunks/commits of a version whose manifest was never seen
   * @param tensorCrcFailures tensors whose combined CRC disagreed with the commit trailer
   * @param forged messages whose HMAC tag did not verify under the run's key (dropped)
   * @param announcedVersion highest version the owner announced ({@link #announced(long)}), -1 when none
   */
  public record Stats(long latestVersion, long completed, long chunks, long bytes, long crcRejected,
      long duplicates, long malformed, long foreign, long orphans, long tensorCrcFailures, long forged,
      long announcedVersion) {}

  @Override
  public void onClose() {
    subscription.close();
  }

  /** Stops the agent (or, if never started, closes the subscription) and releases the buffers. */
  @Override
  public synchronized void close() {
    if (runner != null) {
      runner.close();
    } else {
      subscription.close();
    }
    synchronized (lock) {
      abandonAssembly();
      Complete c = latest.getAndSet(null);
      if (c != null) {
        c.buffers().release();
      }
      freeList.clear();
    }
  }
}
