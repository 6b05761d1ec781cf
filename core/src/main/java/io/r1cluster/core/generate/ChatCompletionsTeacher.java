package io.r1cluster.core.generate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Prompt;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;

/**
 * A teacher behind an OpenAI-compatible chat-completions endpoint (vLLM's {@code vllm serve},
 * SGLang, TGI, the OpenAI API).
 *
 * <p>URL convention, as the OpenAI client (and so open-r1's {@code generate.py} through distilabel)
 * takes it: {@code teacher_url} is the API base, e.g. {@code http://host:8000/v1}, and requests go
 * to {@code {teacher_url}/chat/completions}; a URL that already ends in {@code /chat/completions}
 * is used as given. One request per prompt:
 *
 * <pre>
 * POST {base}/chat/completions
 * {"model": M, "messages": [{role, content}…], "n": N, "temperature": τ, "top_p": p,
 *  "max_tokens": L, "seed": S}
 * → {"choices": [{"index": i, "message": {"content": …, "reasoning_content": …}}, …]}
 * </pre>
 *
 * A choice's text is its {@code content}; when the server splits the reasoning off (vLLM's
 * reasoning parser: {@code reasoning_content}) the text is {@code <think>\nREASONING\n</think>\nCONTENT}.
 * The model name M is {@code teacher_model}, or, when that is unset, the first id of
 * {@code GET {base}/models} (vLLM serves one model).
 *
 * <p>Failures: connection errors, timeouts, HTTP 5xx and 429 are retried ({@code attempts} in all,
 * with doubling back-off); other HTTP errors, unparsable bodies and a choice count other than N fail
 * at once. Every failure is a {@link TeacherException} naming the URL.
 *
 * <p>{@link #withApiKey} adds {@code Authorization: Bearer KEY} to every request (the OpenAI API, and
 * vLLM started with {@code --api-key}). The endpoint returns text only: {@link #withTokenizer} gives
 * each answer the token ids of the student's tokenizer, which rewards that count tokens need.
 */
public final class ChatCompletionsTeacher implements TraceTeacher {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Timeouts, retries and parallel requests. */
  public record Options(Duration timeout, int attempts, Duration backoff, int concurrency) {
    public static Options defaults() {
      return new Options(Duration.ofMinutes(10), 4, Duration.ofSeconds(1), 8);
    }
  }

  /** The endpoint failed or answered something that is not a chat completion. */
  public static final class TeacherException extends RuntimeException {
    public TeacherException(String message) {
      super(message);
    }
  }

  private final String endpoint;
  private final String base;
  private String model;
  private final double temperature;
  private final double topP;
  private final int maxTokens;
  private final Options options;
  private final HttpClient http;
  private final ExecutorService pool;
  private String apiKey;
  private Function<String, int[]> tokenize = text -> new int[0];

  public ChatCompletionsTeacher(String url, String model, double temperature, double topP, int maxTokens, Options options) {
    String u = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    this.endpoint = u.endsWith("/chat/completions") ? u : u + "/chat/completions";
    this.base = endpoint.substring(0, endpoint.length() - "/chat/completions".length());
    this.temperature = temperature;
    this.topP = topP;
    this.maxTokens = maxTokens;
    this.options = options;
    this.http = HttpClient.newBuilder().connectTimeout(options.timeout()).build();
    this.pool = Executors.newFixedThreadPool(Math.max(1, options.concurrency()), r -> {
      Thread t = new Thread(r, "teacher-http");
      t.setDaemon(true);
      return t;
    });
    this.model = model;
  }

  /** Sends {@code Authorization: Bearer apiKey} with every request, over https or to a loopback host only. */
  public ChatCompletionsTeacher withApiKey(String apiKey) {
    return withApiKey(apiKey, false);
  }

  /**
   * Sends {@code Authorization: Bearer apiKey} with every request; null or blank sends none. The key
   * goes only over https or to a loopback host ({@link #keyTravelsSafely}) unless
   * {@code allowInsecureHttp} (the recipe's {@code teacher_allow_insecure_http: true}); otherwise this
   * throws before any request. The key is never part of a message, {@link #describe()} or a log line.
   */
  public ChatCompletionsTeacher withApiKey(String apiKey, boolean allowInsecureHttp) {
    String k = apiKey == null || apiKey.isBlank() ? null : apiKey.strip();
    if (k != null && !allowInsecureHttp && !keyTravelsSafely(endpoint)) {
      throw new TeacherException(endpoint + ": refusing to send the teacher API key over plain http to a"
          + " non-loopback host (anyone on the path could read it); use https, a loopback host, or set"
          + " teacher_allow_insecure_http: true");
    }
    this.apiKey = k;
    return this;
  }

  /**
   * Whether a bearer key may go to {@code url}: https, or http to a loopback host ({@code localhost},
   * {@code 127.0.0.0/8}, {@code ::1}). Names other than {@code localhost} are not resolved: a name
   * counts as remote whatever it resolves to.
   */
  public static boolean keyTravelsSafely(String url) {
    URI u;
    try {
      u = URI.create(url.strip());
    } catch (IllegalArgumentException e) {
      return false;
    }
    String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (scheme.equals("https")) {
      return true;
    }
    if (!scheme.equals("http") || u.getHost() == null) {
      return false;
    }
    String host = u.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    if (host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.contains(":")) {
      try {
        return java.net.InetAddress.getByName(host).isLoopbackAddress(); // a literal: no lookup
      } catch (java.net.UnknownHostException e) {
        return false;
      }
    }
    return false;
  }

