package io.r1cluster.core.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.r1cluster.core.model.Nd;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * DJL's PyTorch engine backs arrays made from Java data with the Java direct buffer itself
 * ({@code from_blob}); the buffer lives only as long as the Java handle that made it. A tensor
 * that outlives that handle (a gradient after {@code set}, a scalar saved by autograd for the
 * backward pass) then points at memory the JVM has freed. These tests force collections between
 * the step that creates such a tensor and the step that uses it.
 */
class NativeMemoryLifetimeTest {

  private static void collect() {
    for (int i = 0; i < 3; i++) {
      System.gc();
      // direct buffers are freed by the reference-handler thread after a collection
      byte[][] churn = new byte[64][];
      for (int j = 0; j < churn.length; j++) {
        churn[j] = new byte[1 << 16];
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Test
  void zeroedGradientsStayInNativeMemory() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.create(new float[] {1f, 2f, 3f, 4f}, new Shape(4));
      AdamW.defineGradients(List.of(w));
      for (int round = 0; round < 20; round++) {
        AdamW.zeroGrad(List.of(w));
        collect();
        // fill the heap's small bins so freed memory is reused by someone else
        try (NDManager junk = NDManager.newBaseManager()) {
          for (int i = 0; i < 200; i++) {
            junk.create(new float[] {9f, 9f, 9f, 9f});
          }
          try (NDManager s = NDManager.newBaseManager();
              GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = w.mul(s.create(new float[] {1f, 1f, 1f, 1f})).sum();
            gc.backward(loss);
          }
          try (NDManager s = NDManager.newBaseManager()) {
            assertArrayEquals(new float[] {1f, 1f, 1f, 1f}, AdamW.grad(w, s).toFloatArray(), "round " + round);
          }
        }
      }
    }
  }

  @Test
  void scalarFactorsSavedForBackwardOutliveTheirHandles() {
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray w = m.create(new float[] {1f, 2f, 3f}, new Shape(3));
      w.setRequiresGradient(true);
      for (int round = 0; round < 20; round++) {
        try (NDManager s = NDManager.newBaseManager();
            GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          NDArray y = Nd.mul(w, 0.5).sum();
          collect();
          for (int i = 0; i < 200; i++) {
            s.create(new float[] {7f});
          }
          gc.backward(y);
          try (NDManager t = NDManager.newBaseManager()) {
            float[] g = AdamW.grad(w, t).toFloatArray();
            assertEquals(0.5f, g[0], 0f, "round " + round);
            assertEquals(0.5f, g[2], 0f, "round " + round);
          }
        }
        AdamW.zeroGrad(List.of(w));
      }
    }
  }
}
