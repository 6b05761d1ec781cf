package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.device.PackedLinear;
import java.nio.ByteBuffer;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Qwen2Model#overwrite}: new weights written into a model's own parameter arrays (what a rollout
 * engine does at each policy version) give exactly the model {@link Qwen2Model#fromTensors} would
 * build, and a snapshot that does not fit writes nothing.
 */
public class OverwriteTest {
  static final Qwen2Config CFG = Qwen2Config.of(40, 32, 64, 2, 4, 2, 128, true);

  static Map<String, TensorData> named(List<TensorData> ts) {
    return new io.r1cluster.core.data.WeightSnapshot(0, ts).byName();
  }

  /** The same tensors, in order, with the same bytes. */
  public static void assertSameTensors(List<TensorData> want, List<TensorData> got, String what) {
    assertEquals(want.size(), got.size(), what);
    for (int i = 0; i < want.size(); i++) {
      assertEquals(want.get(i).name(), got.get(i).name(), what);
      assertEquals(want.get(i).data(), got.get(i).data(), what + ": " + want.get(i).name() + " bit for bit");
    }
  }

  /** The same NDArray objects before and after: written in place, none replaced. */
  static Map<NDArray, Boolean> arrays(Qwen2Model m) {
    Map<NDArray, Boolean> ids = new IdentityHashMap<>();
    m.parameters().values().forEach(a -> ids.put(a, true));
    return ids;
  }

  @Test
  void float32AndBf16SnapshotsAreWrittenInPlaceBitForBit() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 1); Qwen2Model next = Qwen2Model.random(CFG, Device.cpu(), 2)) {
      assertTrue(m.overwritable());
      Map<NDArray, Boolean> before = arrays(m);
      assertNotEquals(next.toTensors(DType.F32).get(0).data(), m.toTensors(DType.F32).get(0).data());
      m.overwrite(named(next.toTensors(DType.F32)));
      assertSameTensors(next.toTensors(DType.F32), m.toTensors(DType.F32), "f32 into f32");
      assertEquals(before.keySet().size(), arrays(m).size());
      assertTrue(before.keySet().containsAll(arrays(m).keySet()), "the model's own arrays, written in place");
      // a bf16 push into a float32 model: the bf16 values exactly, as fromTensors converts them
      List<TensorData> bf16 = next.toTensors(DType.BF16);
      m.overwrite(named(bf16));
      try (Qwen2Model built = Qwen2Model.fromTensors(CFG, named(bf16), Device.cpu())) {
        assertSameTensors(built.toTensors(DType.F32), m.toTensors(DType.F32), "bf16 into f32");
      }
    }
  }

  /**
   * A bf16 model that is not packed (a GPU's; here the CPU with packing turned off) is written bit for
   * bit; a packed one (bf16 on the CPU) is not overwritable and is rebuilt instead.
   */
  @Test
  void bf16ModelsUnpackedAreWrittenPackedAreNot() {
    String old = System.getProperty(PackedLinear.PROPERTY);
    System.setProperty(PackedLinear.PROPERTY, "false");
    try (Qwen2Model next = Qwen2Model.random(CFG, Device.cpu(), 2)) {
      List<TensorData> bf16 = next.toTensors(DType.BF16);
      try (Qwen2Model m = Qwen2Model.fromTensors(CFG, named(Qwen2Model.random(CFG, Device.cpu(), 1).toTensors(DType.BF16)),
          Device.cpu(), DataType.BFLOAT16)) {
        assertTrue(m.overwritable());
        m.overwrite(named(bf16));
        assertSameTensors(bf16, m.toTensors(DType.BF16), "bf16 into an unpacked bf16 model");
      }
    } finally {
      if (old == null) {
        System.clearProperty(PackedLinear.PROPERTY);
      } else {
        System.setProperty(PackedLinear.PROPERTY, old);
      }
    }
    if (PackedLinear.available(Device.cpu())) {
      try (Qwen2Model p = Qwen2Model.fromTensors(CFG, named(Qwen2Model.random(CFG, Device.cpu(), 1).toTensors(DType.BF16)),
          Device.cpu(), DataType.BFLOAT16)) {
        assertFalse(p.overwritable());
        assertThrows(IllegalStateException.class, () -> p.overwrite(named(p.toTensors(DType.BF16))));
      }
    }
  }

  @Test
  void aSnapshotThatDoesNotFitWritesNothing() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 1); Qwen2Model next = Qwen2Model.random(CFG, Device.cpu(), 2)) {
      List<TensorData> was = m.toTensors(DType.F32);
      // the last tensor (in model order) has the wrong shape: every earlier one would fit
      Map<String, TensorData> bad = named(next.toTensors(DType.F32));
      String last = List.copyOf(Qwen2Model.parameterShapes(CFG).keySet()).get(Qwen2Model.parameterShapes(CFG).size() - 1);
      TensorData t = bad.get(last);
      bad.put(last, new TensorData(last, t.dtype(), new long[] {1, t.numel()}, t.data()));
      InputException e = assertThrows(InputException.class, () -> m.overwrite(bad));
      assertEquals(last, e.key());
      bad.remove(last);
      InputException missing = assertThrows(InputException.class, () -> m.overwrite(bad));
      assertTrue(missing.getMessage().contains("missing tensor"), missing.getMessage());
      assertSameTensors(was, m.toTensors(DType.F32), "nothing written");
      Map<String, TensorData> ints = named(next.toTensors(DType.F32));
      TensorData first = ints.values().iterator().next();
      ints.put(first.name(), new TensorData(first.name(), DType.I32, first.shape(), ByteBuffer.allocate(first.data().remaining())));
      assertThrows(InputException.class, () -> m.overwrite(ints));
      assertSameTensors(was, m.toTensors(DType.F32), "nothing written");
    }
  }
}
