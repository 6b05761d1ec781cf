package io.r1cluster.actors.transport;

import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static io.r1cluster.actors.transport.WeightWire.*;

import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.WeightSnapshot;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

/**
 * What a MANIFEST says about one snapshot version — tensor names, dtypes, shapes, byte lengths —
 * and the chunk numbering derived from it: tensor {@code t} owns global chunk indexes
 * {@code [chunkBase[t], chunkBase[t+1])}, one per {@code chunkSize} bytes (an empty tensor owns
 * none); index {@link #totalChunks()} is the COMMIT trailer.
 */
public final class SnapshotLayout {
  private final String[] names;
  private final DType[] dtypes;
  private final long[][] shapes;
  private final long[] lengths;
  private final int chunkSize;
  private final int[] chunkBase;
  private final long totalBytes;

  SnapshotLayout(String[] names, DType[] dtypes, long[][] shapes, long[] lengths, int chunkSize) {
    if (chunkSize <= 0) {
      throw new IllegalArgumentException("chunk size " + chunkSize);
    }
    this.names = names;
    this.dtypes = dtypes;
    this.shapes = shapes;
    this.lengths = lengths;
    this.chunkSize = chunkSize;
    this.chunkBase = new int[names.length + 1];
    long bytes = 0;
    long chunks = 0;
    for (int t = 0; t < names.length; t++) {
      chunkBase[t] = Math.toIntExact(chunks);
      chunks += (lengths[t] + chunkSize - 1) / chunkSize;
      bytes += lengths[t];
    }
    chunkBase[names.length] = Math.toIntExact(chunks);
    this.totalBytes = bytes;
  }

  /** The layout of a snapshot cut into chunks of {@code chunkSize} bytes. */
  public static SnapshotLayout of(WeightSnapshot s, int chunkSize) {
    List<TensorData> ts = s.tensors();
    int n = ts.size();
    String[] names = new String[n];
    DType[] dtypes = new DType[n];
    long[][] shapes = new long[n][];
    long[] lengths = new long[n];
    for (int i = 0; i < n; i++) {
      TensorData t = ts.get(i);
      names[i] = t.name();
      dtypes[i] = t.dtype();
      shapes[i] = t.shape();
      lengths[i] = t.byteSize();
    }
    return new SnapshotLayout(names, dtypes, shapes, lengths, chunkSize);
  }

  public int tensorCount() {
    return names.length;
  }

  public String name(int t) {
    return names[t];
  }

  public DType dtype(int t) {
    return dtypes[t];
  }

  public long[] shape(int t) {
    return shapes[t].clone();
  }

  public long length(int t) {
    return lengths[t];
  }

  public int chunkSize() {
    return chunkSize;
  }

  public int totalChunks() {
    return chunkBase[names.length];
  }

  public long totalBytes() {
    return totalBytes;
  }

  public int firstChunk(int t) {
    return chunkBase[t];
  }

  /** The tensor that owns global chunk {@code index} ({@code 0 <= index < totalChunks}). */
  public int tensorOfChunk(int index) {
    int i = Arrays.binarySearch(chunkBase, index);
    if (i >= 0) {
      while (i + 1 < chunkBase.length && chunkBase[i + 1] == index) {
        i++; // skip empty tensors that share the base
      }
      return i;
    }
    return -i - 2;
  }

  /** Byte offset within its tensor of chunk {@code index}. */
  public long offsetOfChunk(int index, int tensor) {
    return (long) (index - chunkBase[tensor]) * chunkSize;
  }

  /** Length in bytes of chunk {@code index}. */
  public int lengthOfChunk(int index, int tensor) {
    return (int) Math.min(chunkSize, lengths[tensor] - offsetOfChunk(index, tensor));
  }

  /** Whether two layouts describe buffers of the same sizes (so assembly buffers can be reused). */
  public boolean sameSizes(SnapshotLayout o) {
    return Arrays.equals(lengths, o.lengths);
  }

