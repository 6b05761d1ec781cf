package io.r1cluster.actors.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** r1 serve on the demo model, exercised with a real HTTP client on loopback. */
@Timeout(300)
class OpenAiServerTest {
  static final String KEY = "sk-test-123";
  static Serving serving;
  static Http http;

  @BeforeAll
  static void start() {
    serving = Serving.start("demo", Device.cpu(), Serving.Options.defaults().withPort(0).withApiKey(KEY).withQueue(8, 32));
    http = new Http(serving, KEY);
  }

  @AfterAll
  static void stop() {
    if (serving != null) {
      serving.close();
    }
  }

  static String chat(String content, int maxTokens, long seed, double temperature, String extra) {
    return "{\"model\": \"demo\", \"messages\": [{\"role\": \"user\", \"content\": \"" + content + "\"}], \"max_tokens\": "
        + maxTokens + ", \"seed\": " + seed + ", \"temperature\": " + temperature + extra + "}";
  }

  @Test
  void healthAndModelsAndAuth() throws Exception {
    Http anonymous = new Http(serving, null);
    assertEquals(200, anonymous.get("/health").status());
    Http.Reply models = http.get("/v1/models");
    assertEquals(200, models.status());
    assertEquals("list", models.body().get("object").asText());
    assertEquals("demo", models.body().get("data").get(0).get("id").asText());
    for (Http h : List.of(anonymous, new Http(serving, "sk-wrong"))) {
      Http.Reply r = h.get("/v1/models");
      assertEquals(401, r.status());
      assertEquals("invalid_api_key", r.body().get("error").get("code").asText());
      assertEquals(401, h.post("/v1/chat/completions", chat("hi", 2, 1, 0, "")).status());
    }
  }

  @Test
  void chatCompletionHasUsageAndFinishReason() throws Exception {
    Http.Reply r = http.post("/v1/chat/completions", chat("What is 2+3?", 12, 7, 0, ""));
    assertEquals(200, r.status(), r.raw().body());
    JsonNode b = r.body();
    assertEquals("chat.completion", b.get("object").asText());
    assertTrue(b.get("id").asText().startsWith("chatcmpl-"));
    JsonNode c = b.get("choices").get(0);
    assertEquals("assistant", c.get("message").get("role").asText());
    assertTrue(c.get("message").get("content").isTextual());
    assertTrue(List.of("stop", "length").contains(c.get("finish_reason").asText()));
    JsonNode u = b.get("usage");
    int prompt = serving.model().tokenizer().encode(serving.model().template()
        .render(List.of(Map.of("role", "user", "content", "What is 2+3?")), true, Map.of())).length;
    assertEquals(prompt, u.get("prompt_tokens").asInt());
    assertTrue(u.get("completion_tokens").asInt() >= 1 && u.get("completion_tokens").asInt() <= 12);
    assertEquals(u.get("prompt_tokens").asInt() + u.get("completion_tokens").asInt(), u.get("total_tokens").asInt());
    if (c.get("finish_reason").asText().equals("length")) {
      assertEquals(12, u.get("completion_tokens").asInt());
    }
  }

  /** Streaming parsed as SSE gives the same text as the plain response for the same seed; usage comes last. */
  @Test
  void streamingMatchesNonStreaming() throws Exception {
    String extra = ", \"n\": 2";
    JsonNode whole = http.post("/v1/chat/completions", chat("Count to five", 24, 11, 1.0, extra)).body();
    List<JsonNode> chunks = http.stream("/v1/chat/completions",
        chat("Count to five", 24, 11, 1.0, extra + ", \"stream\": true, \"stream_options\": {\"include_usage\": true}"));
    StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
    StringBuilder[] reasoning = {new StringBuilder(), new StringBuilder()};
    String[] finish = new String[2];
    boolean[] role = new boolean[2];
    JsonNode usage = null;
    for (JsonNode ch : chunks) {
      assertEquals("chat.completion.chunk", ch.get("object").asText());
      if (ch.get("choices").isEmpty()) {
        usage = ch.get("usage");
        continue;
      }
      JsonNode c = ch.get("choices").get(0);
      int i = c.get("index").asInt();
      JsonNode d = c.get("delta");
      role[i] |= d.has("role");
      if (d.has("content")) {
        text[i].append(d.get("content").asText());
      }
      if (d.has("reasoning_content")) {
        reasoning[i].append(d.get("reasoning_content").asText());
      }
      if (!c.get("finish_reason").isNull()) {
        finish[i] = c.get("finish_reason").asText();
      }
    }
    for (int i = 0; i < 2; i++) {
      JsonNode m = whole.get("choices").get(i).get("message");
      assertTrue(role[i]);
      assertEquals(m.get("content").asText(), text[i].toString(), "choice " + i);
      assertEquals(m.has("reasoning_content") ? m.get("reasoning_content").asText() : "", reasoning[i].toString());
      assertEquals(whole.get("choices").get(i).get("finish_reason").asText(), finish[i]);
    }
    assertNotNull(usage, "include_usage sends a last chunk with usage");
    assertEquals(whole.get("usage"), usage);
  }

