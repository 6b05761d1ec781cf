package io.r1cluster.actors.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.WeightSnapshot;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** Random test snapshots and a bit-exact comparison. */
public final class Snapshots {
  private Snapshots() {}

  /**
   * About {@code scale} MiB of random tensors with awkward sizes: an odd-length bf16 matrix, an
   * empty tensor, a heap-backed f32 vector, and large direct bf16 matrices.
   */
  static WeightSnapshot random(long version, int scale, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    List<TensorData> ts = new ArrayList<>();
    ts.add(tensor("model.embed_tokens.weight", DType.BF16, new long[] {scale * 256L, 1024}, r, true));
    ts.add(tensor("model.layers.0.input_layernorm.weight", DType.F32, new long[] {1000}, r, false));
    ts.add(tensor("model.layers.0.empty", DType.BF16, new long[] {0, 4}, r, true));
    ts.add(tensor("model.layers.0.self_attn.q_proj.bias", DType.BF16, new long[] {333, 7}, r, false));
    ts.add(tensor("model.layers.0.mlp.up_proj.weight", DType.BF16, new long[] {scale * 128L, 1024 + 3}, r, true));
    ts.add(tensor("model.norm.weight", DType.F16, new long[] {1}, r, true));
    return new WeightSnapshot(version, ts);
  }

  static TensorData tensor(String name, DType dtype, long[] shape, SplittableRandom r, boolean direct) {
    int n = Math.toIntExact(TensorData.numel(shape) * dtype.bytes());
    ByteBuffer b = direct ? ByteBuffer.allocateDirect(n) : ByteBuffer.allocate(n);
    byte[] chunk = new byte[4096];
    while (b.hasRemaining()) {
      r.nextBytes(chunk);
      b.put(chunk, 0, Math.min(chunk.length, b.remaining()));
    }
    b.flip();
    return new TensorData(name, dtype, shape, b);
  }

  public static void assertBitIdentical(WeightSnapshot expected, WeightSnapshot actual) {
    assertEquals(expected.version(), actual.version(), "version");
    assertEquals(expected.tensors().size(), actual.tensors().size(), "tensor count");
    for (int i = 0; i < expected.tensors().size(); i++) {
      TensorData e = expected.tensors().get(i);
      TensorData a = actual.tensors().get(i);
      assertEquals(e.name(), a.name());
      assertEquals(e.dtype(), a.dtype(), e.name());
      assertArrayEquals(e.shape(), a.shape(), e.name());
      assertEquals(e.data(), a.data(), e.name() + ": bytes differ");
    }
  }
}
