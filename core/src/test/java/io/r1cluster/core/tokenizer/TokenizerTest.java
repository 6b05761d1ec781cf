package io.r1cluster.core.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.data.ChatMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerTest {
  @TempDir Path tmp;

  @Test
  void demoTokenizerRoundTripsAsciiAndTagsAreSingleTokens() {
    DemoTokenizer.write(tmp);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      assertEquals(DemoTokenizer.vocabSize(), tok.vocabSize());
      assertTrue(tok.vocabSize() <= 200, "vocab " + tok.vocabSize());
      StringBuilder all = new StringBuilder("  lead\tand trailing  \n\n");
      for (char c = ' '; c <= '~'; c++) {
        all.append(c);
      }
      String text = all + "\nthe answer is 100.\n";
      int[] ids = tok.encode(text);
      assertEquals(text, tok.decode(ids, false));
      assertEquals(text, tok.decode(ids, true));
      assertTrue(ids.length < text.length(), "merges apply");
      // 'the' is one merged token, digits pair up
      assertArrayEquals(new int[] {tok.tokenId("the")}, tok.encode("the"));
      // merge "1 0" has priority over "0 0"
      assertArrayEquals(new int[] {tok.tokenId("10"), tok.tokenId("0")}, tok.encode("100"));
      assertArrayEquals(new int[] {tok.tokenId("00")}, tok.encode("00"));

      // non-ASCII text has no pieces: consecutive unknown characters fuse into one <unk> (id 0)
      assertArrayEquals(new int[] {tok.tokenId("a"), 0, tok.tokenId("b")}, tok.encode("aéü数b"));
      assertTrue(tok.hasReasoningTags());
      for (String tag : List.of("<think>", "</think>", "<answer>", "</answer>", "<|im_start|>", "<|im_end|>",
          "<|endoftext|>")) {
        assertArrayEquals(new int[] {tok.tokenId(tag)}, tok.encode(tag), tag);
      }
      String chat = "<|im_start|>assistant\n<think>2+3=5</think>\n<answer>5</answer><|im_end|><|endoftext|>";
      int[] c = tok.encode(chat);
      assertEquals(chat, tok.decode(c, false));
      assertEquals("assistant\n<think>2+3=5</think>\n<answer>5</answer>", tok.decode(c, true));

      assertEquals("<|im_end|>", tok.eosToken());
      assertEquals(tok.tokenId("<|im_end|>"), tok.eosTokenId().getAsInt());
      assertEquals(tok.tokenId("<|endoftext|>"), tok.padTokenId().getAsInt());
      assertTrue(tok.isSpecial("<|im_end|>"));
      assertFalse(tok.isSpecial("<think>"));
      assertTrue(tok.findTokenId("<tool_call>").isEmpty());
      assertThrows(InputException.class, () -> tok.tokenId("<tool_call>"));

      String rendered = tok.chatTemplate().render(
          List.of(new ChatMessage("system", "S"), new ChatMessage("user", "U")), true);
      assertEquals("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n",
          rendered);
      assertEquals(rendered, tok.decode(tok.encode(rendered), false));
      assertEquals("U|", tok.chatTemplate("{% for m in messages %}{{ m.content }}|{% endfor %}")
          .render(List.of(new ChatMessage("user", "U")), false));
      assertEquals(rendered, tok.chatTemplate(null)
          .render(List.of(new ChatMessage("system", "S"), new ChatMessage("user", "U")), true));
    }
  }

  @Test
  void longTextIsNotTruncated() {
    DemoTokenizer.write(tmp);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      String text = "x = 1 + 2; ".repeat(2000);
      assertEquals(text, tok.decode(tok.encode(text), false));
    }
  }

  /** GPT-2/Qwen2 byte-to-unicode table: printable bytes map to themselves, others to 256+n. */
  static char[] bytesToUnicode() {
    char[] map = new char[256];
    int n = 0;
    for (int b = 0; b < 256; b++) {
      boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      map[b] = printable ? (char) b : (char) (256 + n++);
    }
    return map;
  }

  /** A hand-written Qwen2-style byte-level BPE tokenizer.json loads and round-trips. */
  @Test
  void handWrittenQwen2StyleByteLevelBpeLoads() throws Exception {
    ObjectMapper j = new ObjectMapper();
    ObjectNode tj = j.createObjectNode();
    tj.put("version", "1.0");
    tj.putNull("truncation");
    tj.putNull("padding");
    tj.putObject("normalizer").put("type", "NFC");
    ObjectNode pre = tj.putObject("pre_tokenizer");
    pre.put("type", "Sequence");
    ArrayNode pts = pre.putArray("pretokenizers");
    ObjectNode split = pts.addObject();
    split.put("type", "Split");
    split.putObject("pattern").put("Regex",
        "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*"
            + "|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+");
    split.put("behavior", "Isolated");
    split.put("invert", false);
    ObjectNode bl = pts.addObject();
    bl.put("type", "ByteLevel");
    bl.put("add_prefix_space", false);
    bl.put("trim_offsets", false);
    bl.put("use_regex", false);
    ObjectNode dec = tj.putObject("decoder");
    dec.put("type", "ByteLevel");
    dec.put("add_prefix_space", false);
    dec.put("trim_offsets", false);
    dec.put("use_regex", false);
    tj.putNull("post_processor");
    ObjectNode model = tj.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.put("byte_fallback", false);
    ObjectNode vocab = model.putObject("vocab");
    char[] b2u = bytesToUnicode();
    int id = 0;
    for (int b = 0; b < 256; b++) {
      vocab.put(String.valueOf(b2u[b]), id++);
    }
    String sp = String.valueOf(b2u[' ']); // 'Ġ'
    String[][] merges = {{"h", "e"}, {"l", "l"}, {"he", "ll"}, {"hell", "o"}, {sp, "w"}, {"o", "r"},
        {sp + "w", "or"}, {sp + "wor", "l"}, {sp + "worl", "d"}};
    ArrayNode ms = model.putArray("merges");
    for (String[] m : merges) {
      ms.add(m[0] + " " + m[1]);
      vocab.put(m[0] + m[1], id++);
    }
    ArrayNode added = tj.putArray("added_tokens");
    List<String> names = new ArrayList<>(List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>",
        "</think>"));
    for (String name : names) {
      ObjectNode a = added.addObject();
      a.put("id", id++);
      a.put("content", name);
      a.put("single_word", false);
      a.put("lstrip", false);
      a.put("rstrip", false);
      a.put("normalized", false);
      a.put("special", name.startsWith("<|"));
    }
    Files.writeString(tmp.resolve("tokenizer.json"), j.writeValueAsString(tj));
    Files.writeString(tmp.resolve("tokenizer_config.json"),
        "{\"eos_token\": {\"content\": \"<|im_end|>\", \"special\": true}, \"pad_token\": \"<|endoftext|>\","
            + " \"bos_token\": null}");
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      assertEquals(256 + merges.length + names.size(), tok.vocabSize());
      assertArrayEquals(new int[] {tok.tokenId("hello"), tok.tokenId(sp + "world")}, tok.encode("hello world"));
      String text = "hello world\n  Grüße, 数学 = 42!<think>ok</think><|im_end|>";
      int[] ids = tok.encode(text);
      assertEquals(text, tok.decode(ids, false));
      assertEquals("hello world\n  Grüße, 数学 = 42!<think>ok</think>", tok.decode(ids, true));
      assertEquals(tok.tokenId("<|im_end|>"), ids[ids.length - 1]);
      assertEquals(tok.tokenId("<|im_end|>"), tok.eosTokenId().getAsInt());
      assertEquals(null, tok.bosToken());
      assertFalse(tok.hasReasoningTags());
    }
  }

  @Test
  void missingTokenizerIsInputError() {
    InputException e = assertThrows(InputException.class, () -> Tokenizer.load(tmp));
    assertTrue(e.getMessage().contains("tokenizer.json"), e.getMessage());
  }
}
