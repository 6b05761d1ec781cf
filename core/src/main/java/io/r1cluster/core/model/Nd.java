package io.r1cluster.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Arithmetic with Java numbers that is safe under autograd.
 *
 * <p>DJL's {@code NDArray.mul(Number)} (and div, minimum, maximum) wraps the number in a 0-d tensor
 * made from a Java direct buffer ({@code from_blob}) and closes that handle right after the op.
 * Autograd keeps the tensor for the backward pass; once the JVM has collected the handle and freed
 * its buffer, backward reads freed memory and the gradient is garbage (seen: 0.5 read back as
 * -7e28). The helpers here make the scalar with {@code full}, which PyTorch allocates and
 * reference-counts itself, so it lives exactly as long as the graph needs it. Use them for every
 * op on a tensor that may require a gradient; {@code add(Number)}/{@code sub(Number)} save nothing
 * and are safe as they are.
 */
public final class Nd {
  private Nd() {}

  /**
   * A 0-d tensor of {@code like}'s type and device, allocated by PyTorch; float32 for a bf16 {@code like}
   * (DJL cannot make bf16 arrays; a 0-d float32 operand leaves a bf16 result bf16).
   */
  public static NDArray scalar(NDArray like, double v) {
    DataType t = like.getDataType() == DataType.UNKNOWN ? DataType.FLOAT32 : like.getDataType();
    return like.getManager().full(new Shape(), (float) v, t);
  }

  public static NDArray mul(NDArray x, double v) {
    try (NDArray k = scalar(x, v)) {
      return x.mul(k);
    }
  }

  public static NDArray div(NDArray x, double v) {
    try (NDArray k = scalar(x, v)) {
      return x.div(k);
    }
  }

  public static NDArray minimum(NDArray x, double v) {
    try (NDArray k = scalar(x, v)) {
      return x.minimum(k);
    }
  }

  public static NDArray maximum(NDArray x, double v) {
    try (NDArray k = scalar(x, v)) {
      return x.maximum(k);
    }
  }
}
