package io.r1cluster.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.data.ChatMessage;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {
  /** Qwen2.5's chat template without the tool-calling branches (same whitespace control). */
  static final String QWEN25_STYLE = String.join("\n",
      "{%- if messages[0]['role'] == 'system' %}",
      "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}",
      "{%- else %}",
      "    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}",
      "{%- endif %}",
      "{%- for message in messages %}",
      "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first)"
          + " or (message.role == \"assistant\") %}",
      "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}",
      "    {%- endif %}",
      "{%- endfor %}",
      "{%- if add_generation_prompt %}",
      "    {{- '<|im_start|>assistant\\n' }}",
      "{%- endif %}",
      "");

  @Test
  void qwenStyleWithSystemPrompt() {
    ChatTemplate t = ChatTemplate.of(QWEN25_STYLE, null, "<|im_end|>");
    String out = t.render(List.of(new ChatMessage("system", "Think step by step."),
        new ChatMessage("user", "What is 2+3?"), new ChatMessage("assistant", "5")), false);
    assertEquals("<|im_start|>system\nThink step by step.<|im_end|>\n"
        + "<|im_start|>user\nWhat is 2+3?<|im_end|>\n"
        + "<|im_start|>assistant\n5<|im_end|>\n", out);
  }

  @Test
  void qwenStyleDefaultSystemAndGenerationPrompt() {
    ChatTemplate t = ChatTemplate.of(QWEN25_STYLE, null, "<|im_end|>");
    String out = t.render(List.of(new ChatMessage("user", "Hi")), true);
    assertEquals("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n"
        + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", out);
  }

  @Test
  void trimAndLstripBlocksLikeTransformers() {
    String tpl = "{% for m in messages %}\n"
        + "  {% if loop.first %}\n"
        + "{{ bos_token }}\n"
        + "  {% endif %}\n"
        + "<|{{ m.role }}|>{{ m.content | trim }}{% if not loop.last %}|{% endif %}\n"
        + "{% endfor %}\n"
        + "{% if add_generation_prompt %}\n"
        + "<|assistant|>\n"
        + "{% endif %}";
    ChatTemplate t = ChatTemplate.of(tpl, "<s>", "</s>");
    String out = t.render(List.of(new ChatMessage("user", "  a  "), new ChatMessage("assistant", "b")), true);
    // expected string produced by jinja2 3.1.6 ImmutableSandboxedEnvironment(trim_blocks, lstrip_blocks)
    assertEquals("<s>\n<|user|>a|<|assistant|>b<|assistant|>\n", out);
  }

  @Test
  void namespaceTojsonAndStringMethods() {
    String tpl = "{%- set ns = namespace(found=false, last='') -%}"
        + "{%- for m in messages -%}"
        + "{%- if m.content.startswith('<think>') -%}{%- set ns.found = true -%}{%- endif -%}"
        + "{%- set ns.last = m.content.split('</think>')[-1].strip() -%}"
        + "{%- endfor -%}"
        + "{{ 'Y' if ns.found else 'N' }}|{{ ns.last }}|{{ tools | tojson }}|{% if 'abc'.endswith('bc') %}E{% endif %}|{{ '\\n x\\n'.lstrip() }}";
    ChatTemplate t = ChatTemplate.of(tpl, null, null);
    Map<String, Object> tool = new LinkedHashMap<>();
    tool.put("name", "calc");
    tool.put("args", List.of(1, "é\"q"));
    String out = t.render(List.of(Map.of("role", "user", "content", "<think>hmm</think>  42 ")), false,
        Map.of("tools", List.of(tool)));
    // jinja2 3.1.6 with json.dumps(ensure_ascii=False) as tojson gives exactly this
    assertEquals("Y|42|[{\"name\": \"calc\", \"args\": [1, \"é\\\"q\"]}]|E|x\n", out);
  }

  private static String resource(String name) throws Exception {
    try (var in = ChatTemplateTest.class.getResourceAsStream("/chat_templates/" + name)) {
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /**
   * Qwen2.5's full template (tool branches included) on two conversations; the expected files were
   * rendered by Python jinja2 3.1.6 with transformers' settings (ImmutableSandboxedEnvironment,
   * trim_blocks, lstrip_blocks, tojson = json.dumps(ensure_ascii=False)).
   */
  @SuppressWarnings("unchecked")
  @Test
  void fullQwen25TemplateMatchesPythonJinja() throws Exception {
    ObjectMapper j = new ObjectMapper();
    ChatTemplate t = ChatTemplate.of(resource("qwen2_5_style.jinja"), null, "<|im_end|>");
    Map<String, Object> tools = j.readValue(resource("conversation_tools.json"), Map.class);
    assertEquals(resource("qwen2_5_style.tools.expected.txt"),
        t.render((List<Map<String, Object>>) tools.get("messages"), true, Map.of("tools", tools.get("tools"))));
    Map<String, Object> plain = j.readValue(resource("conversation_plain.json"), Map.class);
    assertEquals(resource("qwen2_5_style.plain.expected.txt"),
        t.render((List<Map<String, Object>>) plain.get("messages"), false, Map.of()));
  }

  @Test
  void raiseExceptionBecomesInputException() {
    String tpl = "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with the user') }}"
        + "{% endif %}ok";
    ChatTemplate t = ChatTemplate.of(tpl, null, null);
    assertEquals("ok", t.render(List.of(new ChatMessage("user", "x")), false));
    InputException e = assertThrows(InputException.class,
        () -> t.render(List.of(new ChatMessage("assistant", "x")), false));
    assertTrue(e.getMessage().contains("chat_template: template raised: Conversation must start with the user"),
        e.getMessage());
  }

  @Test
  void templateFromConfigStringOrNamedList() throws Exception {
    ObjectMapper j = new ObjectMapper();
    var cfg = j.readTree("{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"},"
        + " {\"name\": \"default\", \"template\": \"{{ messages | length }}\"}]}");
    assertEquals("2", ChatTemplate.fromConfig(cfg, null, null)
        .render(List.of(new ChatMessage("user", "a"), new ChatMessage("assistant", "b")), false));
    var none = j.readTree("{}");
    InputException e = assertThrows(InputException.class, () -> ChatTemplate.fromConfig(none, null, null));
    assertTrue(e.getMessage().contains("chat_template"));
  }

  @Test
  void whatTheEngineCannotDoIsAnErrorWithTheLine() {
    List<ChatMessage> msgs = List.of(new ChatMessage("user", "x"));
    InputException e = assertThrows(InputException.class,
        () -> ChatTemplate.of("ok\n{{ messages | wordwrap }}", null, null).render(msgs, false));
    assertTrue(e.getMessage().contains("template line 2: no filter named 'wordwrap'"), e.getMessage());
    e = assertThrows(InputException.class,
        () -> ChatTemplate.of("{% include 'x' %}", null, null));
    assertTrue(e.getMessage().contains("unsupported tag 'include'"), e.getMessage());
    e = assertThrows(InputException.class,
        () -> ChatTemplate.of("{{ messages[0].content.zfill(3) }}", null, null).render(msgs, false));
    assertTrue(e.getMessage().contains("str.zfill() is not supported"), e.getMessage());
    e = assertThrows(InputException.class,
        () -> ChatTemplate.of("{{ messages[0].nope.deeper }}", null, null).render(msgs, false));
    assertTrue(e.getMessage().contains("has no attribute 'nope'"), e.getMessage());
    e = assertThrows(InputException.class, () -> ChatTemplate.of("{% if x %}unclosed", null, null));
    assertTrue(e.getMessage().contains("missing end tag"), e.getMessage());
  }

  @Test
  void slicingNamespaceAndLoopStateLikeJinja2() {
    // the two constructs Jinjava got wrong: [::-1] and namespace state set inside a loop
    String tpl = "{%- set ns = namespace(last='') -%}{%- for m in messages[::-1] -%}{{ m.content }}"
        + "{%- set ns.last = m.content -%}{%- set local = 1 -%}{%- endfor -%}|{{ ns.last }}|{{ local is defined }}";
    assertEquals("cba|a|False", ChatTemplate.of(tpl, null, null).render(List.of(new ChatMessage("user", "a"),
        new ChatMessage("assistant", "b"), new ChatMessage("user", "c")), false));
  }
}
