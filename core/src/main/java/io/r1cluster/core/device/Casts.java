package io.r1cluster.core.device;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Casts between float32 and bfloat16 that DJL's PyTorch engine cannot do itself.
 *
 * <p>DJL's JNI (0.32, and DJL master at the time of writing) knows no bf16 dtype code: {@code
 * toType(BFLOAT16)} and {@code create(buffer, shape, BFLOAT16)} abort the JVM ("terminate called
 * without an active exception"); a bf16 tensor reports {@link DataType#UNKNOWN}; and {@code toType}
 * runs under {@code NoGradGuard}, so it cuts the autograd graph. Every op on bf16 tensors works. The
 * casts here run {@code x.to(like.dtype)} in a two-line TorchScript module ({@code cast.pt}, written
 * by {@code scripts/make_cast_module.py}) with autograd on, so they are differentiable: the
 * mixed-precision casts inside a training graph use them. They keep the device of their input.
 *
 * <p>Rule for code holding bf16 arrays: never call {@code toType(BFLOAT16)}, {@code getDataType()}
 * comparisons against BFLOAT16, {@code toByteBuffer()} or {@code NDManager.full(..., x.getDataType())}
 * on them; use {@link #isBf16}, {@link #toBf16}, {@link #toFloat32}.
 */
public final class Casts {
  private static volatile PtSymbolBlock module;
  /** A 0-d tensor of each target type per device (the {@code like} argument of the module). */
  private static final Map<Device, NDArray[]> LIKE = new ConcurrentHashMap<>();
  private static NDManager owner;

  private Casts() {}

  private static PtSymbolBlock module() {
    PtSymbolBlock m = module;
    if (m == null) {
      synchronized (Casts.class) {
        m = module;
        if (m == null) {
          owner = Devices.manager(Devices.host());
          try (InputStream in = Casts.class.getResourceAsStream("cast.pt")) {
            if (in == null) {
              throw new IllegalStateException("cast.pt is missing from the classpath (run scripts/make_cast_module.py)");
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

  /** [float32, bfloat16] 0-d tensors on {@code d}, made once. */
  private static NDArray[] like(Device d) {
    return LIKE.computeIfAbsent(d, dev -> {
      PtSymbolBlock m = module();
      synchronized (Casts.class) {
        NDArray f = owner.full(new Shape(), 0f, DataType.FLOAT32);
        NDArray onDev = dev.equals(owner.getDevice()) ? f : f.toDevice(dev, false);
        onDev.attach(owner);
        try (IValue in = IValue.from((PtNDArray) onDev); IValue out = IValueUtils.runMethod(m, "bfloat16", in)) {
          NDArray bf = out.toTensor((PtNDManager) owner);
          return new NDArray[] {onDev, bf};
        }
      }
    });
  }

  private static NDArray cast(NDArray x, int target) {
    NDArray like = like(x.getDevice())[target];
    // DJL passes a list of named arrays as a Dict: hand it an unnamed view of a named one (no copy)
    NDArray in = x.getName() == null ? x : x.reshape(x.getShape());
    try {
      NDList out = IValueUtils.forward(module(), new NDList(in, like), true);
      NDArray r = out.singletonOrThrow();
      r.attach(x.getManager());
      return r;
    } finally {
      if (in != x) {
        in.close();
      }
    }
  }

  /** Whether {@code x} holds bfloat16 (DJL reports it as {@link DataType#UNKNOWN}). */
  public static boolean isBf16(NDArray x) {
    return x.getDataType() == DataType.UNKNOWN;
  }

  /** {@code x} in bfloat16 (itself when it already is), in {@code x}'s manager, differentiable. */
  public static NDArray toBf16(NDArray x) {
    return isBf16(x) ? x : cast(x, 1);
  }

  /** {@code x} in float32 (itself when it already is), in {@code x}'s manager, differentiable. */
  public static NDArray toFloat32(NDArray x) {
    return x.getDataType() == DataType.FLOAT32 ? x : cast(x, 0);
  }

  /** {@code x} in {@code type} (FLOAT32 or BFLOAT16), differentiable. */
  public static NDArray to(NDArray x, DataType type) {
    return switch (type) {
      case FLOAT32 -> toFloat32(x);
      case BFLOAT16 -> toBf16(x);
      default -> throw new IllegalArgumentException("casts go to float32 or bfloat16, not " + type);
    };
  }
}