  /** Encodes a MANIFEST message; returns its length. */
  public int encodeManifest(ExpandableArrayBuffer b, long publisherId, long version) {
    putCommon(b, 0, TYPE_MANIFEST, publisherId, version);
    b.putInt(MANIFEST_TENSOR_COUNT_OFFSET, names.length, LITTLE_ENDIAN);
    b.putInt(MANIFEST_CHUNK_SIZE_OFFSET, chunkSize, LITTLE_ENDIAN);
    b.putInt(MANIFEST_TOTAL_CHUNKS_OFFSET, totalChunks(), LITTLE_ENDIAN);
    b.putInt(MANIFEST_RESERVED_OFFSET, 0, LITTLE_ENDIAN);
    b.putLong(MANIFEST_TOTAL_BYTES_OFFSET, totalBytes, LITTLE_ENDIAN);
    int p = MANIFEST_ENTRIES_OFFSET;
    for (int t = 0; t < names.length; t++) {
      byte[] name = names[t].getBytes(StandardCharsets.UTF_8);
      b.putInt(p, name.length, LITTLE_ENDIAN);
      p += Integer.BYTES;
      b.putBytes(p, name);
      p += name.length;
      b.putInt(p, dtypes[t].ordinal(), LITTLE_ENDIAN);
      p += Integer.BYTES;
      b.putInt(p, shapes[t].length, LITTLE_ENDIAN);
      p += Integer.BYTES;
      for (long d : shapes[t]) {
        b.putLong(p, d, LITTLE_ENDIAN);
        p += Long.BYTES;
      }
      b.putLong(p, lengths[t], LITTLE_ENDIAN);
      p += Long.BYTES;
    }
    return p;
  }

  /**
   * Decodes a MANIFEST (common header already checked) and validates it: sizes must agree with
   * dtype × shape, and the chunk count with the chunk size.
   *
   * @throws IllegalArgumentException when the manifest is malformed
   */
  public static SnapshotLayout decodeManifest(DirectBuffer b, int offset, int length) {
    int end = offset + length;
    if (length < MANIFEST_ENTRIES_OFFSET) {
      throw new IllegalArgumentException("manifest shorter than its header: " + length);
    }
    int n = b.getInt(offset + MANIFEST_TENSOR_COUNT_OFFSET, LITTLE_ENDIAN);
    int chunkSize = b.getInt(offset + MANIFEST_CHUNK_SIZE_OFFSET, LITTLE_ENDIAN);
    int totalChunks = b.getInt(offset + MANIFEST_TOTAL_CHUNKS_OFFSET, LITTLE_ENDIAN);
    long totalBytes = b.getLong(offset + MANIFEST_TOTAL_BYTES_OFFSET, LITTLE_ENDIAN);
    if (n < 0 || n > length || chunkSize <= 0) {
      throw new IllegalArgumentException("manifest: tensor count " + n + ", chunk size " + chunkSize);
    }
    String[] names = new String[n];
    DType[] dtypes = new DType[n];
    long[][] shapes = new long[n][];
    long[] lengths = new long[n];
    int p = offset + MANIFEST_ENTRIES_OFFSET;
    DType[] all = DType.values();
    for (int t = 0; t < n; t++) {
      int nameLength = need(b, p, end, Integer.BYTES).getInt(p, LITTLE_ENDIAN);
      p += Integer.BYTES;
      if (nameLength < 0 || nameLength > end - p) {
        throw new IllegalArgumentException("manifest: tensor " + t + " name length " + nameLength);
      }
      names[t] = b.getStringWithoutLengthUtf8(p, nameLength);
      p += nameLength;
      int dtype = need(b, p, end, 2 * Integer.BYTES).getInt(p, LITTLE_ENDIAN);
      int rank = b.getInt(p + Integer.BYTES, LITTLE_ENDIAN);
      p += 2 * Integer.BYTES;
      if (dtype < 0 || dtype >= all.length || rank < 0 || rank > 16) {
        throw new IllegalArgumentException("manifest: tensor " + names[t] + " dtype " + dtype + " rank " + rank);
      }
      dtypes[t] = all[dtype];
      shapes[t] = new long[rank];
      need(b, p, end, (rank + 1) * Long.BYTES);
      for (int d = 0; d < rank; d++) {
        shapes[t][d] = b.getLong(p, LITTLE_ENDIAN);
        p += Long.BYTES;
      }
      lengths[t] = b.getLong(p, LITTLE_ENDIAN);
      p += Long.BYTES;
      if (lengths[t] != TensorData.numel(shapes[t]) * dtypes[t].bytes()) {
        throw new IllegalArgumentException("manifest: tensor " + names[t] + " length " + lengths[t]
            + " does not match " + dtypes[t] + Arrays.toString(shapes[t]));
      }
    }
    SnapshotLayout layout = new SnapshotLayout(names, dtypes, shapes, lengths, chunkSize);
    if (layout.totalChunks() != totalChunks || layout.totalBytes() != totalBytes) {
      throw new IllegalArgumentException("manifest: " + totalChunks + " chunks / " + totalBytes
          + " bytes announced, " + layout.totalChunks() + " / " + layout.totalBytes() + " described");
    }
    return layout;
  }

  private static DirectBuffer need(DirectBuffer b, int p, int end, int bytes) {
    if (end - p < bytes) {
      throw new IllegalArgumentException("manifest truncated at byte " + p);
    }
    return b;
  }
}