  @Test
  void completionsWithLogprobs() throws Exception {
    Http.Reply r = http.post("/v1/completions",
        "{\"model\": \"demo\", \"prompt\": \"The answer is\", \"max_tokens\": 6, \"temperature\": 0, \"logprobs\": 3}");
    assertEquals(200, r.status(), r.raw().body());
    JsonNode c = r.body().get("choices").get(0);
    assertEquals("text_completion", r.body().get("object").asText());
    JsonNode lp = c.get("logprobs");
    int n = r.body().get("usage").get("completion_tokens").asInt();
    assertEquals(n, lp.get("tokens").size());
    assertEquals(n, lp.get("token_logprobs").size());
    for (int i = 0; i < n; i++) {
      double chosen = lp.get("token_logprobs").get(i).asDouble();
      assertTrue(chosen <= 0);
      JsonNode top = lp.get("top_logprobs").get(i);
      assertTrue(top.size() >= 1 && top.size() <= 3);
      double best = Double.NEGATIVE_INFINITY;
      for (JsonNode v : top) {
        best = Math.max(best, v.asDouble());
      }
      assertEquals(best, chosen, 1e-4, "greedy picks the most likely token");
    }
  }

  @Test
  void chatLogprobsAndTopLogprobs() throws Exception {
    Http.Reply r = http.post("/v1/chat/completions", chat("Hi", 5, 3, 0, ", \"logprobs\": true, \"top_logprobs\": 4"));
    assertEquals(200, r.status(), r.raw().body());
    JsonNode content = r.body().get("choices").get(0).get("logprobs").get("content");
    assertEquals(r.body().get("usage").get("completion_tokens").asInt(), content.size());
    for (JsonNode e : content) {
      JsonNode top = e.get("top_logprobs");
      assertEquals(4, top.size());
      for (int i = 1; i < top.size(); i++) {
        assertTrue(top.get(i - 1).get("logprob").asDouble() >= top.get(i).get("logprob").asDouble());
      }
      assertEquals(top.get(0).get("logprob").asDouble(), e.get("logprob").asDouble(), 1e-4);
      assertTrue(e.get("bytes").isArray());
    }
  }

