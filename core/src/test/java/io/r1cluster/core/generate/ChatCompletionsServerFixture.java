package io.r1cluster.core.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test fixture: an in-process HTTP server that speaks the OpenAI chat-completions protocol with
 * canned answers. {@code POST /v1/chat/completions} answers the last user message with the first
 * {@code n} of the canned choices for it; {@code GET /v1/models} lists one model. Failures can be
 * injected: the first k requests get HTTP 503, or every request gets a given status or body. With
 * {@link #requireApiKey} every request without {@code Authorization: Bearer KEY} gets HTTP 401, as
 * vLLM started with {@code --api-key} answers.
 */
public final class ChatCompletionsServerFixture implements AutoCloseable {
  public static final String MODEL = "fixture-teacher";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One canned choice: content and optional reasoning_content (vLLM's reasoning parser). */
  public record Choice(String content, String reasoning) {
    public static Choice of(String content) {
      return new Choice(content, null);
    }
  }

  private final HttpServer server;
  private final java.util.concurrent.ExecutorService executor = java.util.concurrent.Executors.newFixedThreadPool(4);
  private final Map<String, List<Choice>> canned = new ConcurrentHashMap<>();
  private final List<JsonNode> requests = new CopyOnWriteArrayList<>();
  private final AtomicInteger failFirst = new AtomicInteger();
  private volatile int alwaysStatus;
  private volatile String alwaysBody;
  private volatile String apiKey;

  public ChatCompletionsServerFixture() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/v1/models", ex -> {
      if (!authorised(ex)) {
        return;
      }
      ObjectNode r = JSON.createObjectNode();
      r.put("object", "list");
      r.putArray("data").addObject().put("id", MODEL).put("object", "model");
      reply(ex, 200, r.toString());
    });
    server.createContext("/v1/chat/completions", this::complete);
    server.setExecutor(executor);
    server.start();
  }

  /** The API base, as {@code teacher_url} takes it. */
  public String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  public ChatCompletionsServerFixture answer(String userMessage, Choice... choices) {
    canned.put(userMessage, List.of(choices));
    return this;
  }

  public ChatCompletionsServerFixture requireApiKey(String key) {
    apiKey = key;
    return this;
  }

  private boolean authorised(HttpExchange ex) throws IOException {
    if (apiKey == null || ("Bearer " + apiKey).equals(ex.getRequestHeaders().getFirst("Authorization"))) {
      return true;
    }
    reply(ex, 401, "{\"error\": \"Unauthorized\"}");
    return false;
  }

  public ChatCompletionsServerFixture failFirst(int k) {
    failFirst.set(k);
    return this;
  }

  public ChatCompletionsServerFixture always(int status, String body) {
    alwaysStatus = status;
    alwaysBody = body;
    return this;
  }

  /** Bodies of the chat-completion requests received (failed ones included). */
  public List<JsonNode> requests() {
    return requests;
  }

  private void complete(HttpExchange ex) throws IOException {
    JsonNode req = JSON.readTree(ex.getRequestBody());
    requests.add(req);
    if (!authorised(ex)) {
      return;
    }
    if (alwaysStatus != 0) {
      reply(ex, alwaysStatus, alwaysBody);
      return;
    }
    if (failFirst.getAndUpdate(k -> Math.max(0, k - 1)) > 0) {
      reply(ex, 503, "{\"error\": \"overloaded\"}");
      return;
    }
    JsonNode msgs = req.path("messages");
    String user = msgs.get(msgs.size() - 1).path("content").asText();
    List<Choice> choices = canned.get(user);
    if (choices == null) {
      reply(ex, 400, "{\"error\": \"no canned answer for " + user + "\"}");
      return;
    }
    int n = req.path("n").asInt(1);
    ObjectNode r = JSON.createObjectNode();
    r.put("id", "chatcmpl-fixture");
    r.put("object", "chat.completion");
    r.put("model", req.path("model").asText());
    ArrayNode arr = r.putArray("choices");
    for (int i = n - 1; i >= 0; i--) { // reversed: clients must order by index
      Choice c = choices.get(i % choices.size());
      ObjectNode ch = arr.addObject();
      ch.put("index", i);
      ObjectNode m = ch.putObject("message");
      m.put("role", "assistant");
      m.put("content", c.content());
      if (c.reasoning() != null) {
        m.put("reasoning_content", c.reasoning());
      }
      ch.put("finish_reason", "stop");
    }
    reply(ex, 200, r.toString());
  }

  private static void reply(HttpExchange ex, int status, String body) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", "application/json");
    ex.sendResponseHeaders(status, b.length);
    try (OutputStream o = ex.getResponseBody()) {
      o.write(b);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
