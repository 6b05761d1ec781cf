package io.r1cluster.core.model;

/**
 * What distinguishes the decoder families we load, all run by {@link Qwen2Model}:
 *
 * <pre>
 * family (model_type)  q/k/v bias        q_norm, k_norm   head_dim           rope_scaling
 * qwen2                yes (always)      no               hidden/heads       none, yarn
 * qwen3                attention_bias    yes (per head)   config head_dim    none, yarn
 * llama                attention_bias    no               config or h/heads  none, llama3, yarn
 * </pre>
 *
 * DeepSeek-R1-Distill-Qwen checkpoints are {@code qwen2}, R1-Distill-Llama ones {@code llama}
 * (rope_scaling llama3). Any other {@code model_type} is refused when config.json is read.
 *
 * @param modelType {@code qwen2}, {@code qwen3} or {@code llama}
 * @param headDim D, the per-head dimension
 * @param qkvBias whether q_proj, k_proj, v_proj have biases
 * @param qkNorm whether each head's q and k go through an RMSNorm ({@code q_norm}, {@code k_norm}) before rope
 * @param ropeScaling null for default rotary frequencies
 */
public record ModelFamily(String modelType, int headDim, boolean qkvBias, boolean qkNorm, RopeScaling ropeScaling) {
  public ModelFamily {
    if (!modelType.equals("qwen2") && !modelType.equals("qwen3") && !modelType.equals("llama")) {
      throw new IllegalArgumentException("model_type " + modelType + " is not one of qwen2, qwen3, llama");
    }
    if (headDim < 2 || headDim % 2 != 0) {
      throw new IllegalArgumentException("head_dim must be even and at least 2, got " + headDim);
    }
  }

  /** Qwen2 with default rope: q/k/v biases, D = hidden/heads. */
  public static ModelFamily qwen2(int headDim) {
    return new ModelFamily("qwen2", headDim, true, false, null);
  }

  /** The Hugging Face class name written to config.json {@code architectures}. */
  public String architecture() {
    return switch (modelType) {
      case "qwen3" -> "Qwen3ForCausalLM";
      case "llama" -> "LlamaForCausalLM";
      default -> "Qwen2ForCausalLM";
    };
  }
}
