package io.r1cluster.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The real chat templates of Qwen2.5, Qwen3, DeepSeek-V3, DeepSeek-R1-Distill and Llama 3.1 (plus a
 * probe template of Python/jinja2 semantics) on every conversation of {@code families/cases.json},
 * compared character for character with what Python jinja2, configured as transformers configures
 * it, renders ({@code families/expected.json}, written by {@code scripts/chat_template_reference.py}).
 * Where Python raises, we must raise too.
 */
class ChatTemplateFamiliesTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String DIR = "/chat_templates/families/";

  static JsonNode read(String name) throws IOException {
    try (InputStream in = ChatTemplateFamiliesTest.class.getResourceAsStream(DIR + name)) {
      return JSON.readTree(in);
    }
  }

  static String text(String name) throws IOException {
    try (InputStream in = ChatTemplateFamiliesTest.class.getResourceAsStream(DIR + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private static String token(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    return n.isObject() ? n.path("content").asText() : n.asText();
  }

  /** The template of a cases.json entry: inline source, a .jinja file, or a real tokenizer_config.json. */
  static ChatTemplate template(JsonNode spec, Clock clock) throws IOException {
    ChatTemplate t;
    if (spec.has("source")) {
      t = ChatTemplate.of(spec.get("source").asText(), token(spec.get("bos")), token(spec.get("eos")));
    } else if (spec.has("file")) {
      t = ChatTemplate.of(text(spec.get("file").asText()), token(spec.get("bos")), token(spec.get("eos")));
    } else {
      JsonNode cfg = read(spec.get("config").asText());
      t = ChatTemplate.fromConfig(cfg, token(cfg.get("bos_token")), token(cfg.get("eos_token")));
    }
    return t.withClock(clock);
  }

  static Stream<Arguments> renderings() throws IOException {
    JsonNode cases = read("cases.json");
    JsonNode expected = read("expected.json").get("results");
    List<Arguments> out = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = cases.get("templates").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> t = it.next();
      for (JsonNode c : cases.get("cases")) {
        String key = t.getKey() + "/" + c.get("name").asText();
        if (expected.has(key)) {
          out.add(Arguments.of(key, t.getValue(), c, expected.get(key)));
        }
      }
    }
    assertEquals(expected.size(), out.size(), "every expected rendering has a case");
    return out.stream();
  }

  @SuppressWarnings("unchecked")
  @ParameterizedTest(name = "{0}")
  @MethodSource("renderings")
  void rendersLikePythonJinja(String key, JsonNode templateSpec, JsonNode c, JsonNode expected) throws IOException {
    LocalDateTime now = LocalDateTime.parse(read("cases.json").get("now").asText());
    ChatTemplate t = template(templateSpec, Clock.fixed(now.toInstant(ZoneOffset.UTC), ZoneOffset.UTC));
    List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), List.class);
    Map<String, Object> extra = new LinkedHashMap<>();
    if (c.has("tools")) {
      extra.put("tools", JSON.convertValue(c.get("tools"), List.class));
    }
    if (c.has("kwargs")) {
      t = t.withKwargs(JSON.convertValue(c.get("kwargs"), Map.class));
    }
    boolean gen = c.get("add_generation_prompt").asBoolean();
    if (expected.has("error")) {
      ChatTemplate tt = t;
      InputException e = assertThrows(InputException.class, () -> tt.render(messages, gen, extra),
          "Python raised " + expected.get("error").asText());
      assertTrue(e.getMessage().startsWith("chat_template: "), e.getMessage());
    } else {
      assertEquals(expected.get("text").asText(), t.render(messages, gen, extra));
    }
  }
}
