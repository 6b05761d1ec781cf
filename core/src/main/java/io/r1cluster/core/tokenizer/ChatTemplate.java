package io.r1cluster.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.r1cluster.core.InputException;
import io.r1cluster.core.data.ChatMessage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import jinjava.javax.el.CompositeELResolver;

/**
 * A Hugging Face chat template ({@code tokenizer_config.json} {@code chat_template}) rendered with
 * Jinjava, configured like transformers' sandboxed Jinja environment: {@code trim_blocks} and
 * {@code lstrip_blocks} on; variables {@code messages} (list of maps with {@code role},
 * {@code content}), {@code add_generation_prompt}, {@code bos_token}, {@code eos_token} and extra
 * keyword arguments; a {@code raise_exception(msg)} function that surfaces as an
 * {@link InputException}; a {@code tojson} filter formatted like Python's {@code json.dumps}
 * ({@code ensure_ascii=False}); Python string methods ({@code startswith}, {@code strip}, {@code split}, ...,
 * see {@link PyStringMethods}).
 *
 * <p>Known difference from Python Jinja: a boolean printed directly ({@code {{ flag }}}) renders as
 * {@code true}, not {@code True}; real chat templates test booleans rather than print them.
 */
public final class ChatTemplate {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ThreadLocal<String> RAISED = new ThreadLocal<>();

  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Jinjava jinjava;

  private ChatTemplate(String source, String bosToken, String eosToken) {
    this.source = source;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    CompositeELResolver resolver = new CompositeELResolver();
    resolver.add(new PyStringMethods());
    resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
    JinjavaConfig config = JinjavaConfig.newBuilder()
        .withTrimBlocks(true)
        .withLstripBlocks(true)
        .withElResolver(resolver)
        .withFailOnUnknownTokens(false)
        .withLegacyOverrides(LegacyOverrides.newBuilder()
            .withUseTrimmingForNotesAndExpressions(true) // {{- x -}} trims like Jinja
            .withUseNaturalOperatorPrecedence(true)
            .withParseWhitespaceControlStrictly(true)
            .withEvaluateMapKeys(true)
            .withUsePyishObjectMapper(true)
            .withKeepNullableLoopValues(true)
            .build())
        .build();
    this.jinjava = new Jinjava(config);
    try {
      jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception",
          ChatTemplate.class.getDeclaredMethod("raiseException", Object.class)));
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(e);
    }
    jinjava.registerFilter(new ToJson());
  }

  /** A template from its source (e.g. the recipe key {@code chat_template} overriding the tokenizer's). */
  public static ChatTemplate of(String source, String bosToken, String eosToken) {
    return new ChatTemplate(source, bosToken, eosToken);
  }

  /**
   * The {@code chat_template} of a tokenizer_config.json: a string, or a list of
   * {@code {name, template}} of which the one named {@code default} is used.
   */
  public static ChatTemplate fromConfig(JsonNode tokenizerConfig, String bosToken, String eosToken) {
    JsonNode t = tokenizerConfig.get("chat_template");
    if (t == null || t.isNull()) {
      throw new InputException(null, 0, "chat_template",
          "tokenizer_config.json has no chat_template; set the recipe key chat_template");
    }
    if (t.isTextual()) {
      return of(t.asText(), bosToken, eosToken);
    }
    if (t.isArray()) {
      for (JsonNode e : t) {
        if ("default".equals(e.path("name").asText())) {
          return of(e.path("template").asText(), bosToken, eosToken);
        }
      }
      throw new InputException(null, 0, "chat_template", "list of templates has none named \"default\"");
    }
    throw new InputException(null, 0, "chat_template", "must be a string or a list of {name, template}");
  }

  /** Template source. */
  public String source() {
    return source;
  }

  /** Renders chat messages. */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> ms = new ArrayList<>();
    for (ChatMessage m : messages) {
      Map<String, Object> mm = new LinkedHashMap<>();
      mm.put("role", m.role());
      mm.put("content", m.content());
      ms.add(mm);
    }
    return render(ms, addGenerationPrompt, Map.of());
  }

  /**
   * Renders messages given as maps (role, content and any other fields a template reads), with
   * extra template variables (e.g. {@code tools}, {@code enable_thinking}).
   *
   * @throws InputException with the template's message when it calls {@code raise_exception}, or
   *     describing a template syntax/evaluation error
   */
  public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
    Map<String, Object> vars = new HashMap<>(extra);
    vars.put("messages", messages);
    vars.put("add_generation_prompt", addGenerationPrompt);
    vars.put("bos_token", bosToken == null ? "" : bosToken);
    vars.put("eos_token", eosToken == null ? "" : eosToken);
    RAISED.remove();
    RenderResult r;
    try {
      r = jinjava.renderForResult(source, vars);
    } finally {
      String raised = RAISED.get();
      RAISED.remove();
      if (raised != null) {
        throw new InputException(null, 0, "chat_template", "template raised: " + raised);
      }
    }
    for (TemplateError e : r.getErrors()) {
      if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
        throw new InputException(null, Math.max(0, e.getLineno()), "chat_template",
            e.getMessage());
      }
    }
    return r.getOutput();
  }

  /** {@code raise_exception(msg)}: records the message for {@link #render} and aborts evaluation. */
  public static Object raiseException(Object message) {
    String m = String.valueOf(message);
    RAISED.set(m);
    throw new IllegalStateException(m);
  }

  /** {@code value | tojson(indent=None)}, formatted as Python's json.dumps with ensure_ascii=False. */
  private static final class ToJson implements Filter {
    @Override
    public String getName() {
      return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
      Integer indent = args.length > 0 && args[0] != null && !args[0].isBlank() ? Integer.valueOf(args[0].trim()) : null;
      return PyJson.dumps(JSON.valueToTree(var), indent);
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
      Object indent = kwargs.get("indent");
      if (indent == null && args.length > 0) {
        indent = args[0];
      }
      return PyJson.dumps(JSON.valueToTree(var), indent == null ? null : ((Number) indent).intValue());
    }
  }
}
