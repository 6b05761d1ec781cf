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
 */
public record ModelSettings(
    String modelNameOrPath, String modelRevision, String torchDtype, String attnImplementation, String chatTemplate,
    String eosToken) {}