  /**
   * A stream with log-probs carries each token's entry in the chunk that carries its text (not all
   * at the end), and the values are the model's own distribution (not the temperature-scaled one the
   * token was drawn from): equal, to float tolerance, to one full forward pass over prompt and
   * completion computed here.
   */
  @Test
  void streamedLogprobsComePerTokenAndAreTheModels() throws Exception {
    List<JsonNode> chunks = http.stream("/v1/chat/completions", chat("Tell me", 12, 9, 1.7,
        ", \"logprobs\": true, \"top_logprobs\": 3, \"stream\": true, \"stream_options\": {\"include_usage\": true}"));
    List<JsonNode> entries = new ArrayList<>();
    int contentChunks = 0;
    int completion = -1;
    for (JsonNode ch : chunks) {
      if (ch.get("choices").isEmpty()) {
        completion = ch.get("usage").get("completion_tokens").asInt();
        continue;
      }
      JsonNode c = ch.get("choices").get(0);
      JsonNode d = c.get("delta");
      boolean text = d.path("content").asText("").length() + d.path("reasoning_content").asText("").length() > 0;
      if (text && c.get("finish_reason").isNull()) {
        contentChunks++;
        assertTrue(c.get("logprobs").isObject() && c.get("logprobs").get("content").size() >= 1,
            "a chunk with text carries its tokens' log-probs: " + ch);
      }
      if (c.get("logprobs").isObject()) {
        c.get("logprobs").get("content").forEach(entries::add);
      }
    }
    assertEquals(completion, entries.size(), "one entry per completion token");
    assertTrue(contentChunks >= completion / 2, contentChunks + " chunks with text for " + completion + " tokens");

    ServedModel m = serving.model();
    int[] prompt = m.tokenizer().encode(m.template().render(List.of(Map.of("role", "user", "content", "Tell me")), true,
        Map.of()));
    int[] ids = new int[prompt.length + entries.size()];
    System.arraycopy(prompt, 0, ids, 0, prompt.length);
    for (int i = 0; i < entries.size(); i++) {
      String tok = entries.get(i).get("token").asText();
      ids[prompt.length + i] = m.tokenizer().findTokenId(tok).orElseThrow(() -> new AssertionError("token " + tok));
    }
    float[][] expected = logSoftmaxRows(m, ids, prompt.length);
    for (int i = 0; i < entries.size(); i++) {
      JsonNode e = entries.get(i);
      assertEquals(expected[i][ids[prompt.length + i]], e.get("logprob").asDouble(), 2e-3, "token " + i);
      JsonNode top = e.get("top_logprobs");
      assertEquals(3, top.size());
      for (int t = 0; t < 3; t++) {
        int id = m.tokenizer().findTokenId(top.get(t).get("token").asText()).orElseThrow();
        assertEquals(expected[i][id], top.get(t).get("logprob").asDouble(), 2e-3, "token " + i + " top " + t);
        assertTrue(t == 0 || top.get(t - 1).get("logprob").asDouble() >= top.get(t).get("logprob").asDouble());
      }
    }
  }

  /** Log-softmax of the logits that predict positions from..ids.length-1, by one forward pass. */
  static float[][] logSoftmaxRows(ServedModel m, int[] ids, int from) {
    int t = ids.length - 1;
    long[][] in = new long[1][t];
    long[][] seg = new long[1][t];
    long[][] pos = new long[1][t];
    for (int i = 0; i < t; i++) {
      in[0][i] = ids[i];
      seg[0][i] = 1;
      pos[0][i] = i;
    }
    int vocab = m.model().config().vocabSize();
    float[] logits;
    try (ai.djl.ndarray.NDManager s = ai.djl.ndarray.NDManager.newBaseManager(m.model().device())) {
      logits = m.model().logits(s, s.create(in), s.create(seg), s.create(pos)).get("0, " + (from - 1) + ":, :")
          .toFloatArray();
    }
    float[][] out = new float[ids.length - from][];
    for (int i = 0; i < out.length; i++) {
      out[i] = io.r1cluster.core.serve.TopLogprobs.logSoftmax(java.util.Arrays.copyOfRange(logits, i * vocab,
          (i + 1) * vocab));
    }
    return out;
  }

  /** A stop string ends the text before it (not included), finish_reason stop. */
  @Test
  void stopStringCutsTheText() throws Exception {
    JsonNode free = http.post("/v1/completions",
        "{\"prompt\": \"abc\", \"max_tokens\": 40, \"temperature\": 0, \"seed\": 1}").body();
    String text = free.get("choices").get(0).get("text").asText();
    assertTrue(text.length() >= 8, "demo output long enough to cut: '" + text + "'");
    String stop = text.substring(4, 6);
    String expected = text.substring(0, text.indexOf(stop));
    for (boolean stream : new boolean[] {false, true}) {
      String body = "{\"prompt\": \"abc\", \"max_tokens\": 40, \"temperature\": 0, \"seed\": 1, \"stop\": [\""
          + Http.JSON.writeValueAsString(stop).replaceAll("^\"|\"$", "") + "\"], \"logprobs\": 1, \"stream\": " + stream + "}";
      if (!stream) {
        JsonNode c = http.post("/v1/completions", body).body().get("choices").get(0);
        assertEquals(expected, c.get("text").asText());
        assertEquals("stop", c.get("finish_reason").asText());
        assertTrue(c.get("logprobs").get("tokens").size() >= 1, "log-probs still come after a stop string");
      } else {
        StringBuilder sb = new StringBuilder();
        String fin = null;
        for (JsonNode ch : http.stream("/v1/completions", body)) {
          JsonNode c = ch.get("choices").get(0);
          sb.append(c.get("text").asText());
          fin = c.get("finish_reason").isNull() ? fin : c.get("finish_reason").asText();
        }
        assertEquals(expected, sb.toString());
        assertEquals("stop", fin);
      }
    }
  }

