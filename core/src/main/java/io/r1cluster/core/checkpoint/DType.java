package io.r1cluster.core.checkpoint;

/** Tensor element types, named as in the safetensors header. */
public enum DType {
  F32(4),
  F16(2),
  BF16(2),
  F64(8),
  I64(8),
  I32(4),
  I16(2),
  I8(1),
  U8(1),
  BOOL(1);

  private final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  /** Parses a safetensors dtype name; {@code null} when unknown. */
  public static DType parse(String s) {
    for (DType d : values()) {
      if (d.name().equals(s)) {
        return d;
      }
    }
    return null;
  }

  /** Whether this is a floating-point type we can convert to float32. */
  public boolean isFloat() {
    return this == F32 || this == F16 || this == BF16 || this == F64;
  }
}
