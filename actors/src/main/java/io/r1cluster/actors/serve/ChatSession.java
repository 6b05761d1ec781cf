package io.r1cluster.actors.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A terminal conversation with an OpenAI-compatible server: each line is a user turn, the answer
 * streams in as it is generated (reasoning, when the server splits it off, in brackets first);
 * {@code /reset} starts a new conversation, {@code /exit} (or end of input) quits.
 */
public final class ChatSession {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Sampling for every turn; {@code system} (null: none) opens each conversation. */
  public record Settings(String model, String system, int maxTokens, double temperature, String apiKey) {}

  private final String chatUrl;
  private final Settings settings;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(30)).build();
  private final List<Map<String, String>> history = new ArrayList<>();

  public ChatSession(String baseUrl, Settings settings) {
    this.chatUrl = baseUrl + "/chat/completions";
    this.settings = settings;
  }

  /** Messages of the current conversation (user and assistant turns). */
  public List<Map<String, String>> history() {
    return List.copyOf(history);
  }

  /** Runs until /exit or the end of {@code in}. */
  public void run(BufferedReader in, PrintStream out) throws IOException, InterruptedException {
    out.println("chatting with " + settings.model() + " — /reset starts over, /exit quits");
    while (true) {
      out.print("> ");
      out.flush();
      String line = in.readLine();
      if (line == null || line.strip().equals("/exit")) {
        out.println();
        return;
      }
      if (line.strip().equals("/reset")) {
        history.clear();
        out.println("(new conversation)");
        continue;
      }
      if (line.isBlank()) {
        continue;
      }
      history.add(Map.of("role", "user", "content", line));
      String answer = turn(out);
      if (answer == null) {
        history.remove(history.size() - 1);
      } else {
        history.add(Map.of("role", "assistant", "content", answer));
      }
    }
  }

  /** Streams one answer to {@code out}; returns its content, or null after an error (printed). */
  private String turn(PrintStream out) throws IOException, InterruptedException {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", settings.model());
    ArrayNode ms = body.putArray("messages");
    if (settings.system() != null) {
      ms.addObject().put("role", "system").put("content", settings.system());
    }
    history.forEach(m -> ms.addObject().put("role", m.get("role")).put("content", m.get("content")));
    body.put("max_tokens", settings.maxTokens());
    body.put("temperature", settings.temperature());
    body.put("stream", true);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(chatUrl)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    if (settings.apiKey() != null) {
      b.header("Authorization", "Bearer " + settings.apiKey());
    }
    HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      String err = new String(r.body().readAllBytes(), StandardCharsets.UTF_8);
      out.println("error: HTTP " + r.statusCode() + " " + err);
      return null;
    }
    StringBuilder content = new StringBuilder();
    boolean inReasoning = false;
    String finish = null;
    try (BufferedReader sse = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = sse.readLine()) != null) {
        if (!line.startsWith("data: ")) {
          continue;
        }
        String data = line.substring(6);
        if (data.equals("[DONE]")) {
          break;
        }
        JsonNode n = JSON.readTree(data);
        if (n.has("error")) {
          out.println("\nerror: " + n.get("error").path("message").asText());
          return null;
        }
        for (JsonNode c : n.path("choices")) {
          JsonNode d = c.path("delta");
          if (d.hasNonNull("reasoning_content")) {
            if (!inReasoning) {
              out.print("[thinking] ");
              inReasoning = true;
            }
            out.print(d.get("reasoning_content").asText());
          }
          if (d.hasNonNull("content") && !d.get("content").asText().isEmpty()) {
            if (inReasoning) {
              out.print("\n[answer] ");
              inReasoning = false;
            }
            out.print(d.get("content").asText());
            content.append(d.get("content").asText());
          }
          if (c.hasNonNull("finish_reason")) {
            finish = c.get("finish_reason").asText();
          }
          out.flush();
        }
      }
    }
    out.println("length".equals(finish) ? " [max tokens]" : "");
    return content.toString();
  }
}
