package io.r1cluster.core.data;

import java.util.Objects;

/** One chat message ({@code role} is {@code system}, {@code user} or {@code assistant}). */
public record ChatMessage(String role, String content) {
  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }
}
