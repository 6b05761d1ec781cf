package io.r1cluster.core.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {

  @Test
  void readsFileWrittenByTransformers() throws Exception {
    Path f = Paths.get(getClass().getResource("/fixtures/tiny-qwen2/model.safetensors").toURI());
    Map<String, TensorData> t = SafeTensors.read(f);
    TensorData q = t.get("model.layers.0.self_attn.q_proj.weight");
    assertEquals(DType.F32, q.dtype());
    assertArrayEquals(new long[] {32, 32}, q.shape());
    assertArrayEquals(new long[] {16, 32}, t.get("model.layers.1.self_attn.k_proj.weight").shape());
    assertArrayEquals(new long[] {16}, t.get("model.layers.1.self_attn.v_proj.bias").shape());
    assertTrue(t.containsKey("lm_head.weight"));
    assertEquals("pt", SafeTensors.metadata(f).get("format"));
    Path bf = Paths.get(getClass().getResource("/fixtures/tiny-qwen2-bf16/model.safetensors").toURI());
    TensorData b = SafeTensors.read(bf).get("model.embed_tokens.weight");
    assertEquals(DType.BF16, b.dtype());
    assertEquals(64 * 32, b.toFloats().length);
  }

  @Test
  void roundTripAllDtypes(@TempDir Path dir) throws Exception {
    TensorData f32 = TensorData.ofFloats("a", new long[] {2, 3}, new float[] {1, -2, 3.5f, 0, 1e-3f, -7});
    TensorData bf16 = f32.convert(DType.BF16);
    TensorData f16 = f32.convert(DType.F16);
    ByteBuffer longs = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(42).putLong(-1);
    longs.flip();
    TensorData i64 = new TensorData("ids", DType.I64, new long[] {2}, longs);
    TensorData bfr = new TensorData("b", DType.BF16, bf16.shape(), bf16.data());
    TensorData f16r = new TensorData("h", DType.F16, f16.shape(), f16.data());
    Path file = dir.resolve("m.safetensors");
    SafeTensors.write(file, List.of(f32, bfr, f16r, i64), Map.of("step", "3"));
    Map<String, TensorData> back = SafeTensors.read(file);
    assertEquals(List.of("a", "b", "h", "ids"), List.copyOf(back.keySet()));
    assertArrayEquals(f32.toFloats(), back.get("a").toFloats());
    assertArrayEquals(new float[] {1, -2, 3.5f, 0, 0.0010004044f, -7}, back.get("b").toFloats(), 1e-5f);
    assertArrayEquals(f32.toFloats(), back.get("h").toFloats(), 1e-3f);
    assertEquals(-1L, back.get("ids").data().getLong(8));
    assertEquals("3", SafeTensors.metadata(file).get("step"));
    long headerLen = ByteBuffer.wrap(Files.readAllBytes(file), 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    assertEquals(0, headerLen % 8, "data section is 8-byte aligned");
    assertFalse(Files.list(dir).anyMatch(p -> p.toString().endsWith(".tmp")), "no temp file left");
  }

  @Test
  void corruptedHeaderFailsWithClearMessage(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("m.safetensors");
    SafeTensors.write(file, List.of(TensorData.ofFloats("w", new long[] {4}, new float[] {1, 2, 3, 4})), Map.of());
    byte[] bytes = Files.readAllBytes(file);

    byte[] hugeLen = bytes.clone();
    ByteBuffer.wrap(hugeLen).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1L << 40);
    Files.write(file, hugeLen);
    InputException e = assertThrows(InputException.class, () -> SafeTensors.read(file));
    assertTrue(e.getMessage().startsWith(file.toString()) && e.getMessage().contains("header length"), e.getMessage());

    byte[] badJson = bytes.clone();
    badJson[8] = 'x';
    Files.write(file, badJson);
    e = assertThrows(InputException.class, () -> SafeTensors.read(file));
    assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());

    String text = new String(bytes, 8, bytes.length - 8 - 16, java.nio.charset.StandardCharsets.UTF_8);
    byte[] wrongShape = bytes.clone();
    byte[] replaced = text.replace("[4]", "[5]").getBytes(java.nio.charset.StandardCharsets.UTF_8);
    System.arraycopy(replaced, 0, wrongShape, 8, replaced.length);
    Files.write(file, wrongShape);
    e = assertThrows(InputException.class, () -> SafeTensors.read(file));
    assertTrue(e.getMessage().contains("w: ") && e.getMessage().contains("needs 20"), e.getMessage());

    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 4));
    e = assertThrows(InputException.class, () -> SafeTensors.read(file));
    assertTrue(e.getMessage().contains("outside the data section"), e.getMessage());
  }
}
