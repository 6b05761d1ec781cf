package io.r1cluster.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.tokenizer.jinja.Template;
import io.r1cluster.core.tokenizer.jinja.TemplateException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Hugging Face chat template ({@code tokenizer_config.json} {@code chat_template}) rendered as
 * transformers' {@code apply_chat_template} renders it, by our jinja2-compatible engine
 * ({@link Template}: sandboxed semantics, {@code trim_blocks}, {@code lstrip_blocks},
 * {@code tojson}, {@code raise_exception}, {@code strftime_now}, slicing, {@code namespace},
 * loop variables, Python string methods).
 *
 * <p>Variables: {@code messages}, {@code add_generation_prompt}, {@code bos_token} and
 * {@code eos_token} (undefined when the tokenizer has none, as in transformers), the template
 * keyword arguments bound with {@link #withKwargs} (the recipe key {@code chat_template_kwargs},
 * e.g. {@code enable_thinking: false}) and per-call extras (e.g. {@code tools}).
 *
 * <p>Every failure (syntax, an undefined value used, a construct the engine does not implement,
 * the template's own {@code raise_exception}) is an {@link InputException} with key
 * {@code chat_template} and the template line; nothing renders differently without an error.
 */
public final class ChatTemplate {
  private final String source;
  private final String bosToken;
  private final String eosToken;
  private final Map<String, Object> kwargs;
  private final Clock clock;
  private final Template template;

  private ChatTemplate(String source, String bosToken, String eosToken, Map<String, Object> kwargs, Clock clock,
      Template parsed) {
    this.source = source;
    this.bosToken = bosToken;
    this.eosToken = eosToken;
    this.kwargs = kwargs;
    this.clock = clock;
    try {
      this.template = parsed != null ? parsed : Template.parse(source);
    } catch (TemplateException e) {
      throw new InputException(null, e.line(), "chat_template", "template syntax: " + e.getMessage());
    }
  }

  /** A template from its source (e.g. the recipe key {@code chat_template} overriding the tokenizer's). */
  public static ChatTemplate of(String source, String bosToken, String eosToken) {
    return new ChatTemplate(source, bosToken, eosToken, Map.of(), Clock.systemDefaultZone(), null);
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

  /**
   * This template with keyword arguments passed to every render (the recipe key
   * {@code chat_template_kwargs}); per-call extras override them.
   */
  public ChatTemplate withKwargs(Map<String, ?> templateKwargs) {
    Map<String, Object> k = new LinkedHashMap<>(kwargs);
    if (templateKwargs != null) {
      k.putAll(templateKwargs);
    }
    return new ChatTemplate(source, bosToken, eosToken, Map.copyOf(k), clock, template);
  }

  /** This template with {@code strftime_now} reading {@code clock} (tests pin the date). */
  public ChatTemplate withClock(Clock c) {
    return new ChatTemplate(source, bosToken, eosToken, kwargs, c, template);
  }

  /** The keyword arguments bound by {@link #withKwargs}. */
  public Map<String, Object> kwargs() {
    return kwargs;
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
   * Renders messages given as maps (role, content and any other fields a template reads, e.g.
   * {@code reasoning_content}, {@code tool_calls}), with extra template variables (e.g.
   * {@code tools}) on top of the bound keyword arguments.
   *
   * @throws InputException with the template's message when it calls {@code raise_exception}, or
   *     describing a template syntax/evaluation error and its line
   */
  public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
    Map<String, Object> vars = new HashMap<>();
    vars.put("tools", null); // transformers always passes tools and documents (None when not given)
    vars.put("documents", null);
    if (bosToken != null) {
      vars.put("bos_token", bosToken);
    }
    if (eosToken != null) {
      vars.put("eos_token", eosToken);
    }
    vars.putAll(kwargs);
    vars.putAll(extra);
    vars.put("messages", messages);
    vars.put("add_generation_prompt", addGenerationPrompt);
    try {
      return template.render(vars, clock);
    } catch (TemplateException e) {
      throw new InputException(null, e.line(), "chat_template",
          (e.raised() ? "template raised: " : "template line " + e.line() + ": ") + e.getMessage());
    }
  }
}
