package io.r1cluster.core.recipe;

/**
 * Model keys (TRL {@code ModelConfig}).
 *
 * @param modelNameOrPath {@code model_name_or_path}: a checkpoint folder, a hub id in the local cache, or null (from scratch)
 * @param modelRevision {@code model_revision} (main)
 * @param torchDtype {@code torch_dtype} (null = the checkpoint's)
 * @param attnImplementation {@code attn_implementation} (informational)
 * @param chatTemplate {@code chat_template} overriding the tokenizer's (null = the tokenizer's)
 * @param eosToken {@code eos_token} overriding the tokenizer's (null = the tokenizer's)
 * @param chatTemplateKwargs {@code chat_template_kwargs}: extra variables for every chat-template render
 *     (e.g. {@code enable_thinking: false} for Qwen3); empty when not set
 * @param useCpu {@code use_cpu} (TRL): keep everything on the CPU even when a GPU is present
 *     ({@code --device} wins over it, it wins over {@code R1_DEVICE}; see {@code Devices})
 * @param bf16 {@code bf16} (TrainingArguments): train with bf16 compute over float32 master weights and
 *     optimizer state ({@code Qwen2Model.computeIn})
 */
public record ModelSettings(
    String modelNameOrPath, String modelRevision, String torchDtype, String attnImplementation, String chatTemplate,
    String eosToken, boolean useCpu, boolean bf16, java.util.Map<String, Object> chatTemplateKwargs) {
  public ModelSettings {
    chatTemplateKwargs = chatTemplateKwargs == null ? java.util.Map.of()
        : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(chatTemplateKwargs));
  }

  /** The recipe's weight type for rollouts, evaluation and saved checkpoints: bfloat16 or float32 (the default). */
  public boolean bfloat16() {
    return "bfloat16".equals(torchDtype);
  }
}
