package io.r1cluster.actors.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

class Crc32cTest {
  @Test
  void knownValue() {
    // the CRC32C check value of "123456789" (RFC 3720 / iSCSI)
    ByteBuffer b = ByteBuffer.wrap("123456789".getBytes(StandardCharsets.US_ASCII));
    assertEquals(0xE3069283, Crc32c.of(new CRC32C(), b, 0, 9));
  }

  @Test
  void combineEqualsCrcOfConcatenation() {
    SplittableRandom r = new SplittableRandom(7);
    CRC32C scratch = new CRC32C();
    for (int trial = 0; trial < 50; trial++) {
      byte[] bytes = new byte[1 + r.nextInt(5000)];
      r.nextBytes(bytes);
      int split = r.nextInt(bytes.length + 1);
      ByteBuffer b = ByteBuffer.wrap(bytes);
      int whole = Crc32c.of(scratch, b, 0, bytes.length);
      int a = Crc32c.of(scratch, b, 0, split);
      int c = Crc32c.of(scratch, b, split, bytes.length - split);
      assertEquals(whole, Crc32c.combine(a, c, bytes.length - split), "split " + split + " of " + bytes.length);
      assertEquals(whole, new Crc32c.Combiner(bytes.length - split).combine(a, c));
    }
    assertEquals(0x1234, Crc32c.combine(0x1234, 0, 0), "empty B leaves A");
  }
}
