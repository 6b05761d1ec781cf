package io.r1cluster.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** The PyTorch engine loads from the Maven classifier jar with ai.djl.offline=true. */
class DjlOfflineTest {
  @Test
  void pytorchEngineLoadsOffline() {
    assertEquals("true", System.getProperty("ai.djl.offline"));
    assertEquals("PyTorch", Engine.getInstance().getEngineName());
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray a = m.create(new float[] {1, 2, 3});
      assertEquals(6f, a.sum().getFloat(), 0f);
    }
  }
}