  @Test
  void badRequestsName400Field() throws Exception {
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": \"hot\"}", "temperature");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"temperature\": 3}", "temperature");
    cases.put("{\"max_tokens\": 3}", "messages");
    cases.put("{\"messages\": []}", "messages");
    cases.put("{\"messages\": [{\"role\": \"wizard\", \"content\": \"x\"}]}", "messages[0].role");
    cases.put("{\"messages\": [{\"role\": \"user\"}]}", "messages[0].content");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 0}", "n");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": -1}", "max_tokens");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_tokens\": 100000}", "max_tokens");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"max_completion_tokens\": 0}",
        "max_completion_tokens");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stop\": 5}", "stop");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_logprobs\": 2}", "top_logprobs");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"seed\": 1.5}", "seed");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"stream\": \"yes\"}", "stream");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"chat_template_kwargs\": [1]}",
        "chat_template_kwargs");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 0}", "top_p");
    cases.put("{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"min_p\": 1}", "min_p");
    for (Map.Entry<String, String> e : cases.entrySet()) {
      Http.Reply r = http.post("/v1/chat/completions", e.getKey());
      assertEquals(400, r.status(), e.getKey() + " → " + r.raw().body());
      assertEquals(e.getValue(), r.body().get("error").get("param").asText(), e.getKey());
      assertEquals("invalid_request_error", r.body().get("error").get("type").asText());
    }
    Http.Reply notJson = http.post("/v1/chat/completions", "{\"messages\": [");
    assertEquals(400, notJson.status());
    assertTrue(notJson.body().get("error").get("param").isNull());
    Http.Reply badPrompt = http.post("/v1/completions", "{\"prompt\": {\"a\": 1}}");
    assertEquals(400, badPrompt.status());
    assertEquals("prompt", badPrompt.body().get("error").get("param").asText());
  }

  @Test
  void unknownModelAndRoute404WrongMethod405() throws Exception {
    Http.Reply r = http.post("/v1/chat/completions", "{\"model\": \"gpt-4\", \"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}");
    assertEquals(404, r.status());
    assertEquals("model_not_found", r.body().get("error").get("code").asText());
    assertEquals(404, http.get("/v1/nope").status());
    assertEquals(405, http.get("/v1/chat/completions").status());
    assertNotNull(http.get("/v1/nope").body().get("error"));
  }

  /** 16 clients at once (half streaming) all get their answers, the same as when sent one by one. */
  @Test
  void sixteenConcurrentClients() throws Exception {
    int clients = 16;
    List<String> alone = new ArrayList<>();
    for (int i = 0; i < clients; i++) {
      alone.add(http.post("/v1/chat/completions", chat("q" + i, 10, 100 + i, 1.0, "")).body()
          .get("choices").get(0).get("message").get("content").asText());
    }
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    try {
      List<Future<String>> fs = new ArrayList<>();
      for (int i = 0; i < clients; i++) {
        int k = i;
        fs.add(pool.submit(() -> {
          if (k % 2 == 0) {
            Http.Reply r = http.post("/v1/chat/completions", chat("q" + k, 10, 100 + k, 1.0, ""));
            assertEquals(200, r.status(), r.raw().body());
            return r.body().get("choices").get(0).get("message").get("content").asText();
          }
          StringBuilder sb = new StringBuilder();
          for (JsonNode ch : http.stream("/v1/chat/completions", chat("q" + k, 10, 100 + k, 1.0, ", \"stream\": true"))) {
            JsonNode d = ch.get("choices").get(0).get("delta");
            if (d.has("content")) {
              sb.append(d.get("content").asText());
            }
          }
          return sb.toString();
        }));
      }
      for (int i = 0; i < clients; i++) {
        assertEquals(alone.get(i), fs.get(i).get(120, TimeUnit.SECONDS), "client " + i);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * A streaming client that hangs up after its first event has its row freed at once: the engine
   * goes idle and has generated a small part of max_tokens. The client is a plain socket. "fin":
   * it sends the FIN a close sends when nothing is left unread, and then neither reads nor closes,
   * so the server can only learn of it from its connection's read side (writes keep succeeding
   * into the socket buffers); "close": it closes the socket with tokens unread (the kernel resets
   * the connection).
   */
  @ParameterizedTest
  @ValueSource(strings = {"fin", "close"})
  void streamingClientThatHangsUpFreesItsRow(String how) throws Exception {
    long before = engineTokens();
    try (java.net.Socket s = http.rawPost("/v1/completions", "{\"prompt\": \"tell me a long story\", \"max_tokens\": "
        + DISCONNECT_MAX + ", \"ignore_eos\": true, \"temperature\": 1, \"stream\": true, \"seed\": 5}")) {
      String got = Http.readUntil(s.getInputStream(), "data: {");
      assertTrue(got.startsWith("HTTP/1.1 200"), got);
      if (how.equals("fin")) {
        s.shutdownOutput();
        assertHangUpFreedTheRow(before);
        return;
      }
    }
    assertHangUpFreedTheRow(before);
  }

  /** The same for a plain (non-streaming) request: the client hangs up while its answer is being generated. */
  @Test
  void plainClientThatHangsUpFreesItsRow() throws Exception {
    long before = engineTokens();
    try (java.net.Socket s = http.rawPost("/v1/completions", "{\"prompt\": \"tell me a long story\", \"max_tokens\": "
        + DISCONNECT_MAX + ", \"ignore_eos\": true, \"temperature\": 1, \"seed\": 6}")) {
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (engineTokens() == before && System.nanoTime() < until) {
        Thread.sleep(1); // hang up once the sequence is decoding
      }
      assertTrue(serving.backend().running() > 0, "the request never started");
    }
    assertHangUpFreedTheRow(before);
  }

  /**
   * The other side of hang-up detection: a client that announces "Connection: close" (and an
   * HTTP/1.0 one) has stopped sending, not listening, and still gets its whole answer.
   */
  @Test
  void connectionCloseClientsStillGetTheirAnswer() throws Exception {
    for (String version : List.of("HTTP/1.1", "HTTP/1.0")) {
      try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), serving.address().getPort())) {
        String body = "{\"prompt\": \"hi\", \"max_tokens\": 64, \"ignore_eos\": true, \"seed\": 3}";
        String head = "POST /v1/completions " + version + "\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: Bearer "
            + KEY + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n";
        s.getOutputStream().write((head + body).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        s.setSoTimeout(60_000);
        String got = new String(s.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(got.startsWith("HTTP/1.1 200"), version + ": " + got);
        JsonNode b = Http.JSON.readTree(got.substring(got.indexOf("\r\n\r\n") + 4));
        assertEquals(64, b.get("usage").get("completion_tokens").asInt(), version + ": " + got);
      }
    }
  }

  static final int DISCONNECT_MAX = 480; // the demo model's context is 512

  /** Tokens the server's engine has generated (its own counter, not the API's). */
  static long engineTokens() {
    return ((EngineBackend) serving.backend()).engines().get(0).stats().tokens();
  }

  /** Waits (10 s at most) for the engine to go idle, then checks that most of max_tokens was never generated. */
  private static void assertHangUpFreedTheRow(long before) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (serving.backend().running() > 0 && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertEquals(0, ((EngineBackend) serving.backend()).engines().get(0).load(), "the row was not freed");
    long generated = engineTokens() - before;
    System.out.println("hang-up: " + generated + " of " + DISCONNECT_MAX + " tokens generated");
    assertTrue(generated < DISCONNECT_MAX / 4, "generation went on after the hang-up: " + generated + " of "
        + DISCONNECT_MAX + " tokens");
  }

  /** Random and broken bodies never take the server down: only 200/400/404 answers, /health stays up. */
  @Test
  void fuzzedJsonNeverCrashesTheServer() throws Exception {
    java.util.Random rnd = new java.util.Random(42);
    Object[] values = {null, true, false, 0, -1, 1, 2, 0.5, -0.5, 1e9, -1e300, "", "x", "user", "\u0000\uFFFF🙂",
        List.of(), List.of(1, 2), List.of("a"), Map.of(), Map.of("role", "user", "content", "c"),
        List.of(Map.of("role", "user", "content", List.of(Map.of("type", "text", "text", "hi")))),
        List.of(Map.of("role", "assistant")), List.of(Map.of("role", 3, "content", "c")), 1L << 40, "2"};
    String[] keys = {"model", "messages", "prompt", "max_tokens", "max_completion_tokens", "temperature", "top_p",
        "top_k", "min_p", "n", "stop", "seed", "logprobs", "top_logprobs", "stream", "stream_options",
        "chat_template_kwargs", "unknown_field"};
    for (int i = 0; i < 150; i++) {
      ObjectNode body = Http.JSON.createObjectNode();
      body.putArray("messages").addObject().put("role", "user").put("content", "fuzz " + i);
      body.put("prompt", "fuzz");
      body.put("max_tokens", 2);
      int edits = 1 + rnd.nextInt(4);
      for (int e = 0; e < edits; e++) {
        String k = keys[rnd.nextInt(keys.length)];
        body.set(k, Http.JSON.valueToTree(values[rnd.nextInt(values.length)]));
      }
      if (body.path("max_tokens").isNumber() && body.get("max_tokens").asDouble() > 4) {
        body.put("max_tokens", 4); // keep the run short; range errors are covered above
      }
      body.remove("max_completion_tokens");
      body.remove("n");
      String text = body.toString();
      if (rnd.nextInt(5) == 0) {
        text = text.substring(0, rnd.nextInt(text.length())); // truncated JSON
      }
      boolean stream = body.path("stream").asBoolean(false);
      String path = rnd.nextBoolean() ? "/v1/chat/completions" : "/v1/completions";
      int status;
      if (stream) {
        HttpResponse<InputStream> r = http.open(path, text);
        status = r.statusCode();
        try (InputStream in = r.body()) {
          in.readAllBytes();
        }
      } else {
        status = http.post(path, text).status();
      }
      assertTrue(status == 200 || status == 400 || status == 404, "body " + text + " → " + status);
    }
    assertEquals(200, http.get("/health").status());
    assertEquals(200, http.post("/v1/chat/completions", chat("still alive?", 2, 1, 0, "")).status());
  }

  @Test
  void metricsAreExposed() throws Exception {
    http.post("/v1/chat/completions", chat("metrics", 3, 1, 0, ""));
    String text = new Http(serving, null).get("/metrics").raw().body();
    for (String series : List.of("r1_serve_requests_total", "r1_serve_queue_depth", "r1_serve_running_sequences",
        "r1_serve_time_to_first_token_seconds_count", "r1_serve_completion_tokens_total", "r1_serve_tokens_per_second")) {
      assertTrue(text.contains(series), series + " missing in\n" + text);
    }
    assertFalse(text.contains("r1_serve_time_to_first_token_seconds_count 0.0\n"), "TTFT observed");
  }

  /** r1 chat's session: streamed answers, the history sent each turn, /reset and /exit. */
  @Test
  void chatSessionKeepsHistoryAndResets() throws Exception {
    ChatSession chat = new ChatSession(serving.baseUrl(), new ChatSession.Settings("demo", "be brief", 6, 0, KEY));
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    java.io.PrintStream out = new java.io.PrintStream(buf, true, java.nio.charset.StandardCharsets.UTF_8);
    chat.run(new java.io.BufferedReader(new java.io.StringReader("hello\nand again\n")), out);
    assertEquals(4, chat.history().size(), "two user turns and two answers");
    assertEquals("and again", chat.history().get(2).get("content"));
    chat.run(new java.io.BufferedReader(new java.io.StringReader("/reset\nnew topic\n/exit\nnot sent\n")), out);
    assertEquals(2, chat.history().size());
    assertEquals("new topic", chat.history().get(0).get("content"));
    String text = buf.toString(java.nio.charset.StandardCharsets.UTF_8);
    assertTrue(text.contains("(new conversation)"), text);
    assertFalse(text.contains("error"), text);
  }
}
