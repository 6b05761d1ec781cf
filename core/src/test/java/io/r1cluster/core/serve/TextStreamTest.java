package io.r1cluster.core.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.tokenizer.Tokenizer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextStreamTest {
  static Tokenizer tok;

  @BeforeAll
  static void load(@TempDir Path dir) throws Exception {
    ByteLevelTokenizerFixture.write(dir);
    tok = Tokenizer.load(dir);
  }

  @AfterAll
  static void close() {
    tok.close();
  }

  /** Feeds text token by token; returns the deltas (reasoning, content) in order. */
  static List<TextStream.Delta> feed(TextStream ts, String text) {
    List<TextStream.Delta> out = new ArrayList<>();
    for (int id : tok.encode(text)) {
      out.add(ts.add(id));
    }
    out.add(ts.finish());
    return out;
  }

  static TextStream stream(List<String> stops, boolean split, boolean opens) {
    return new TextStream(ids -> tok.decode(ids, true), stops, split, opens);
  }

  static String content(List<TextStream.Delta> ds) {
    StringBuilder sb = new StringBuilder();
    ds.forEach(d -> sb.append(d.content()));
    return sb.toString();
  }

  static String reasoning(List<TextStream.Delta> ds) {
    StringBuilder sb = new StringBuilder();
    ds.forEach(d -> sb.append(d.reasoning()));
    return sb.toString();
  }

  /** Multi-byte characters split over byte tokens come out whole, never as U+FFFD halves. */
  @Test
  void utf8AcrossByteTokens() {
    String text = "Grüße, 数学 = 42 🙂!";
    int[] ids = tok.encode(text);
    assertTrue(ids.length > text.length(), "one token per byte");
    TextStream ts = stream(List.of(), false, false);
    List<TextStream.Delta> ds = feed(ts, text);
    for (TextStream.Delta d : ds) {
      assertFalse(d.content().contains("\uFFFD"), "a delta with half a character: " + ds);
    }
    assertEquals(text, content(ds));
    assertEquals(text, ts.parts().content());
    assertTrue(ds.stream().anyMatch(TextStream.Delta::isEmpty), "incomplete characters were held back");
  }

  /** The text ends before the first stop string; its start is held back until it cannot be one. */
  @Test
  void stopStringsCutAndAreHeldBack() {
    TextStream ts = stream(List.of("STOP", "数学"), false, false);
    List<TextStream.Delta> ds = new ArrayList<>();
    for (int id : tok.encode("ab STAND ab 数学 rest")) {
      ds.add(ts.add(id));
      if (ts.stopped()) {
        break;
      }
    }
    ds.add(ts.finish());
    assertTrue(ts.stopped());
    assertEquals("ab STAND ab ", content(ds));
    assertEquals("ab STAND ab ", ts.text());
    // "ST" was held until "A" showed it was not "STOP"
    String soFar = "";
    for (TextStream.Delta d : ds) {
      soFar += d.content();
      assertFalse(soFar.endsWith("ST") && !soFar.endsWith("STAND"), "sent a possible stop prefix: " + soFar);
    }
  }

  @Test
  void reasoningSplitsAtThinkClose() {
    String text = "<think>\nlet me see: 2+2\n</think>\nThe answer is 4.";
    TextStream ts = stream(List.of(), true, false);
    List<TextStream.Delta> ds = feed(ts, text);
    assertEquals("let me see: 2+2", reasoning(ds));
    assertEquals("The answer is 4.", content(ds));
    TextStream.Parts p = ts.parts();
    assertEquals("let me see: 2+2", p.reasoning());
    assertEquals("The answer is 4.", p.content());
    assertEquals(text, "<think>\n" + p.reasoning() + "\n</think>\n" + p.content());
  }

  /** A template that ends the prompt with <think> (DeepSeek-R1, Qwen3): the completion starts inside. */
  @Test
  void promptOpensThinking() {
    TextStream ts = stream(List.of(), true, true);
    List<TextStream.Delta> ds = feed(ts, "hmm\n\n</think>\n\nok");
    assertEquals("hmm\n", reasoning(ds));
    assertEquals("\nok", content(ds));
  }

  /** No opening tag: all content, even with a stray </think>; unfinished thinking is all reasoning. */
  @Test
  void noThinkIsContentAndUnfinishedIsReasoning() {
    TextStream plain = stream(List.of(), true, false);
    assertEquals("plain </think> text", content(feed(plain, "plain </think> text")));
    assertNull(plain.parts().reasoning());
    TextStream open = stream(List.of(), true, false);
    List<TextStream.Delta> ds = feed(open, "<think>\nstill thinking\n");
    assertEquals("still thinking\n", reasoning(ds));
    assertEquals("", content(ds));
  }
}
