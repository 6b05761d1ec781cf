package io.r1cluster.core.tokenizer;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Generates the demo model's own tokenizer: a character-level BPE over printable ASCII plus
 * {@code \n} and {@code \t}, a few merges of frequent English/digit pairs, an {@code <unk>} for
 * anything else, a {@code Fuse} decoder (tokens concatenate, so spaces and newlines round-trip), and
 * the added tokens of Qwen2's chat format and the R1 reasoning format.
 *
 * <pre>
 * ids 0          &lt;unk&gt;
 *     1..97      ' ' .. '~' (95 printable ASCII), '\n', '\t'
 *     98..       merged pieces (MERGES, in priority order)
 *     then       &lt;|endoftext|&gt; &lt;|im_start|&gt; &lt;|im_end|&gt; (special: skipped by decode(skipSpecial))
 *                &lt;think&gt; &lt;/think&gt; &lt;answer&gt; &lt;/answer&gt; (not special: kept in decoded text)
 * </pre>
 */
public final class DemoTokenizer {
  /** Merge pairs (left, right), applied in this priority order; none involves whitespace. */
  private static final List<String[]> MERGES = List.of(
      p("t", "h"), p("th", "e"), p("i", "n"), p("e", "r"), p("a", "n"), p("o", "n"), p("r", "e"),
      p("a", "t"), p("e", "n"), p("i", "s"), p("o", "r"), p("e", "s"), p("a", "l"), p("s", "t"),
      p("an", "d"), p("in", "g"), p("o", "u"), p("i", "t"), p("t", "o"), p("an", "s"), p("ans", "w"),
      p("answ", "er"), p("1", "0"), p("0", "0"));
  public static final List<String> SPECIAL_TOKENS = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
  public static final List<String> NON_SPECIAL_TOKENS = Tokenizer.REASONING_TAGS;
  /** ChatML, as Qwen2.5 formats chats, without the default system prompt. */
  public static final String CHAT_TEMPLATE =
      "{%- for message in messages %}\n"
      + "    {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\n"
      + "{%- endfor %}\n"
      + "{%- if add_generation_prompt %}\n"
      + "    {{- '<|im_start|>assistant\\n' }}\n"
      + "{%- endif %}\n";

  private static String[] p(String a, String b) {
    return new String[] {a, b};
  }

  private DemoTokenizer() {}

  /** The token strings in id order (vocabulary, then added tokens). */
  public static List<String> tokens() {
    List<String> t = new ArrayList<>();
    t.add("<unk>");
    for (char c = ' '; c <= '~'; c++) {
      t.add(String.valueOf(c));
    }
    t.add("\n");
    t.add("\t");
    for (String[] m : MERGES) {
      t.add(m[0] + m[1]);
    }
    t.addAll(SPECIAL_TOKENS);
    t.addAll(NON_SPECIAL_TOKENS);
    return t;
  }

  /** Number of token ids (the demo model's vocab_size should be at least this). */
  public static int vocabSize() {
    return tokens().size();
  }

  /** Writes {@code tokenizer.json} and {@code tokenizer_config.json} into {@code dir}. */
  public static void write(Path dir) {
    ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    List<String> tokens = tokens();
    int firstAdded = tokens.size() - SPECIAL_TOKENS.size() - NON_SPECIAL_TOKENS.size();

    ObjectNode tj = json.createObjectNode();
    tj.put("version", "1.0");
    tj.putNull("truncation");
    tj.putNull("padding");
    ArrayNode added = tj.putArray("added_tokens");
    ObjectNode decoderMap = json.createObjectNode();
    for (int id = firstAdded; id < tokens.size(); id++) {
      String content = tokens.get(id);
      boolean special = SPECIAL_TOKENS.contains(content);
      ObjectNode a = added.addObject();
      a.put("id", id);
      a.put("content", content);
      a.put("single_word", false);
      a.put("lstrip", false);
      a.put("rstrip", false);
      a.put("normalized", false);
      a.put("special", special);
      ObjectNode d = decoderMap.putObject(String.valueOf(id));
      d.put("content", content);
      d.put("lstrip", false);
      d.put("normalized", false);
      d.put("rstrip", false);
      d.put("single_word", false);
      d.put("special", special);
    }
    tj.putNull("normalizer");
    tj.putNull("pre_tokenizer");
    tj.putNull("post_processor");
    tj.putObject("decoder").put("type", "Fuse");
    ObjectNode model = tj.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.put("unk_token", "<unk>");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", true);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    for (int id = 0; id < firstAdded; id++) {
      vocab.put(tokens.get(id), id);
    }
    ArrayNode merges = model.putArray("merges");
    for (String[] m : MERGES) {
      merges.addArray().add(m[0]).add(m[1]);
    }

    Map<String, Object> cfg = new LinkedHashMap<>();
    cfg.put("add_bos_token", false);
    cfg.put("add_prefix_space", false);
    cfg.put("added_tokens_decoder", decoderMap);
    cfg.put("additional_special_tokens", List.of("<|im_start|>", "<|im_end|>"));
    cfg.put("bos_token", null);
    cfg.put("chat_template", CHAT_TEMPLATE);
    cfg.put("clean_up_tokenization_spaces", false);
    cfg.put("eos_token", "<|im_end|>");
    cfg.put("errors", "replace");
    cfg.put("model_max_length", 4096);
    cfg.put("pad_token", "<|endoftext|>");
    cfg.put("split_special_tokens", false);
    cfg.put("tokenizer_class", "PreTrainedTokenizerFast");
    cfg.put("unk_token", "<unk>");
    try {
      Files.createDirectories(dir);
      Files.writeString(dir.resolve(Tokenizer.TOKENIZER_FILE), json.writeValueAsString(tj) + "\n");
      Files.writeString(dir.resolve(Tokenizer.CONFIG_FILE), json.writeValueAsString(cfg) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("writing demo tokenizer to " + dir, e);
    }
  }
}
