package io.r1cluster.actors.transport;

import static java.nio.ByteOrder.LITTLE_ENDIAN;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Binary layout of the weight stream: one Aeron publication carries three message types for a
 * snapshot version, in this order: a MANIFEST (so a receiver can allocate), CHUNKs (tensor bytes),
 * and a COMMIT trailer (per-tensor CRC32C). All integers are little-endian.
 *
 * <p>Every message starts with the common header; {@code magic} and {@code protocol version} are
 * checked before anything else is read.
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                  Magic 0x54573152 ("R1WT")                    |  0
 *  +-------------------------------+-------------------------------+
 *  |    Protocol version (u16)     |      Message type (u16)       |  4
 *  +-------------------------------+-------------------------------+
 *  |                      Publisher id (i64)                       |  8
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                   Snapshot version (i64)                      | 16
 *  |                                                               |
 *  +---------------------------------------------------------------+  24 = COMMON_LENGTH
 * </pre>
 * CHUNK (type 2): one piece of one tensor; always a single Aeron frame (never fragmented).
 * <pre>
 *  +---------------------------------------------------------------+
 *  |                      Tensor index (i32)                       | 24
 *  +---------------------------------------------------------------+
 *  |                      Tensor count (i32)                       | 28
 *  +---------------------------------------------------------------+
 *  |              Byte offset within the tensor (i64)              | 32
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                 Total tensor length (i64)                     | 40
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *  |                      Chunk length (i32)                       | 48
 *  +---------------------------------------------------------------+
 *  |                 CRC32C of the chunk payload (i32)             | 52
 *  +---------------------------------------------------------------+
 *  |     HMAC-SHA256 tag over bytes [0, 56) and the payload        | 56 = CHUNK_TAG_OFFSET
 *  |                         (32 bytes)                            |
 *  +---------------------------------------------------------------+
 *  |                  Payload (chunk length bytes)                ... 88 = CHUNK_HEADER_LENGTH
 *  +---------------------------------------------------------------+
 * </pre>
 * MANIFEST (type 1), may span several Aeron fragments:
 * <pre>
 *  | Tensor count (i32) 24 | Chunk size (i32) 28 | Total chunks (i32) 32 | reserved (i32) 36 |
 *  | Total bytes (i64) 40 |
 *  then per tensor, from 48: name length (i32), name (UTF-8), dtype ordinal (i32),
 *  rank (i32), rank × dimension (i64), byte length (i64)
 * </pre>
 * COMMIT (type 3), may span several Aeron fragments:
 * <pre>
 *  | Tensor count (i32) 24 | Total chunks (i32) 28 | tensor count × CRC32C of the whole tensor (i32) 32… |
 * </pre>
 * MANIFEST and COMMIT end with a 32-byte HMAC-SHA256 tag over all the bytes before it
 * ({@link #TAG_LENGTH}); the lengths above exclude it.
 *
 * <p><b>Authentication.</b> Tags are keyed with the run's {@link WeightKey}, which travels in the run
 * spec over Artery and never on this stream. A receiver drops any message whose tag does not verify
 * (counted as forged), so a host that can reach the Aeron port but does not hold the key can neither
 * announce a version (MANIFEST), nor place bytes (CHUNK), nor complete one (COMMIT). The CRC32C
 * fields stay: they tell corruption (ask for a resend) from forgery.
 * Chunk {@code k} of tensor {@code t} covers bytes {@code [k × chunkSize, min((k+1) × chunkSize, length))};
 * the CRC32C of a whole tensor is the CRC of its bytes in order (the receiver derives it from the
 * chunk CRCs with {@link Crc32c#combine}).
 */
public final class WeightWire {
  private WeightWire() {}

  public static final int MAGIC = 0x54573152; // "R1WT" read as little-endian bytes
  /** 2: HMAC-SHA256 tags on every message. */
  public static final short PROTOCOL_VERSION = 2;
  /** HMAC-SHA256 tag length in bytes. */
  public static final int TAG_LENGTH = 32;

  public static final short TYPE_MANIFEST = 1;
  public static final short TYPE_CHUNK = 2;
  public static final short TYPE_COMMIT = 3;

  // ---- common header ----
  public static final int MAGIC_OFFSET = 0;
  public static final int PROTOCOL_VERSION_OFFSET = MAGIC_OFFSET + Integer.BYTES;
  public static final int TYPE_OFFSET = PROTOCOL_VERSION_OFFSET + Short.BYTES;
  public static final int PUBLISHER_ID_OFFSET = TYPE_OFFSET + Short.BYTES;
  public static final int SNAPSHOT_VERSION_OFFSET = PUBLISHER_ID_OFFSET + Long.BYTES;
  public static final int COMMON_LENGTH = SNAPSHOT_VERSION_OFFSET + Long.BYTES;

  // ---- chunk ----
  public static final int TENSOR_INDEX_OFFSET = COMMON_LENGTH;
  public static final int TENSOR_COUNT_OFFSET = TENSOR_INDEX_OFFSET + Integer.BYTES;
  public static final int BYTE_OFFSET_OFFSET = TENSOR_COUNT_OFFSET + Integer.BYTES;
  public static final int TENSOR_LENGTH_OFFSET = BYTE_OFFSET_OFFSET + Long.BYTES;
  public static final int CHUNK_LENGTH_OFFSET = TENSOR_LENGTH_OFFSET + Long.BYTES;
  public static final int CHUNK_CRC_OFFSET = CHUNK_LENGTH_OFFSET + Integer.BYTES;
  public static final int CHUNK_TAG_OFFSET = CHUNK_CRC_OFFSET + Integer.BYTES;
  public static final int CHUNK_HEADER_LENGTH = CHUNK_TAG_OFFSET + TAG_LENGTH;

  // ---- manifest ----
  public static final int MANIFEST_TENSOR_COUNT_OFFSET = COMMON_LENGTH;
  public static final int MANIFEST_CHUNK_SIZE_OFFSET = MANIFEST_TENSOR_COUNT_OFFSET + Integer.BYTES;
  public static final int MANIFEST_TOTAL_CHUNKS_OFFSET = MANIFEST_CHUNK_SIZE_OFFSET + Integer.BYTES;
  public static final int MANIFEST_RESERVED_OFFSET = MANIFEST_TOTAL_CHUNKS_OFFSET + Integer.BYTES;
  public static final int MANIFEST_TOTAL_BYTES_OFFSET = MANIFEST_RESERVED_OFFSET + Integer.BYTES;
  public static final int MANIFEST_ENTRIES_OFFSET = MANIFEST_TOTAL_BYTES_OFFSET + Long.BYTES;

  // ---- commit ----
  public static final int COMMIT_TENSOR_COUNT_OFFSET = COMMON_LENGTH;
  public static final int COMMIT_TOTAL_CHUNKS_OFFSET = COMMIT_TENSOR_COUNT_OFFSET + Integer.BYTES;
  public static final int COMMIT_CRCS_OFFSET = COMMIT_TOTAL_CHUNKS_OFFSET + Integer.BYTES;

  /** Writes the common header at {@code offset}. */
  public static void putCommon(MutableDirectBuffer b, int offset, short type, long publisherId, long version) {
    b.putInt(offset + MAGIC_OFFSET, MAGIC, LITTLE_ENDIAN);
    b.putShort(offset + PROTOCOL_VERSION_OFFSET, PROTOCOL_VERSION, LITTLE_ENDIAN);
    b.putShort(offset + TYPE_OFFSET, type, LITTLE_ENDIAN);
    b.putLong(offset + PUBLISHER_ID_OFFSET, publisherId, LITTLE_ENDIAN);
    b.putLong(offset + SNAPSHOT_VERSION_OFFSET, version, LITTLE_ENDIAN);
  }

  /**
   * The message type when magic and protocol version match and the message holds at least the
   * common header; {@code -1} otherwise.
   */
  public static int checkedType(DirectBuffer b, int offset, int length) {
    if (length < COMMON_LENGTH
        || b.getInt(offset + MAGIC_OFFSET, LITTLE_ENDIAN) != MAGIC
        || b.getShort(offset + PROTOCOL_VERSION_OFFSET, LITTLE_ENDIAN) != PROTOCOL_VERSION) {
      return -1;
    }
    return b.getShort(offset + TYPE_OFFSET, LITTLE_ENDIAN);
  }

  public static long publisherId(DirectBuffer b, int offset) {
    return b.getLong(offset + PUBLISHER_ID_OFFSET, LITTLE_ENDIAN);
  }

  public static long snapshotVersion(DirectBuffer b, int offset) {
    return b.getLong(offset + SNAPSHOT_VERSION_OFFSET, LITTLE_ENDIAN);
  }

  /** Flyweight over a CHUNK message: wrap, then read or write fields in place (no allocation). */
  public static final class ChunkFlyweight {
    private MutableDirectBuffer buffer;
    private DirectBuffer readBuffer;
    private int offset;

    /** Wraps a buffer for writing. */
    public ChunkFlyweight wrapForWrite(MutableDirectBuffer buffer, int offset) {
      this.buffer = buffer;
      this.readBuffer = buffer;
      this.offset = offset;
      return this;
    }

    /** Wraps a buffer for reading. */
    public ChunkFlyweight wrapForRead(DirectBuffer buffer, int offset) {
      this.buffer = null;
      this.readBuffer = buffer;
      this.offset = offset;
      return this;
    }

    public ChunkFlyweight header(long publisherId, long version, int tensorIndex, int tensorCount,
        long byteOffset, long tensorLength, int chunkLength, int crc) {
      putCommon(buffer, offset, TYPE_CHUNK, publisherId, version);
      buffer.putInt(offset + TENSOR_INDEX_OFFSET, tensorIndex, LITTLE_ENDIAN);
      buffer.putInt(offset + TENSOR_COUNT_OFFSET, tensorCount, LITTLE_ENDIAN);
      buffer.putLong(offset + BYTE_OFFSET_OFFSET, byteOffset, LITTLE_ENDIAN);
      buffer.putLong(offset + TENSOR_LENGTH_OFFSET, tensorLength, LITTLE_ENDIAN);
      buffer.putInt(offset + CHUNK_LENGTH_OFFSET, chunkLength, LITTLE_ENDIAN);
      buffer.putInt(offset + CHUNK_CRC_OFFSET, crc, LITTLE_ENDIAN);
      return this;
    }

    public int tensorIndex() {
      return readBuffer.getInt(offset + TENSOR_INDEX_OFFSET, LITTLE_ENDIAN);
    }

    public int tensorCount() {
      return readBuffer.getInt(offset + TENSOR_COUNT_OFFSET, LITTLE_ENDIAN);
    }

    public long byteOffset() {
      return readBuffer.getLong(offset + BYTE_OFFSET_OFFSET, LITTLE_ENDIAN);
    }

    public long tensorLength() {
      return readBuffer.getLong(offset + TENSOR_LENGTH_OFFSET, LITTLE_ENDIAN);
    }

    public int chunkLength() {
      return readBuffer.getInt(offset + CHUNK_LENGTH_OFFSET, LITTLE_ENDIAN);
    }

    public int crc() {
      return readBuffer.getInt(offset + CHUNK_CRC_OFFSET, LITTLE_ENDIAN);
    }

    /** Absolute index of the tag in the wrapped buffer. */
    public int tagOffset() {
      return offset + CHUNK_TAG_OFFSET;
    }

    /** Absolute index of the first payload byte in the wrapped buffer. */
    public int payloadOffset() {
      return offset + CHUNK_HEADER_LENGTH;
    }
  }
}
