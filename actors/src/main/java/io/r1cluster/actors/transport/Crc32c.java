package io.r1cluster.actors.transport;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC32C helpers: checksum of a buffer region without moving the caller's buffer, and
 * <em>combination</em> — {@code crc(A ‖ B)} from {@code crc(A)}, {@code crc(B)} and {@code |B|} —
 * so a whole-tensor CRC follows from the chunk CRCs without a second pass over the bytes.
 *
 * <p>Combination works in GF(2): appending {@code n} zero bytes to a message multiplies its CRC
 * register by a fixed 32×32 bit matrix {@code Z(n)} (built by repeated squaring of the one-zero-bit
 * operator, as in zlib's {@code crc32_combine}); then {@code crc(A ‖ B) = Z(|B|)·crc(A) ⊕ crc(B)}.
 * The pre/post inversion of CRC32C cancels out in that identity.
 */
public final class Crc32c {
  /** CRC32C (Castagnoli) polynomial, bit-reflected. */
  private static final int POLY = 0x82F63B78;

  private Crc32c() {}

  /** CRC32C of {@code buf[from, from + length)}; {@code scratch} is reset and used (no allocation). */
  public static int of(CRC32C scratch, ByteBuffer view, int from, int length) {
    scratch.reset();
    view.limit(from + length).position(from);
    scratch.update(view);
    return (int) scratch.getValue();
  }

  /** {@code crc(A ‖ B)} from {@code crcA = crc(A)}, {@code crcB = crc(B)} and {@code lengthB = |B|}. */
  public static int combine(int crcA, int crcB, long lengthB) {
    if (lengthB <= 0) {
      return crcA;
    }
    int[] odd = new int[32];
    int[] even = new int[32];
    odd[0] = POLY; // operator for one zero bit
    int row = 1;
    for (int n = 1; n < 32; n++) {
      odd[n] = row;
      row <<= 1;
    }
    square(even, odd); // two zero bits
    square(odd, even); // four zero bits
    int crc = crcA;
    long len = lengthB;
    do {
      square(even, odd); // first pass: one zero byte
      if ((len & 1) != 0) {
        crc = times(even, crc);
      }
      len >>>= 1;
      if (len == 0) {
        break;
      }
      square(odd, even);
      if ((len & 1) != 0) {
        crc = times(odd, crc);
      }
      len >>>= 1;
    } while (len != 0);
    return crc ^ crcB;
  }

  /**
   * A precomputed combiner for a fixed length of B: {@code combine(a, b)} costs one 32-row
   * matrix-vector product.
   */
  public static final class Combiner {
    private final long length;
    private final int[] matrix = new int[32];

    public Combiner(long length) {
      this.length = length;
      for (int i = 0; i < 32; i++) {
        matrix[i] = Crc32c.combine(1 << i, 0, length); // linear in crcA: column i
      }
    }

    public long length() {
      return length;
    }

    public int combine(int crcA, int crcB) {
      return times(matrix, crcA) ^ crcB;
    }
  }

  private static int times(int[] mat, int vec) {
    int sum = 0;
    int i = 0;
    while (vec != 0) {
      if ((vec & 1) != 0) {
        sum ^= mat[i];
      }
      vec >>>= 1;
      i++;
    }
    return sum;
  }

  private static void square(int[] square, int[] mat) {
    for (int n = 0; n < 32; n++) {
      square[n] = times(mat, mat[n]);
    }
  }
}
