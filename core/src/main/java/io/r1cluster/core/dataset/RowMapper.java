package io.r1cluster.core.dataset;

import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Prompt;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Maps raw rows to {@link Prompt}s (GRPO, eval) and {@link SftExample}s, with the column conventions of
 * TRL and open-r1:
 *
 * <ul>
 *   <li>conversational {@code messages}: a list of {role, content};
 *   <li>{@code prompt}/{@code completion}: strings (a user and an assistant message) or message lists;
 *   <li>{@code problem}/{@code solution} (open-r1): the prompt column is {@code dataset_prompt_column},
 *       the gold answer {@code solution}; {@code system_prompt} is prepended as a system message.
 * </ul>
 *
 * A row that does not fit throws {@link BadRowException} naming the column.
 */
public final class RowMapper {
  private final String promptColumn;
  private final String systemPrompt;

  /**
   * @param promptColumn open-r1's {@code dataset_prompt_column} ("prompt")
   * @param systemPrompt open-r1's {@code system_prompt}, or null
   */
  public RowMapper(String promptColumn, String systemPrompt) {
    this.promptColumn = promptColumn == null ? "prompt" : promptColumn;
    this.systemPrompt = systemPrompt;
  }

  /** A row that does not match the expected columns. */
  public static final class BadRowException extends RuntimeException {
    private final String column;

    BadRowException(String column, String message) {
      super(message);
      this.column = column;
    }

    public String column() {
      return column;
    }
  }

  /**
   * The prompt of a GRPO/eval row: the prompt column (a string → one user message; a message list →
   * the messages up to, not including, a final assistant message), gold {@code solution} (or
   * {@code answer}), and the other columns as metadata.
   */
  public Prompt toPrompt(Row row) {
    Map<String, Object> c = row.columns();
    List<ChatMessage> messages;
    String column = promptColumn;
    if (!c.containsKey(column) && !promptColumn.equals("prompt") && c.containsKey("prompt")) {
      column = "prompt";
    }
    if (!c.containsKey(column) && c.containsKey("messages")) {
      messages = messages(c.get("messages"), "messages");
      int last = messages.size();
      while (last > 0 && messages.get(last - 1).role().equals("assistant")) {
        last--;
      }
      messages = messages.subList(0, last);
    } else if (c.containsKey(column)) {
      Object v = c.get(column);
      messages = v instanceof String s ? List.of(new ChatMessage("user", s)) : messages(v, column);
    } else {
      throw new BadRowException(promptColumn, "missing prompt column '" + promptColumn + "' (columns: "
          + String.join(", ", c.keySet()) + ")");
    }
    if (messages.isEmpty()) {
      throw new BadRowException(column, "empty prompt");
    }
    messages = withSystem(messages);
    Object sol = c.containsKey("solution") ? c.get("solution") : c.get("answer");
    if (sol != null && !(sol instanceof String) && !(sol instanceof Number)) {
      throw new BadRowException("solution", "expected a string, found " + kind(sol));
    }
    Map<String, Object> meta = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : c.entrySet()) {
      if (!e.getKey().equals(column) && !e.getKey().equals("solution") && e.getValue() != null) {
        meta.put(e.getKey(), e.getValue());
      }
    }
    return new Prompt(id(row), messages, sol == null ? null : sol.toString(), meta);
  }

  /** An SFT example from {@code messages}, or {@code prompt}/{@code completion}. */
  public SftExample toSft(Row row) {
    Map<String, Object> c = row.columns();
    if (c.get("messages") != null) {
      List<ChatMessage> all = messages(c.get("messages"), "messages");
      int last = all.size();
      while (last > 0 && !all.get(last - 1).role().equals("assistant")) {
        last--;
      }
      if (last == 0) {
        throw new BadRowException("messages", "no assistant message to train on");
      }
      int start = last;
      while (start > 0 && all.get(start - 1).role().equals("assistant")) {
        start--;
      }
      return new SftExample(id(row), withSystem(all.subList(0, start)), all.subList(start, last));
    }
    if (c.containsKey("completion")) {
      Object p = c.containsKey("prompt") ? c.get("prompt") : c.get(promptColumn);
      List<ChatMessage> prompt = p == null ? List.of()
          : p instanceof String s ? List.of(new ChatMessage("user", s)) : messages(p, "prompt");
      Object comp = c.get("completion");
      List<ChatMessage> completion = comp instanceof String s ? List.of(new ChatMessage("assistant", s))
          : messages(comp, "completion");
      if (completion.isEmpty()) {
        throw new BadRowException("completion", "empty completion");
      }
      return new SftExample(id(row), withSystem(prompt), completion);
    }
    throw new BadRowException("messages", "an SFT row needs 'messages' or 'prompt'/'completion' (columns: "
        + String.join(", ", c.keySet()) + ")");
  }

  private List<ChatMessage> withSystem(List<ChatMessage> messages) {
    if (systemPrompt == null || (!messages.isEmpty() && messages.get(0).role().equals("system"))) {
      return messages;
    }
    List<ChatMessage> out = new ArrayList<>();
    out.add(new ChatMessage("system", systemPrompt));
    out.addAll(messages);
    return out;
  }

  private static List<ChatMessage> messages(Object v, String column) {
    if (!(v instanceof List<?> list)) {
      throw new BadRowException(column, "expected a list of {role, content} messages, found " + kind(v));
    }
    List<ChatMessage> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> m) || !(m.get("role") instanceof String role)
          || !(m.get("content") instanceof String content)) {
        throw new BadRowException(column, "message " + i + " needs string 'role' and 'content'");
      }
      out.add(new ChatMessage(role, content));
    }
    return out;
  }

  private static String kind(Object v) {
    if (v == null) {
      return "null";
    }
    if (v instanceof Map<?, ?>) {
      return "an object";
    }
    if (v instanceof List<?>) {
      return "a list";
    }
    return v instanceof String ? "a string" : "'" + v + "'";
  }

  private static String id(Row row) {
    Object id = row.columns().get("id");
    if (id instanceof String || id instanceof Number) {
      return id.toString();
    }
    return row.file().getFileName() + ":" + row.number();
  }
}
