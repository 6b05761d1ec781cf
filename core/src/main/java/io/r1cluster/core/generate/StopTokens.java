package io.r1cluster.core.generate;

import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The token ids that end a completion, the same set for every sampler of a run (GRPO rollouts on
 * either driver, the evaluation, a local teacher, the OpenAI server): the model's
 * {@code eos_token_id}, the tokenizer's {@code eos_token}, and the end-of-turn / end-of-text tokens
 * of the families we load when the vocabulary has them ({@code <|im_end|>} and {@code <|endoftext|>}
 * for Qwen and ChatML models, {@code <|eot_id|>} and {@code <|end_of_text|>} for Llama 3), as their
 * {@code generation_config.json} lists them for vLLM and transformers.
 */
public final class StopTokens {
  /** End-of-turn and end-of-text tokens, checked in this order after the model's and tokenizer's eos. */
  static final List<String> FAMILY_STOPS = List.of("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>");

  private StopTokens() {}

  /** The stop ids for {@code tokenizer}, with the model's {@code eos_token_id} first when {@code config} has one. */
  public static List<Integer> of(Tokenizer tokenizer, Qwen2Config config) {
    List<Integer> ids = new ArrayList<>();
    if (config != null && config.eosTokenId() >= 0) {
      ids.add(config.eosTokenId());
    }
    add(ids, tokenizer.eosTokenId());
    for (String t : FAMILY_STOPS) {
      add(ids, tokenizer.findTokenId(t));
    }
    return List.copyOf(ids);
  }

  private static void add(List<Integer> ids, OptionalInt id) {
    if (id.isPresent() && !ids.contains(id.getAsInt())) {
      ids.add(id.getAsInt());
    }
  }
}
