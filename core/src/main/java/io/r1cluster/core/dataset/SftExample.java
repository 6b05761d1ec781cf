package io.r1cluster.core.dataset;

import io.r1cluster.core.data.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One SFT example: the prompt messages (not trained on) and the completion messages (trained on).
 * For a {@code messages} conversation the completion is the final assistant turn and the prompt
 * everything before it.
 *
 * @param id stable id (the row's {@code id} column, or {@code file:row})
 * @param prompt system/user/earlier turns, possibly empty
 * @param completion the assistant turn(s) to learn, never empty
 */
public record SftExample(String id, List<ChatMessage> prompt, List<ChatMessage> completion) {
  public SftExample {
    Objects.requireNonNull(id, "id");
    prompt = List.copyOf(prompt);
    completion = List.copyOf(completion);
    if (completion.isEmpty()) {
      throw new IllegalArgumentException("an SFT example needs a completion");
    }
  }

  /** The whole conversation: prompt then completion. */
  public List<ChatMessage> messages() {
    List<ChatMessage> all = new ArrayList<>(prompt);
    all.addAll(completion);
    return List.copyOf(all);
  }
}
