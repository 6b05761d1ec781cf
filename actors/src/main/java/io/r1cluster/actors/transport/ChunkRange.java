package io.r1cluster.actors.transport;

import io.r1cluster.actors.serialization.KryoMessage;

/**
 * A run of chunk indexes of one snapshot version, {@code [first, first + count)}.
 *
 * <p>Chunks are numbered over the whole snapshot, tensor after tensor (see {@link SnapshotLayout});
 * index {@code totalChunks} stands for the commit trailer. {@link #ALL} asks for everything,
 * manifest included (a receiver that never saw the manifest).
 */
public record ChunkRange(int first, int count) implements KryoMessage {

  /** Everything: manifest, all chunks and the commit trailer. */
  public static final ChunkRange ALL = new ChunkRange(0, Integer.MAX_VALUE);

  public ChunkRange {
    if (first < 0 || count <= 0) {
      throw new IllegalArgumentException("bad chunk range [" + first + ", +" + count + ")");
    }
  }

  public boolean isAll() {
    return first == 0 && count == Integer.MAX_VALUE;
  }

  /** One past the last index (saturating). */
  public long end() {
    return (long) first + count;
  }
}
