package io.r1cluster.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layout details and header validation beyond {@link SafeTensorsTest}. */
class SafeTensorsFormatTest {
  @TempDir Path tmp;

  private static TensorData i64(String name, long... v) {
    ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < v.length; i++) {
      b.putLong(i * 8, v[i]);
    }
    return new TensorData(name, DType.I64, new long[] {v.length}, b);
  }

  @Test
  void roundTripAllDtypesKeepsOrderAndLayout() throws Exception {
    TensorData f32 = TensorData.ofFloats("z.first", new long[] {2, 3}, new float[] {1, 2, 3, 4, 5, -6.5f});
    TensorData bf16 = TensorData.ofFloats("a.second", new long[] {3}, new float[] {1f, -2f, 0.5f}).convert(DType.BF16);
    TensorData f16 = TensorData.ofFloats("m.third", new long[] {1}, new float[] {0.25f}).convert(DType.F16);
    TensorData ids = i64("ids", 7, -1, 1L << 40);
    TensorData scalar = TensorData.ofFloats("scalar", new long[] {}, new float[] {3f});
    Path f = tmp.resolve("x.safetensors");
    SafeTensors.write(f, List.of(f32, bf16, f16, ids, scalar), Map.of("note", "hi"));

    byte[] raw = Files.readAllBytes(f);
    ByteBuffer bb = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
    long n = bb.getLong(0);
    assertEquals(0, n % 8, "header padded to 8 bytes");
    String header = new String(raw, 8, (int) n, StandardCharsets.UTF_8);
    assertTrue(header.startsWith("{\"__metadata__\":{\"format\":\"pt\",\"note\":\"hi\"}"), header);
    // data contiguous: 24 + 6 + 2 + 24 + 4 bytes
    assertEquals(8 + n + 60, raw.length);
    // BF16 of 1.0 is 0x3F80 -> bytes 80 3F right after the 24 f32 bytes
    assertEquals((byte) 0x80, raw[(int) (8 + n + 24)]);
    assertEquals((byte) 0x3F, raw[(int) (8 + n + 25)]);

    var back = SafeTensors.read(f);
    assertEquals(List.of("z.first", "a.second", "m.third", "ids", "scalar"), List.copyOf(back.keySet()));
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6.5f}, back.get("z.first").toFloats());
    assertArrayEquals(new long[] {2, 3}, back.get("z.first").shape());
    assertEquals(DType.BF16, back.get("a.second").dtype());
    assertArrayEquals(new float[] {1f, -2f, 0.5f}, back.get("a.second").toFloats());
    assertArrayEquals(new float[] {0.25f}, back.get("m.third").toFloats());
    assertEquals(1L << 40, back.get("ids").data().getLong(16));
    assertEquals(0, back.get("scalar").shape().length);
    assertEquals("hi", SafeTensors.metadata(f).get("note"));
  }

  @Test
  void largeFileReadsBack() throws Exception {
    float[] v = new float[400_000];
    for (int i = 0; i < v.length; i++) {
      v[i] = i * 0.5f;
    }
    Path f = tmp.resolve("big.safetensors");
    SafeTensors.write(f, List.of(TensorData.ofFloats("w", new long[] {400, 1000}, v)), Map.of());
    float[] back = SafeTensors.read(f).get("w").toFloats();
    assertArrayEquals(v, back);
  }

  private Path withHeader(String json, int dataBytes) throws Exception {
    byte[] h = json.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
    b.putLong(h.length).put(h);
    Path f = tmp.resolve("bad-" + System.nanoTime() + ".safetensors");
    Files.write(f, b.array());
    return f;
  }

  private static String fail(Path f) {
    InputException e = assertThrows(InputException.class, () -> SafeTensors.read(f));
    assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    return e.getMessage();
  }

  @Test
  void corruptedHeadersFailWithClearMessages() throws Exception {
    // header length larger than the file (a corrupted first byte)
    Path good = tmp.resolve("good.safetensors");
    SafeTensors.write(good, List.of(TensorData.ofFloats("w", new long[] {2}, new float[] {1, 2})), Map.of());
    byte[] raw = Files.readAllBytes(good);
    raw[1] = 0x7f;
    Path trunc = tmp.resolve("corrupt.safetensors");
    Files.write(trunc, raw);
    assertTrue(fail(trunc).contains("is invalid for a file of"));

    raw[7] = 0x7f;
    Files.write(trunc, raw);
    assertTrue(fail(trunc).contains("is invalid"));

    assertTrue(fail(withHeader("{\"w\": {\"dtype\": \"F32\", ", 0)).contains("not valid JSON"));
    String m = fail(withHeader("{\"w\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,1]}}", 1));
    assertTrue(m.contains("w: malformed safetensors: unknown dtype 'Q4'"), m);
    m = fail(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 8));
    assertTrue(m.contains("data_offsets [0, 16] outside the data section of 8 bytes"), m);
    m = fail(withHeader("{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8));
    assertTrue(m.contains("needs 12"), m);
    m = fail(withHeader("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
        + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
    assertTrue(m.contains("b: malformed safetensors: overlaps the previous tensor"), m);
    Path tiny = tmp.resolve("tiny.safetensors");
    Files.write(tiny, new byte[] {1, 2, 3});
    assertTrue(fail(tiny).contains("too small"));
  }
}
