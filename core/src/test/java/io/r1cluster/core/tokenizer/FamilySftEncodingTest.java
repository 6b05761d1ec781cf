package io.r1cluster.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.sft.SftEncoder;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Assistant-only SFT with the families' real templates. Qwen3's template keeps the final turn's think
 * block, so the turn is located and trained; R1-Distill's template strips {@code <think>…</think>}
 * from every assistant turn while its generation prompt opens {@code <think>\n}, so the turn is not a
 * continuation of the prompt: the encoder refuses (clear error) rather than train on a text the
 * model never sees. (transformers' {@code return_assistant_tokens_mask} has the same problem; open-r1
 * sets its own {@code chat_template} for distillation SFT.)
 */
class FamilySftEncodingTest {
  static final List<ChatMessage> PROMPT = List.of(new ChatMessage("user", "What is 2+3?"));
  static final List<ChatMessage> ANSWER = List.of(new ChatMessage("assistant", "<think>\nAdd.\n</think>\n\n5"));

  @Test
  void qwen3TrainsTheFinalTurnWithItsThinkBlock(@TempDir Path dir) throws Exception {
    DemoTokenizer.write(dir);
    try (Tokenizer tok = Tokenizer.load(dir)) {
      ChatTemplate qwen3 = ChatTemplate.fromConfig(ChatTemplateFamiliesTest.read("qwen3.tokenizer_config.json"), null,
          "<|im_end|>");
      SftEncoder.Encoded e = new SftEncoder(tok, qwen3, 4096, true).encode(new SftExample("q", PROMPT, ANSWER));
      assertTrue(e.trainedCount() > 0);
    }
  }

  @Test
  void r1DistillTemplateIsRefusedForAssistantOnlyLoss(@TempDir Path dir) throws Exception {
    DemoTokenizer.write(dir);
    try (Tokenizer tok = Tokenizer.load(dir)) {
      ChatTemplate r1 = ChatTemplate.of(ChatTemplateFamiliesTest.text("deepseek_r1_distill_qwen.jinja"),
          "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> new SftEncoder(tok, r1, 4096, true).encode(new SftExample("r1", PROMPT, ANSWER)));
      assertTrue(e.getMessage().contains("cannot be located"), e.getMessage());
    }
  }
}
