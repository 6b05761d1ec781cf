package io.r1cluster.actors.grpo;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's grad mode is per thread and on by default; DJL turns it off only on the thread that
 * starts the engine. In-place updates of parameters (AdamW) and inference (sampling) on a
 * dispatcher thread therefore need it switched off there first, or PyTorch refuses the in-place
 * update of a leaf that requires grad (and sampling would record an autograd graph).
 */
public final class NoGrad {
  private NoGrad() {}

  /** Turns grad mode off on the calling thread (cheap; call at the start of each task). */
  public static void onThisThread() {
    Engine.getInstance(); // loads the native library on first use (a member JVM may not have yet)
    if (JniUtils.isGradMode()) {
      JniUtils.setGradMode(false);
    }
  }
}
