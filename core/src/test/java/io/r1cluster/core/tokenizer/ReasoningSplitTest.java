package io.r1cluster.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.reward.AccuracyRewards;
import io.r1cluster.core.reward.FormatRewards;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.verify.MathVerifier;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The reasoning split and the format rewards' expectations per family, on the real templates: an
 * R1-Distill completion starts inside the think block (the prompt opened it), so open-r1's
 * {@code format} gives 0 and {@code tag_count} 0.25 while {@code accuracy} still finds the answer; a
 * Qwen3 completion writes its own {@code <think>}; Qwen3 with {@code enable_thinking: false} has none.
 */
class ReasoningSplitTest {
  static final String R1_COMPLETION = "Add 2 and 3.\n</think>\n\nThe answer is \\boxed{5}.";
  static final String QWEN3_COMPLETION = "<think>\nAdd 2 and 3.\n</think>\n\nThe answer is \\boxed{5}.";

  static float score(io.r1cluster.core.reward.RewardFunction f, String completion) {
    return f.score(new RewardInput(List.of(completion), List.of(new int[0]), Map.of("solution", List.of("$5$"))))[0];
  }

  @Test
  void whichTemplatesOpenTheThinkBlock() throws Exception {
    ChatTemplate r1 = ChatTemplate.of(ChatTemplateFamiliesTest.text("deepseek_r1_distill_qwen.jinja"),
        "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>");
    ChatTemplate qwen3 = ChatTemplate.fromConfig(ChatTemplateFamiliesTest.read("qwen3.tokenizer_config.json"), null,
        "<|im_end|>");
    ChatTemplate llama = ChatTemplate.of(ChatTemplateFamiliesTest.text("llama3_1_instruct.jinja"), "<|begin_of_text|>",
        "<|eot_id|>");
    assertTrue(ReasoningSplit.opensThink(r1));
    assertFalse(ReasoningSplit.opensThink(qwen3));
    assertFalse(ReasoningSplit.opensThink(qwen3.withKwargs(Map.of("enable_thinking", false))));
    assertFalse(ReasoningSplit.opensThink(llama));
  }

  @Test
  void r1DistillCompletionsAreScoredAsOpenR1ScoresThem() {
    assertEquals(0f, score(FormatRewards.format(), R1_COMPLETION));
    assertEquals(0.25f, score(FormatRewards.tagCount(), R1_COMPLETION));
    assertEquals(1f, score(AccuracyRewards.accuracy(new MathVerifier()), R1_COMPLETION));
    ReasoningSplit.Split s = ReasoningSplit.split(R1_COMPLETION, true);
    assertEquals("Add 2 and 3.", s.reasoning());
    assertEquals("The answer is \\boxed{5}.", s.answer());
    assertTrue(s.closed());
    ReasoningSplit.Split cut = ReasoningSplit.split("still thinking", true);
    assertEquals("still thinking", cut.reasoning());
    assertFalse(cut.closed());
  }

  @Test
  void qwen3WritesItsOwnThinkTag() {
    assertEquals(0.5f, score(FormatRewards.tagCount(), QWEN3_COMPLETION));
    assertEquals(1f, score(AccuracyRewards.accuracy(new MathVerifier()), QWEN3_COMPLETION));
    ReasoningSplit.Split s = ReasoningSplit.split(QWEN3_COMPLETION, false);
    assertEquals("Add 2 and 3.", s.reasoning());
    assertEquals("The answer is \\boxed{5}.", s.answer());
    ReasoningSplit.Split plain = ReasoningSplit.split("The answer is 5.", false);
    assertEquals("", plain.reasoning());
    assertEquals("The answer is 5.", plain.answer());
    // the open-r1 layout itself scores 1 on format
    assertEquals(1f, score(FormatRewards.format(), "<think>\nAdd.\n</think>\n<answer>\n5\n</answer>"));
  }
}
