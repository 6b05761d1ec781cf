package io.r1cluster.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.recipe.ModelSettings;
import io.r1cluster.core.recipe.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The recipe key {@code chat_template_kwargs} reaches the template: Qwen3's real template with
 * {@code enable_thinking: false} closes an empty think block in the generation prompt (as
 * transformers' {@code apply_chat_template(..., enable_thinking=False)} does), and per-call extras
 * still override the bound kwargs.
 */
class ChatTemplateKwargsTest {
  @Test
  void recipeKwargsAreBoundToEveryRender(@TempDir Path dir) throws Exception {
    Path recipe = dir.resolve("r.yaml");
    Files.writeString(recipe, String.join("\n",
        "model_name_or_path: demo",
        "dataset_name: x",
        "chat_template_kwargs:",
        "  enable_thinking: false",
        ""));
    ModelSettings m = Recipe.load(recipe).settings().model();
    assertEquals(Map.of("enable_thinking", false), m.chatTemplateKwargs());
    JsonNode cfg = ChatTemplateFamiliesTest.read("qwen3.tokenizer_config.json");
    ChatTemplate plain = ChatTemplate.fromConfig(cfg, null, "<|im_end|>");
    ChatTemplate bound = plain.withKwargs(m.chatTemplateKwargs());
    List<ChatMessage> msgs = List.of(new ChatMessage("user", "Hi"));
    assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", plain.render(msgs, true));
    assertEquals("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
        bound.render(msgs, true));
    String overridden = bound.render(List.of(Map.of("role", "user", "content", "Hi")), true,
        Map.of("enable_thinking", true));
    assertTrue(overridden.endsWith("<|im_start|>assistant\n"), overridden);
  }

  @Test
  void kwargsAsJsonTextToo(@TempDir Path dir) throws Exception {
    Path recipe = dir.resolve("r.yaml");
    Files.writeString(recipe, "model_name_or_path: demo\ndataset_name: x\nchat_template_kwargs: '{\"enable_thinking\": false}'\n");
    assertEquals(Map.of("enable_thinking", false), Recipe.load(recipe).settings().model().chatTemplateKwargs());
  }
}
