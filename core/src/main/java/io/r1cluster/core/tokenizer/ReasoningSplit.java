package io.r1cluster.core.tokenizer;

import java.util.List;
import java.util.Map;

/**
 * Where a model's reasoning ends and its answer starts, for the families whose chat template decides
 * where the {@code <think>} block opens.
 *
 * <pre>
 * template (as rendered with add_generation_prompt)      generation prompt ends with     completion starts
 * DeepSeek-R1 / R1-Distill-Qwen / R1-Distill-Llama       "&lt;｜Assistant｜&gt;&lt;think&gt;\n"         inside the think block
 * Qwen3, default (enable_thinking true)                  "&lt;|im_start|&gt;assistant\n"           with the model's own "&lt;think&gt;\n"
 * Qwen3, chat_template_kwargs enable_thinking: false     "...\n&lt;think&gt;\n\n&lt;/think&gt;\n\n"     with the answer (no think block)
 * Qwen2.5, Llama 3.1, DeepSeek-V3                        no think tag                      with whatever the model writes
 * </pre>
 *
 * Rewards and evaluation score the completion exactly as open-r1 (TRL) does: the generated text
 * alone, never the prompt's opening tag. So open-r1's {@code format} reward
 * ({@code ^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$}) gives 0 to an R1-Distill completion
 * (it starts inside the block) and {@code tag_count} at most 0.75 — as in open-r1; {@code accuracy}
 * reads the last {@code \boxed{}}/answer wherever it is and is the reward to use for these families.
 * This class makes the split explicit for logs and evaluation samples.
 */
public final class ReasoningSplit {
  private ReasoningSplit() {}

  /** The reasoning (without tags) and the answer after {@code </think>}; {@code closed} false when it never ended. */
  public record Split(String reasoning, String answer, boolean closed) {}

  /** Whether the generation prompt leaves the model inside an open {@code <think>} block. */
  public static boolean opensThink(String renderedPrompt) {
    int open = renderedPrompt.lastIndexOf("<think>");
    return open >= 0 && renderedPrompt.indexOf("</think>", open) < 0;
  }

  /** Whether {@code template} opens a think block in its generation prompt (one user turn, as rendered). */
  public static boolean opensThink(ChatTemplate template) {
    List<Map<String, Object>> probe = List.of(Map.of("role", "user", "content", "x"));
    return opensThink(template.render(probe, true, Map.of()));
  }

  /**
   * Splits a completion. With {@code promptOpensThink} the text up to {@code </think>} is reasoning even
   * without an opening tag; otherwise reasoning needs a leading {@code <think>} the model wrote itself.
   */
  public static Split split(String completion, boolean promptOpensThink) {
    String c = completion;
    int end = c.indexOf("</think>");
    boolean ownOpen = c.stripLeading().startsWith("<think>");
    if (!promptOpensThink && !ownOpen) {
      return new Split("", c, false);
    }
    String body = ownOpen ? c.stripLeading().substring("<think>".length()) : c;
    if (ownOpen) {
      end = body.indexOf("</think>");
    }
    if (end < 0) {
      return new Split(body.strip(), "", false);
    }
    return new Split(body.substring(0, end).strip(), body.substring(end + "</think>".length()).strip(), true);
  }
}
