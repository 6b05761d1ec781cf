package io.r1cluster.actors.transport;

import io.r1cluster.core.data.WeightSnapshot;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A complete snapshot held by a {@link WeightReceiver}, pinned while this lease is open: the
 * receiver never writes into buffers that a lease still pins. Close it once the weights have been
 * copied into the model (or generation with them has finished).
 */
public final class SnapshotLease implements AutoCloseable {
  private final WeightSnapshot snapshot;
  private final BufferSet buffers;
  private boolean closed;

  SnapshotLease(WeightSnapshot snapshot, BufferSet buffers) {
    this.snapshot = snapshot;
    this.buffers = buffers;
  }

  /** The complete, CRC-verified snapshot (read-only tensor views over the receiver's buffers). */
  public WeightSnapshot snapshot() {
    return snapshot;
  }

  public long version() {
    return snapshot.version();
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      buffers.release();
    }
  }

  /**
   * One direct little-endian buffer per tensor, reference-counted. The assembling receiver holds one
   * reference; a completed snapshot keeps it while it is the latest; leases add theirs. At zero the
   * set goes back to the receiver's free list for the next version of the same sizes.
   */
  static final class BufferSet {
    final ByteBuffer[] buffers;
    final long[] lengths;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final ConcurrentLinkedQueue<BufferSet> freeList;

    BufferSet(SnapshotLayout layout, ConcurrentLinkedQueue<BufferSet> freeList) {
      int n = layout.tensorCount();
      this.buffers = new ByteBuffer[n];
      this.lengths = new long[n];
      for (int t = 0; t < n; t++) {
        lengths[t] = layout.length(t);
        buffers[t] = ByteBuffer.allocateDirect(Math.toIntExact(lengths[t])).order(ByteOrder.LITTLE_ENDIAN);
      }
      this.freeList = freeList;
    }

    boolean fits(SnapshotLayout layout) {
      if (layout.tensorCount() != lengths.length) {
        return false;
      }
      for (int t = 0; t < lengths.length; t++) {
        if (layout.length(t) != lengths[t]) {
          return false;
        }
      }
      return true;
    }

    /** Revives a recycled set for a new assembly. */
    void reuse() {
      refs.set(1);
    }

    boolean tryRetain() {
      while (true) {
        int r = refs.get();
        if (r <= 0) {
          return false;
        }
        if (refs.compareAndSet(r, r + 1)) {
          return true;
        }
      }
    }

    void release() {
      int r = refs.decrementAndGet();
      if (r == 0) {
        if (freeList.isEmpty()) { // keep at most about one spare set
          freeList.offer(this);
        }
      } else if (r < 0) {
        throw new IllegalStateException("buffer set released too often");
      }
    }

    List<ByteBuffer> views() {
      List<ByteBuffer> out = new ArrayList<>(buffers.length);
      for (ByteBuffer b : buffers) {
        out.add(b.duplicate().order(ByteOrder.LITTLE_ENDIAN).clear());
      }
      return out;
    }
  }
}
