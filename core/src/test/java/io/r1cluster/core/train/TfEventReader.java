package io.r1cluster.core.train;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test-side TensorBoard event file reader written independently of {@link TensorBoardEvents}: a
 * bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the TFRecord framing, and a
 * protocol-buffer decoder for the Event fields TensorBoard reads. Every record's two CRCs are
 * checked; a mismatch is an {@link IllegalStateException} naming the record.
 */
public final class TfEventReader {
  /** One decoded Event. */
  public record Event(double wallTime, long step, String fileVersion, Map<String, Float> scalars, Integer sessionStatus) {}

  private TfEventReader() {}

  /** CRC-32C of {@code b[off, off+len)}, bit by bit. */
  public static int crc32c(byte[] b, int off, int len) {
    int crc = 0xFFFFFFFF;
    for (int i = off; i < off + len; i++) {
      crc ^= b[i] & 0xFF;
      for (int k = 0; k < 8; k++) {
        crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
      }
    }
    return ~crc;
  }

  static int mask(int crc) {
    return Integer.rotateRight(crc, 15) + 0xa282ead8;
  }

  /** All events of a file, in order. */
  public static List<Event> read(Path file) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
    List<Event> out = new ArrayList<>();
    int record = 0;
    while (b.hasRemaining()) {
      int start = b.position();
      if (b.remaining() < 12) {
        throw new IllegalStateException("record " + record + ": truncated header");
      }
      long len = b.getLong();
      int lenCrc = b.getInt();
      if (lenCrc != mask(crc32c(b.array(), start, 8))) {
        throw new IllegalStateException("record " + record + ": length CRC mismatch");
      }
      if (len > b.remaining() - 4) {
        throw new IllegalStateException("record " + record + ": truncated data");
      }
      byte[] data = new byte[(int) len];
      b.get(data);
      int dataCrc = b.getInt();
      if (dataCrc != mask(crc32c(data, 0, data.length))) {
        throw new IllegalStateException("record " + record + ": data CRC mismatch");
      }
      out.add(event(data));
      record++;
    }
    return out;
  }

  private static Event event(byte[] data) {
    Pb p = new Pb(data);
    double wall = 0;
    long step = 0;
    String version = null;
    Map<String, Float> scalars = new LinkedHashMap<>();
    Integer status = null;
    while (p.more()) {
      int tag = (int) p.varint();
      switch (tag) {
        case (1 << 3) | 1 -> wall = Double.longBitsToDouble(p.fixed64());
        case 2 << 3 -> step = p.varint();
        case (3 << 3) | 2 -> version = new String(p.bytes(), StandardCharsets.UTF_8);
        case (5 << 3) | 2 -> summary(new Pb(p.bytes()), scalars);
        case (6 << 3) | 2 -> {
          Pb s = new Pb(p.bytes());
          while (s.more()) {
            int t = (int) s.varint();
            if (t == 1 << 3) {
              status = (int) s.varint();
            } else {
              s.skip(t);
            }
          }
        }
        default -> p.skip(tag);
      }
    }
    return new Event(wall, step, version, scalars, status);
  }

  private static void summary(Pb s, Map<String, Float> scalars) {
    while (s.more()) {
      int tag = (int) s.varint();
      if (tag != ((1 << 3) | 2)) {
        s.skip(tag);
        continue;
      }
      Pb v = new Pb(s.bytes());
      String name = null;
      Float value = null;
      while (v.more()) {
        int t = (int) v.varint();
        if (t == ((1 << 3) | 2)) {
          name = new String(v.bytes(), StandardCharsets.UTF_8);
        } else if (t == ((2 << 3) | 5)) {
          value = Float.intBitsToFloat(v.fixed32());
        } else {
          v.skip(t);
        }
      }
      scalars.put(name, value);
    }
  }

  private static final class Pb {
    private final byte[] b;
    private int i;

    Pb(byte[] b) {
      this.b = b;
    }

    boolean more() {
      return i < b.length;
    }

    long varint() {
      long v = 0;
      for (int shift = 0; ; shift += 7) {
        int x = b[i++] & 0xFF;
        v |= (long) (x & 0x7F) << shift;
        if (x < 0x80) {
          return v;
        }
      }
    }

    int fixed32() {
      int v = 0;
      for (int k = 0; k < 4; k++) {
        v |= (b[i++] & 0xFF) << (8 * k);
      }
      return v;
    }

    long fixed64() {
      long v = 0;
      for (int k = 0; k < 8; k++) {
        v |= (long) (b[i++] & 0xFF) << (8 * k);
      }
      return v;
    }

    byte[] bytes() {
      int n = (int) varint();
      byte[] out = java.util.Arrays.copyOfRange(b, i, i + n);
      i += n;
      return out;
    }

    void skip(int tag) {
      switch (tag & 7) {
        case 0 -> varint();
        case 1 -> i += 8;
        case 2 -> bytes();
        case 5 -> i += 4;
        default -> throw new IllegalStateException("wire type " + (tag & 7));
      }
    }
  }
}
