package io.r1cluster.actors.serve;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.generate.SamplingParams;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A validated {@code POST /v1/chat/completions} or {@code /v1/completions} body: the prompt as
 * token ids and the sampling settings. Every field is checked for type and range; a bad one is an
 * {@link ApiException} 400 naming it. Fields this server does not know are ignored (clients send
 * {@code user}, {@code metadata}, …), as vLLM does.
 *
 * <pre>
 * field                      chat  completions  default
 * model                      yes   yes          the served model (404 when another)
 * messages                   yes   -            required: [{role, content: str | [{type: text, text}]}]
 * prompt                     -     yes          required: str | [str] (one) | [int…] (token ids)
 * max_tokens, max_completion_tokens            context length − prompt length
 * temperature                                   1.0 (0 = greedy), 0..2
 * top_p, top_k, min_p                           1.0, 0 or -1 (off), 0.0
 * n                                             1, 1..16
 * stop                                          str | [str], up to 16
 * seed                                          random
 * logprobs                   bool  int 0..20    false / none
 * top_logprobs               0..20 -            0 (needs logprobs: true)
 * stream, stream_options.include_usage         false
 * chat_template_kwargs       object -           {} (e.g. enable_thinking)
 * ignore_eos (vLLM)                             false: generate max_tokens whatever EOS says (benchmarks)
 * </pre>
 */
