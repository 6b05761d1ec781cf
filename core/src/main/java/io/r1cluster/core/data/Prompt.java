package io.r1cluster.core.data;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One training/eval prompt: chat messages (or a problem text), the gold solution and free-form
 * metadata (e.g. code test cases). Immutable.
 *
 * @param id stable id, unique within a dataset (used for exactly-once accounting)
 * @param messages chat messages; for a plain-text problem a single user message
 * @param solution gold solution text (may be {@code null} when the task has none)
 * @param metadata extra per-row columns (e.g. {@code verification_info}); never {@code null}
 */
public record Prompt(String id, List<ChatMessage> messages, String solution, Map<String, Object> metadata) {
  public Prompt {
    Objects.requireNonNull(id, "id");
    messages = List.copyOf(messages);
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
  }

  /** A single-turn prompt from a problem text. */
  public static Prompt ofProblem(String id, String problem, String solution) {
    return new Prompt(id, List.of(new ChatMessage("user", problem)), solution, Map.of());
  }
}
