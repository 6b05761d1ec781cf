package io.r1cluster.core.demo;

import io.r1cluster.core.model.Qwen2Config;

/** The built-in demo model's shape ({@code model_name_or_path: demo}): a tiny Qwen2 with tied embeddings. */
public final class DemoModel {
  private DemoModel() {}

  /** Hidden 128, intermediate 384, 4 layers, 4 heads, 2 KV heads, 512 positions, tied embeddings. */
  public static Qwen2Config config(int vocab) {
    return Qwen2Config.of(vocab, 128, 384, 4, 4, 2, 512, true);
  }
}
