package io.r1cluster.core.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * One named tensor as stored in a checkpoint or sent over the wire: Hugging Face name, dtype,
 * shape and little-endian row-major bytes. The buffer is treated as immutable once the record
 * exists (callers hand over ownership); {@link #data()} returns a read-only little-endian view
 * positioned at 0.
 */
public record TensorData(String name, DType dtype, long[] shape, ByteBuffer data) {

  public TensorData {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(dtype, "dtype");
    shape = shape.clone();
    long expected = numel(shape) * dtype.bytes();
    if (data.remaining() != expected) {
      throw new IllegalArgumentException(
          name + ": " + data.remaining() + " bytes for shape " + Arrays.toString(shape) + " of " + dtype
              + " (expected " + expected + ")");
    }
    data = data.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public ByteBuffer data() {
    return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public long numel() {
    return numel(shape);
  }

  public long byteSize() {
    return data.remaining();
  }

  public static long numel(long[] shape) {
    long n = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  /** A float32 tensor from a float array (copied). */
  public static TensorData ofFloats(String name, long[] shape, float[] values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(values);
    return new TensorData(name, DType.F32, shape, b);
  }

  /** The values converted to float32 (F32, F16, BF16, F64). */
  public float[] toFloats() {
    int n = Math.toIntExact(numel());
    float[] out = new float[n];
    ByteBuffer b = data();
    switch (dtype) {
      case F32 -> b.asFloatBuffer().get(out);
      case F64 -> {
        for (int i = 0; i < n; i++) {
          out[i] = (float) b.getDouble(i * 8);
        }
      }
      case BF16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = Float.intBitsToFloat((b.getShort(i * 2) & 0xFFFF) << 16);
        }
      }
      case F16 -> {
        for (int i = 0; i < n; i++) {
          out[i] = halfToFloat(b.getShort(i * 2));
        }
      }
      default -> throw new IllegalStateException(name + ": cannot convert " + dtype + " to float32");
    }
    return out;
  }

  /** Round-to-nearest-even float32 → bfloat16 bits. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if ((bits & 0x7F800000) == 0x7F800000 && (bits & 0x007FFFFF) != 0) {
      return (short) ((bits >>> 16) | 0x40); // quiet NaN
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** This tensor converted to another floating dtype (a copy; returns {@code this} if equal). */
  public TensorData convert(DType to) {
    if (to == dtype) {
      return this;
    }
    float[] f = toFloats();
    ByteBuffer b = ByteBuffer.allocate(f.length * to.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    switch (to) {
      case F32 -> b.asFloatBuffer().put(f);
      case BF16 -> {
        for (int i = 0; i < f.length; i++) {
          b.putShort(i * 2, floatToBf16(f[i]));
        }
      }
      case F16 -> {
        for (int i = 0; i < f.length; i++) {
          b.putShort(i * 2, floatToHalf(f[i]));
        }
      }
      default -> throw new IllegalArgumentException("cannot convert to " + to);
    }
    return new TensorData(name, to, shape, b);
  }

  /** IEEE 754 binary16 bits → float32 (exact). */
  public static float halfToFloat(short h) {
    int bits = h & 0xFFFF;
    int sign = (bits & 0x8000) << 16;
    int exp = (bits >>> 10) & 0x1F;
    int mant = bits & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      // subnormal: value = mant * 2^-24
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** float32 → IEEE 754 binary16 bits, round to nearest even, overflow to infinity. */
  public static short floatToHalf(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xFF;
    int mant = bits & 0x7FFFFF;
    if (exp == 0xFF) {
      return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1F) {
      return (short) (sign | 0x7C00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      mant |= 0x800000;
      int shift = 14 - e;
      int half = mant >>> shift;
      int rem = mant & ((1 << shift) - 1);
      int mid = 1 << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1) != 0)) {
        half++;
      }
      return (short) (sign | half);
    }
    int half = (e << 10) | (mant >>> 13);
    int rem = mant & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1) != 0)) {
      half++;
    }
    return (short) (sign | half);
  }
}