  /** Token ids for each answer's text (by default none: the endpoint sends text only). */
  public ChatCompletionsTeacher withTokenizer(Function<String, int[]> tokenize) {
    this.tokenize = tokenize;
    return this;
  }

  /** The model requests name: {@code teacher_model}, or the endpoint's first listed model (asked once). */
  private synchronized String model() {
    if (model == null) {
      model = servedModel();
    }
    return model;
  }

  private HttpRequest.Builder request(URI uri) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(options.timeout());
    return apiKey == null ? b : b.header("Authorization", "Bearer " + apiKey);
  }

  /** The URL requests go to. */
  public String endpoint() {
    return endpoint;
  }

  @Override
  public String describe() {
    return "endpoint " + endpoint + " (model " + model() + ")";
  }

  @Override
  public List<List<Answer>> answer(List<Prompt> prompts, int n, long seed) {
    List<Future<List<Answer>>> futures = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      Prompt p = prompts.get(i);
      long s = seed + i;
      futures.add(pool.submit(() -> complete(p, n, s)));
    }
    List<List<Answer>> out = new ArrayList<>();
    try {
      for (Future<List<Answer>> f : futures) {
        out.add(f.get());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TeacherException("interrupted while waiting for " + endpoint);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException re ? re : new TeacherException(e.getCause().toString());
    } finally {
      futures.forEach(f -> f.cancel(true));
    }
    return out;
  }

  private List<Answer> complete(Prompt p, int n, long seed) throws InterruptedException {
    ObjectNode body = JSON.createObjectNode();
    body.put("model", model());
    ArrayNode msgs = body.putArray("messages");
    for (ChatMessage m : p.messages()) {
      msgs.addObject().put("role", m.role()).put("content", m.content());
    }
    body.put("n", n);
    body.put("temperature", temperature);
    body.put("top_p", topP);
    body.put("max_tokens", maxTokens);
    body.put("seed", seed);
    HttpRequest req = request(URI.create(endpoint))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
    JsonNode res = send(req, "prompt " + p.id());
    JsonNode choices = res.path("choices");
    if (!choices.isArray() || choices.size() != n) {
      throw new TeacherException(endpoint + ": prompt " + p.id() + ": expected " + n + " choices, got "
          + (choices.isArray() ? choices.size() : "none") + ": " + snippet(res.toString()));
    }
    Answer[] out = new Answer[n];
    for (int i = 0; i < n; i++) {
      JsonNode c = choices.get(i);
      int idx = c.path("index").asInt(i);
      JsonNode msg = c.path("message");
      if (idx < 0 || idx >= n || out[idx] != null || !msg.path("content").isTextual() && !msg.path("reasoning_content").isTextual()) {
        throw new TeacherException(endpoint + ": prompt " + p.id() + ": choice " + i + " is not a chat message: "
            + snippet(c.toString()));
      }
      String content = msg.path("content").isTextual() ? msg.path("content").asText() : "";
      String reasoning = msg.path("reasoning_content").isTextual() ? msg.path("reasoning_content").asText() : null;
      String text = reasoning == null ? content : "<think>\n" + reasoning + "\n</think>\n" + content;
      out[idx] = new Answer(text, tokenize.apply(text));
    }
    return List.of(out);
  }

  /** Sends with retries; returns the parsed JSON body of a 2xx answer. */
  private JsonNode send(HttpRequest req, String what) throws InterruptedException {
    String last = null;
    long wait = options.backoff().toMillis();
    for (int attempt = 1; attempt <= options.attempts(); attempt++) {
      try {
        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
        int code = r.statusCode();
        if (code / 100 == 2) {
          try {
            return JSON.readTree(r.body());
          } catch (IOException e) {
            throw new TeacherException(req.uri() + ": " + what + ": the answer is not JSON: " + snippet(r.body()));
          }
        }
        last = "HTTP " + code + ": " + snippet(r.body());
        if (code / 100 != 5 && code != 429) {
          throw new TeacherException(req.uri() + ": " + what + ": " + last);
        }
      } catch (IOException e) {
        last = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      }
      if (attempt < options.attempts()) {
        Thread.sleep(wait);
        wait *= 2;
      }
    }
    throw new TeacherException(req.uri() + ": " + what + ": failed after " + options.attempts() + " attempts; last: " + last);
  }

  private String servedModel() {
    HttpRequest req = request(URI.create(base + "/models")).GET().build();
    try {
      JsonNode data = send(req, "listing models (no teacher_model given)").path("data");
      if (!data.isArray() || data.isEmpty() || !data.get(0).path("id").isTextual()) {
        throw new TeacherException(base + "/models: no model listed; set teacher_model to the served model name");
      }
      return data.get(0).path("id").asText();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TeacherException("interrupted while asking " + base + "/models");
    }
  }

  private static String snippet(String s) {
    if (s == null) {
      return "";
    }
    String t = s.replace('\n', ' ');
    return t.length() > 200 ? t.substring(0, 200) + "…" : t;
  }

  @Override
  public void close() {
    pool.shutdownNow();
  }
}
