package io.r1cluster.core.device;

import ai.djl.Device;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * bf16 linear layers on the CPU with the weight packed once into oneDNN's blocked layout.
 *
 * <p>Why: a bf16 {@code Linear.linear} reaches aten's matmul, which runs oneDNN's brgemm on the plain
 * {@code [out, in]} weight and repacks it into the blocked (VNNI) layout on every call: at batch 1 that
 * is an extra pass over every weight per token, and bf16 decode was barely faster than float32's
 * sgemv. Measured here (1 thread, thread CPU time): {@code [1,896]×[896,4864]} float32 0.99 ms, bf16
 * 0.68 ms, packed bf16 0.42 ms; the 151,936-row LM head 29.7 / 19.8 / 11.7 ms. PyTorch's own CPU
 * inference path (inductor's weight prepacking) packs with {@code mkldnn::_reorder_linear_weight} and
 * runs {@code mkldnn::_linear_pointwise}; DJL's JNI has neither op, so they run in a small TorchScript
 * module ({@code packed_linear.pt}, written by {@code scripts/make_packed_linear_module.py}).
 *
 * <p>A packed weight is an opaque oneDNN tensor: only {@link #linear} and {@link #unpack} may read it
 * (its shape is right; its bytes are not row-major). No autograd: inference weights only.
 *
 * <p>{@link #available} says whether packing is used: CPU only, not when the system property
 * {@code r1.bf16.packed=false}, and only after a probe on this machine gave the same result as the
 * plain linear (a libtorch without oneDNN, or a CPU oneDNN refuses, falls back to the plain path).
 */
public final class PackedLinear {
  /** System property that turns packing off ({@code -Dr1.bf16.packed=false}); on by default. */
  public static final String PROPERTY = "r1.bf16.packed";
  private static volatile PtSymbolBlock module;
  private static volatile Boolean works;
  private static NDManager owner;

  private PackedLinear() {}

  private static PtSymbolBlock module() {
    PtSymbolBlock m = module;
    if (m == null) {
      synchronized (PackedLinear.class) {
        m = module;
        if (m == null) {
          owner = Devices.manager(Devices.host());
          try (InputStream in = PackedLinear.class.getResourceAsStream("packed_linear.pt")) {
            if (in == null) {
              throw new IllegalStateException("packed_linear.pt is missing from the classpath "
                  + "(run scripts/make_packed_linear_module.py)");
            }
            m = JniUtils.loadModule((PtNDManager) owner, in, false, false);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
          module = m;
        }
      }
    }
    return m;
  }

  /** Whether bf16 weights on {@code device} are packed (see the class comment). */
  public static boolean available(Device device) {
    if (!Device.Type.CPU.equals(device.getDeviceType()) || !Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
      return false;
    }
    Boolean w = works;
    if (w == null) {
      synchronized (PackedLinear.class) {
        w = works;
        if (w == null) {
          w = probe();
          works = w;
        }
      }
    }
    return w;
  }

  /** Packed and plain bf16 linear agree on a small random problem at 1 and 5 rows (else: not used). */
  private static boolean probe() {
    try (NDManager s = Devices.manager(Devices.host())) {
      NDArray w = Casts.toBf16(s.randomNormal(0, 1, new Shape(48, 64), DataType.FLOAT32));
      NDArray b = Casts.toBf16(s.randomNormal(0, 1, new Shape(48), DataType.FLOAT32));
      NDArray p = pack(w);
      p.attach(s);
      for (int rows : new int[] {1, 5}) {
        NDArray x = Casts.toBf16(s.randomNormal(0, 1, new Shape(rows, 64), DataType.FLOAT32));
        NDArray want = Casts.toFloat32(Linear.linear(x, w, b).get(0));
        NDArray got = Casts.toFloat32(linear(x, p, b));
        NDArray back = Casts.toFloat32(unpack(p));
        // both round one fp32 accumulation to bf16 (8 bits): allow a couple of ulps of |want| ~ 8
        if (!got.getShape().equals(want.getShape()) || got.sub(want).abs().max().getFloat() > 0.25f
            || !back.eq(Casts.toFloat32(w)).all().getBoolean()) {
          System.err.println("r1: packed bf16 linear disagrees with the plain one here; using the plain path");
          return false;
        }
      }
      return true;
    } catch (EngineException | UnsupportedOperationException e) {
      System.err.println("r1: packed bf16 linear unavailable (" + e.getMessage().lines().findFirst().orElse("")
          + "); using the plain path");
      return false;
    }
  }

  /** {@code w} (bf16 {@code [out, in]}, CPU) packed for single-row inputs, in {@code w}'s manager. */
  public static NDArray pack(NDArray w) {
    try (IValue a = IValue.from((PtNDArray) w); IValue n = IValue.from(1L);
        IValue out = IValueUtils.runMethod(module(), "pack", a, n)) {
      return out.toTensor((PtNDManager) w.getManager());
    }
  }

  /** A packed weight back as a plain row-major {@code [out, in]} bf16 tensor (exact), in {@code w}'s manager. */
  public static NDArray unpack(NDArray packed) {
    try (IValue a = IValue.from((PtNDArray) packed); IValue out = IValueUtils.runMethod(module(), "unpack", a)) {
      return out.toTensor((PtNDManager) packed.getManager());
    }
  }

  /** {@code x Wᵀ + bias} (bias may be null) for bf16 {@code x [..., in]}; the result is in {@code x}'s manager. */
  public static NDArray linear(NDArray x, NDArray packed, NDArray bias) {
    try (IValue a = IValue.from((PtNDArray) x); IValue w = IValue.from((PtNDArray) packed)) {
      if (bias == null) {
        try (IValue out = IValueUtils.runMethod(module(), "forward", a, w)) {
          return out.toTensor((PtNDManager) x.getManager());
        }
      }
      try (IValue b = IValue.from((PtNDArray) bias); IValue out = IValueUtils.runMethod(module(), "biased", a, w, b)) {
        return out.toTensor((PtNDManager) x.getManager());
      }
    }
  }
}
