package io.r1cluster.core.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Test fixture: a GPT-2/Qwen2-style byte-level BPE tokenizer with no merges (one token per UTF-8
 * byte, so every non-ASCII character spans several tokens), the ChatML added tokens and the
 * reasoning tags, and a ChatML chat template.
 *
 * <pre>
 * ids 0..255   one per byte (GPT-2 byte-to-unicode table)
 *     256..    &lt;|endoftext|&gt; &lt;|im_start|&gt; &lt;|im_end|&gt; (special), &lt;think&gt; &lt;/think&gt; (not special)
 * </pre>
 */
public final class ByteLevelTokenizerFixture {
  public static final List<String> ADDED = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>");

  private ByteLevelTokenizerFixture() {}

  /** Number of ids: 256 bytes plus the added tokens. */
  public static int vocabSize() {
    return 256 + ADDED.size();
  }

  public static void write(Path dir) throws IOException {
    ObjectMapper j = new ObjectMapper();
    ObjectNode tj = j.createObjectNode();
    tj.put("version", "1.0");
    tj.putNull("truncation");
    tj.putNull("padding");
    tj.putNull("normalizer");
    ObjectNode pre = tj.putObject("pre_tokenizer");
    pre.put("type", "ByteLevel");
    pre.put("add_prefix_space", false);
    pre.put("trim_offsets", false);
    pre.put("use_regex", true);
    ObjectNode dec = tj.putObject("decoder");
    dec.put("type", "ByteLevel");
    dec.put("add_prefix_space", false);
    dec.put("trim_offsets", false);
    dec.put("use_regex", true);
    tj.putNull("post_processor");
    ObjectNode model = tj.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.put("byte_fallback", false);
    ObjectNode vocab = model.putObject("vocab");
    char[] b2u = bytesToUnicode();
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(b2u[b]), b);
    }
    model.putArray("merges");
    ArrayNode added = tj.putArray("added_tokens");
    int id = 256;
    for (String name : ADDED) {
      ObjectNode a = added.addObject();
      a.put("id", id++);
      a.put("content", name);
      a.put("single_word", false);
      a.put("lstrip", false);
      a.put("rstrip", false);
      a.put("normalized", false);
      a.put("special", name.startsWith("<|"));
    }
    Files.writeString(dir.resolve("tokenizer.json"), j.writeValueAsString(tj));
    ObjectNode cfg = j.createObjectNode();
    cfg.put("eos_token", "<|im_end|>");
    cfg.put("pad_token", "<|endoftext|>");
    cfg.putNull("bos_token");
    cfg.put("chat_template", DemoTokenizer.CHAT_TEMPLATE);
    Files.writeString(dir.resolve("tokenizer_config.json"), j.writeValueAsString(cfg));
  }

  /** GPT-2's byte-to-unicode table: printable bytes map to themselves, the others to 256 + n. */
  static char[] bytesToUnicode() {
    char[] map = new char[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      map[b] = printable ? (char) b : (char) (256 + n++);
    }
    return map;
  }
}
