package io.r1cluster.core.data;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * A full set of policy weights at one version, with Hugging Face tensor names.
 *
 * <p>The tensor bytes are little-endian, in the stated dtype, row-major. The buffers are
 * read-only views; a snapshot is never mutated after creation.
 *
 * @param version policy version
 * @param tensors the named tensors
 */
public record WeightSnapshot(long version, List<Tensor> tensors) {
  public WeightSnapshot {
    tensors = List.copyOf(tensors);
  }

  /** Total payload bytes. */
  public long byteSize() {
    long n = 0;
    for (Tensor t : tensors) {
      n += t.data().remaining();
    }
    return n;
  }

  /**
   * One named tensor.
   *
   * @param name HF name, e.g. {@code model.layers.0.self_attn.q_proj.weight}
   * @param dtype safetensors dtype name: {@code F32}, {@code BF16}, {@code F16}, {@code I64}
   * @param shape dimensions
   * @param data little-endian bytes (read-only; position 0, limit = byte size)
   */
  public record Tensor(String name, String dtype, long[] shape, ByteBuffer data) {}
}
