package io.r1cluster.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StopTokensTest {
  @TempDir Path tmp;

  /** The demo model stops at <|im_end|> (its eos) and at <|endoftext|>, on every path that samples. */
  @Test
  void demoModelStopsAtEndOfTurnAndEndOfText() {
    DemoTokenizer.write(tmp);
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      Qwen2Config config = Models.demoConfig(tok);
      assertEquals(List.of(tok.tokenId("<|im_end|>"), tok.tokenId("<|endoftext|>")), StopTokens.of(tok, config));
      // no model config (a tokenizer alone): the same set, tokenizer eos first
      assertEquals(List.of(tok.tokenId("<|im_end|>"), tok.tokenId("<|endoftext|>")), StopTokens.of(tok, null));
    }
  }

  /** A model whose config names another eos keeps it first; Llama 3's end-of-turn tokens count when present. */
  @Test
  void configEosFirstThenTokenizerEosThenFamilyStops() throws Exception {
    DemoTokenizer.write(tmp);
    ObjectMapper j = new ObjectMapper();
    ObjectNode tj = (ObjectNode) j.readTree(tmp.resolve("tokenizer.json").toFile());
    ArrayNode added = (ArrayNode) tj.get("added_tokens");
    int next = 0;
    for (var a : added) {
      next = Math.max(next, a.get("id").asInt() + 1);
    }
    ObjectNode eot = added.addObject();
    eot.put("id", next);
    eot.put("content", "<|eot_id|>");
    eot.put("special", true);
    eot.put("normalized", false);
    eot.put("single_word", false);
    eot.put("lstrip", false);
    eot.put("rstrip", false);
    Files.writeString(tmp.resolve("tokenizer.json"), j.writeValueAsString(tj));
    try (Tokenizer tok = Tokenizer.load(tmp)) {
      int start = tok.tokenId("<|im_start|>");
      Qwen2Config config = Models.demoConfig(tok).withTokens(-1, start);
      assertEquals(List.of(start, tok.tokenId("<|im_end|>"), tok.tokenId("<|endoftext|>"), next),
          StopTokens.of(tok, config));
    }
  }
}
