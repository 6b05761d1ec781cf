package io.r1cluster.core.data;

import io.r1cluster.core.checkpoint.TensorData;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A full set of policy weights at one version, with Hugging Face tensor names.
 *
 * <p>The tensor bytes are little-endian, in the stated dtype, row-major. The buffers are
 * read-only views; a snapshot is never mutated after creation.
 *
 * @param version policy version
 * @param tensors the named tensors
 */
public record WeightSnapshot(long version, List<TensorData> tensors) {
  public WeightSnapshot {
    tensors = List.copyOf(tensors);
  }

  /** The tensors by name, in snapshot order. */
  public Map<String, TensorData> byName() {
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (TensorData t : tensors) {
      out.put(t.name(), t);
    }
    return out;
  }

  /** Total payload bytes. */
  public long byteSize() {
    long n = 0;
    for (TensorData t : tensors) {
      n += t.byteSize();
    }
    return n;
  }
}