public record ApiRequest(
    boolean chat,
    int[] promptIds,
    boolean promptOpensThinking,
    SamplingParams params,
    int n,
    Long seed,
    boolean logprobs,
    int topLogprobs,
    boolean stream,
    boolean includeUsage) {

  public static final int MAX_N = 16;
  public static final int MAX_TOP_LOGPROBS = 20;
  private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");

  /** Parses a request body; {@code model} supplies the template, tokenizer, EOS ids and context length. */
  public static ApiRequest parse(String body, boolean chat, ServedModel model, ObjectMapper json) {
    JsonNode root;
    try {
      root = json.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiException.badField(null, "the body is not valid JSON: " + e.getOriginalMessage());
    }
    if (root == null || !root.isObject()) {
      throw ApiException.badField(null, "the body must be a JSON object");
    }
    JsonNode m = root.get("model");
    if (m != null && !m.isNull()) {
      if (!m.isTextual()) {
        throw ApiException.badField("model", "must be a string");
      }
      if (!m.asText().equals(model.id())) {
        throw new ApiException(404, "invalid_request_error", "model", "model_not_found",
            "The model '" + m.asText() + "' does not exist; this server serves '" + model.id() + "'");
      }
    }
    int[] ids;
    boolean opensThinking = false;
    if (chat) {
      if (model.template() == null) {
        throw ApiException.badField("messages", "this model's tokenizer has no chat template; use /v1/completions");
      }
      List<Map<String, Object>> messages = messages(root.get("messages"));
      Map<String, Object> kwargs = new LinkedHashMap<>();
      JsonNode k = root.get("chat_template_kwargs");
      if (k != null && !k.isNull()) {
        if (!k.isObject()) {
          throw ApiException.badField("chat_template_kwargs", "must be an object");
        }
        kwargs.putAll(json.convertValue(k, Map.class));
      }
      String text;
      try {
        text = model.template().render(messages, true, kwargs);
      } catch (InputException e) {
        throw ApiException.badField("messages", "the chat template refused them: " + e.getMessage());
      } catch (RuntimeException e) {
        throw ApiException.badField("messages", "the chat template failed on them: " + e);
      }
      opensThinking = text.stripTrailing().endsWith("<think>");
      ids = model.tokenizer().encode(text);
    } else {
      ids = prompt(root.get("prompt"), model);
    }
    if (ids.length == 0) {
      throw ApiException.badField(chat ? "messages" : "prompt", "the prompt has no tokens");
    }
    int room = model.contextLength() - ids.length;
    if (room < 1) {
      throw ApiException.badField(chat ? "messages" : "prompt", "the prompt has " + ids.length
          + " tokens; this model's context length is " + model.contextLength());
    }
    String maxKey = has(root, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    Integer maxTokens = optInt(root, maxKey, 1, Integer.MAX_VALUE);
    if (maxTokens != null && maxTokens > room) {
      throw ApiException.badField(maxKey, maxTokens + " tokens requested, but the prompt has " + ids.length
          + " of the context length " + model.contextLength() + " (at most " + room + " left)");
    }
    double temperature = optDouble(root, "temperature", 0, 2, 1.0);
    double topP = optDouble(root, "top_p", 0, 1, 1.0);
    if (topP == 0) {
      throw ApiException.badField("top_p", "must be greater than 0");
    }
    Integer topK = optInt(root, "top_k", -1, Integer.MAX_VALUE);
    double minP = optDouble(root, "min_p", 0, 1, 0.0);
    if (minP >= 1) {
      throw ApiException.badField("min_p", "must be less than 1");
    }
    Integer n = optInt(root, "n", 1, MAX_N);
    List<String> stop = stop(root.get("stop"));
    Long seed = null;
    JsonNode s = root.get("seed");
    if (s != null && !s.isNull()) {
      if (!s.isIntegralNumber() || !s.canConvertToLong()) {
        throw ApiException.badField("seed", "must be an integer");
      }
      seed = s.asLong();
    }
    boolean logprobs;
    int top;
    if (chat) {
      logprobs = optBool(root, "logprobs");
      Integer t = optInt(root, "top_logprobs", 0, MAX_TOP_LOGPROBS);
      top = t == null ? 0 : t;
      if (top > 0 && !logprobs) {
        throw ApiException.badField("top_logprobs", "needs \"logprobs\": true");
      }
    } else {
      Integer lp = optInt(root, "logprobs", 0, MAX_TOP_LOGPROBS);
      logprobs = lp != null;
      top = lp == null ? 0 : lp;
    }
    boolean stream = optBool(root, "stream");
    boolean includeUsage = false;
    JsonNode so = root.get("stream_options");
    if (so != null && !so.isNull()) {
      if (!so.isObject()) {
        throw ApiException.badField("stream_options", "must be an object");
      }
      if (!stream) {
        throw ApiException.badField("stream_options", "only allowed with \"stream\": true");
      }
      includeUsage = optBool(so, "include_usage", "stream_options.include_usage");
    }
    boolean ignoreEos = optBool(root, "ignore_eos");
    SamplingParams sp = new SamplingParams(temperature, topP, topK == null ? 0 : Math.max(0, topK), minP,
        maxTokens == null ? room : maxTokens, ignoreEos ? List.of() : model.eosIds(), stop);
    return new ApiRequest(chat, ids, opensThinking, sp, n == null ? 1 : n, seed, logprobs, top, stream, includeUsage);
  }

  private static List<Map<String, Object>> messages(JsonNode ms) {
    if (ms == null || ms.isNull()) {
      throw ApiException.badField("messages", "is required");
    }
    if (!ms.isArray() || ms.isEmpty()) {
      throw ApiException.badField("messages", "must be a non-empty array of {role, content}");
    }
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < ms.size(); i++) {
      String at = "messages[" + i + "]";
      JsonNode m = ms.get(i);
      if (!m.isObject()) {
        throw ApiException.badField(at, "must be an object {role, content}");
      }
      JsonNode role = m.get("role");
      if (role == null || !role.isTextual() || !ROLES.contains(role.asText())) {
        throw ApiException.badField(at + ".role", "must be one of " + ROLES);
      }
      Map<String, Object> mm = new LinkedHashMap<>();
      mm.put("role", role.asText());
      mm.put("content", content(m.get("content"), at + ".content", role.asText()));
      JsonNode rc = m.get("reasoning_content");
      if (rc != null && rc.isTextual()) {
        mm.put("reasoning_content", rc.asText());
      }
      out.add(mm);
    }
    return out;
  }

  private static String content(JsonNode c, String at, String role) {
    if (c == null || c.isNull()) {
      if (role.equals("assistant")) {
        return "";
      }
      throw ApiException.badField(at, "is required");
    }
    if (c.isTextual()) {
      return c.asText();
    }
    if (c.isArray()) {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < c.size(); i++) {
        JsonNode part = c.get(i);
        JsonNode type = part.get("type");
        JsonNode text = part.get("text");
        if (!part.isObject() || type == null || !"text".equals(type.asText()) || text == null || !text.isTextual()) {
          throw ApiException.badField(at + "[" + i + "]", "only {\"type\": \"text\", \"text\": …} parts are supported");
        }
        sb.append(text.asText());
      }
      return sb.toString();
    }
    throw ApiException.badField(at, "must be a string or an array of text parts");
  }

  private static int[] prompt(JsonNode p, ServedModel model) {
    if (p == null || p.isNull()) {
      throw ApiException.badField("prompt", "is required");
    }
    if (p.isTextual()) {
      return model.tokenizer().encode(p.asText());
    }
    if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) {
      return model.tokenizer().encode(p.get(0).asText());
    }
    if (p.isArray() && !p.isEmpty()) {
      int vocab = model.model().config().vocabSize();
      int[] ids = new int[p.size()];
      for (int i = 0; i < ids.length; i++) {
        JsonNode x = p.get(i);
        if (!x.isIntegralNumber() || !x.canConvertToInt() || x.asInt() < 0 || x.asInt() >= vocab) {
          throw ApiException.badField("prompt", "must be a string, a one-string array or token ids in [0, "
              + vocab + "); element " + i + " is " + x);
        }
        ids[i] = x.asInt();
      }
      return ids;
    }
    throw ApiException.badField("prompt", "must be a string, a one-string array or an array of token ids"
        + " (several prompts per request are not supported)");
  }

  private static List<String> stop(JsonNode s) {
    if (s == null || s.isNull()) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    if (s.isTextual()) {
      out.add(s.asText());
    } else if (s.isArray() && s.size() <= 16) {
      for (Iterator<JsonNode> it = s.elements(); it.hasNext(); ) {
        JsonNode x = it.next();
        if (!x.isTextual()) {
          throw ApiException.badField("stop", "must be a string or an array of strings");
        }
        out.add(x.asText());
      }
    } else {
      throw ApiException.badField("stop", "must be a string or an array of at most 16 strings");
    }
    if (out.stream().anyMatch(String::isEmpty)) {
      throw ApiException.badField("stop", "stop strings must not be empty");
    }
    return out;
  }

  private static boolean has(JsonNode root, String key) {
    JsonNode v = root.get(key);
    return v != null && !v.isNull();
  }

  private static Integer optInt(JsonNode root, String key, int min, int max) {
    JsonNode v = root.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw ApiException.badField(key, "must be an integer, got " + abbreviate(v));
    }
    int x = v.asInt();
    if (x < min || x > max) {
      throw ApiException.badField(key, "must be in [" + min + ", " + (max == Integer.MAX_VALUE ? "∞" : max) + "], got " + x);
    }
    return x;
  }

  private static double optDouble(JsonNode root, String key, double min, double max, double dflt) {
    JsonNode v = root.get(key);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isNumber()) {
      throw ApiException.badField(key, "must be a number, got " + abbreviate(v));
    }
    double x = v.asDouble();
    if (!(x >= min && x <= max)) {
      throw ApiException.badField(key, "must be in [" + min + ", " + max + "], got " + x);
    }
    return x;
  }

  private static boolean optBool(JsonNode root, String key) {
    return optBool(root, key, key);
  }

  private static boolean optBool(JsonNode root, String key, String name) {
    JsonNode v = root.get(key);
    if (v == null || v.isNull()) {
      return false;
    }
    if (!v.isBoolean()) {
      throw ApiException.badField(name, "must be true or false, got " + abbreviate(v));
    }
    return v.asBoolean();
  }

  private static String abbreviate(JsonNode v) {
    String s = v.toString();
    return s.length() > 40 ? s.substring(0, 40) + "…" : s;
  }
}
