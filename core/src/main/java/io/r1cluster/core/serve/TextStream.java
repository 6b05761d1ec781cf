package io.r1cluster.core.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Turns a completion's tokens, one at a time, into text that is safe to send: never half a UTF-8
 * character, never the start of a stop string that may still complete, and (for reasoning models)
 * split into {@code reasoning_content} and {@code content} at {@code </think>}.
 *
 * <p><b>UTF-8.</b> Byte-level tokens can end inside a multi-byte character; decoding such a prefix
 * gives U+FFFD. Text is decoded over a window ({@code ids[prefix..]} against {@code ids[prefix..read]},
 * as vLLM and TGI detokenize) and a delta ending in U+FFFD is held until the next token completes
 * the character (or the stream ends).
 *
 * <p><b>Stop strings.</b> The text is cut before the first stop string (OpenAI semantics: the stop
 * string is not returned) and {@link #stopped()} turns true. Until then the longest tail that could
 * still grow into a stop string is held back.
 *
 * <p><b>Reasoning.</b> When the completion opens with {@code <think>} (or the prompt ended with it,
 * as DeepSeek-R1 and Qwen3 templates do), text up to {@code </think>} is reasoning and the rest is
 * content; one newline after {@code <think>}, before {@code </think>} and after {@code </think>} is
 * dropped, so {@code "<think>\n" + reasoning + "\n</think>\n" + content} gives the text back. A
 * completion that does not open with {@code <think>} is all content.
 */
public final class TextStream {
  public static final String OPEN = "<think>";
  public static final String CLOSE = "</think>";

  /** New reasoning and content text since the last call (either may be empty). */
  public record Delta(String reasoning, String content) {
    public boolean isEmpty() {
      return reasoning.isEmpty() && content.isEmpty();
    }
  }

  /** The whole text once the stream has ended: reasoning (null when not split) and content. */
  public record Parts(String reasoning, String content) {}

  private enum Mode { UNDECIDED, REASONING, CONTENT }

  private final Function<int[], String> decode;
  private final List<String> stops;
  private final boolean splitReasoning;
  private final List<Integer> ids = new ArrayList<>();
  private final StringBuilder raw = new StringBuilder();
  private int prefixOffset;
  private int readOffset;
  private boolean stopped;
  private Mode mode;
  private int emittedReasoning;
  private int emittedContent;

  /**
   * @param decode token ids → text (special tokens skipped)
   * @param stops stop strings (non-empty strings)
   * @param splitReasoning whether to split reasoning from content at all
   * @param promptOpensThinking the prompt ends with {@code <think>}: the completion starts inside it
   */
  public TextStream(Function<int[], String> decode, List<String> stops, boolean splitReasoning, boolean promptOpensThinking) {
    this.decode = decode;
    this.stops = List.copyOf(stops);
    this.splitReasoning = splitReasoning;
    this.mode = !splitReasoning ? Mode.CONTENT : promptOpensThinking ? Mode.REASONING : Mode.UNDECIDED;
  }

  /** Adds one token; returns what became safe to send (empty after a stop string). */
  public Delta add(int tokenId) {
    if (stopped) {
      return new Delta("", "");
    }
    ids.add(tokenId);
    String prefixText = decode.apply(window(prefixOffset, readOffset));
    String newText = decode.apply(window(prefixOffset, ids.size()));
    if (newText.length() > prefixText.length() && !newText.endsWith("\uFFFD") && newText.startsWith(prefixText)) {
      append(newText.substring(prefixText.length()));
      prefixOffset = readOffset;
      readOffset = ids.size();
    }
    return emit(false);
  }

  /** Ends the stream: flushes everything held back. */
  public Delta finish() {
    if (!stopped && readOffset < ids.size()) {
      String prefixText = decode.apply(window(prefixOffset, readOffset));
      String newText = decode.apply(window(prefixOffset, ids.size()));
      if (newText.startsWith(prefixText)) {
        append(newText.substring(prefixText.length()));
      } else { // the window re-decoded differently: fall back to the whole text
        raw.setLength(0);
        append(decode.apply(window(0, ids.size())));
      }
      readOffset = ids.size();
    }
    return emit(true);
  }

  /** Whether a stop string ended the text. */
  public boolean stopped() {
    return stopped;
  }

  /** The text so far (after a stop string: up to it), nothing held back. */
  public String text() {
    return raw.toString();
  }

  /** The final split of {@link #text()} (call after {@link #finish()}). */
  public Parts parts() {
    String[] rc = split(raw.toString(), true);
    return new Parts(mode == Mode.REASONING ? rc[0] : null, rc[1]);
  }

  private int[] window(int from, int to) {
    int[] w = new int[to - from];
    for (int i = from; i < to; i++) {
      w[i - from] = ids.get(i);
    }
    return w;
  }

  private void append(String delta) {
    int searchFrom = Math.max(0, raw.length() - maxStopLength() + 1);
    raw.append(delta);
    int cut = -1;
    for (String s : stops) {
      int i = raw.indexOf(s, searchFrom);
      if (i >= 0 && (cut < 0 || i < cut)) {
        cut = i;
      }
    }
    if (cut >= 0) {
      raw.setLength(cut);
      stopped = true;
    }
  }

  private int maxStopLength() {
    int m = 0;
    for (String s : stops) {
      m = Math.max(m, s.length());
    }
    return m;
  }

  private Delta emit(boolean fin) {
    boolean done = fin || stopped;
    String stable = raw.toString();
    if (!done) {
      stable = stable.substring(0, stable.length() - heldForStops(stable));
    }
    String[] rc = split(stable, done);
    String r = rc[0];
    String c = rc[1];
    String dr = r.length() > emittedReasoning ? r.substring(emittedReasoning) : "";
    String dc = c.length() > emittedContent ? c.substring(emittedContent) : "";
    emittedReasoning = Math.max(emittedReasoning, r.length());
    emittedContent = Math.max(emittedContent, c.length());
    return new Delta(dr, dc);
  }

  /** Length of the longest tail of {@code s} that is a proper prefix of a stop string. */
  private int heldForStops(String s) {
    int held = 0;
    for (String stop : stops) {
      held = Math.max(held, tailPrefix(s, stop));
    }
    return held;
  }

  /** Longest k < |tag| such that s ends with tag[0..k). */
  private static int tailPrefix(String s, String tag) {
    for (int k = Math.min(tag.length() - 1, s.length()); k > 0; k--) {
      if (s.endsWith(tag.substring(0, k))) {
        return k;
      }
    }
    return 0;
  }

  /** {reasoning, content} of the stable text {@code s}; each only grows as s grows. */
  private String[] split(String s, boolean fin) {
    if (mode == Mode.UNDECIDED) {
      if (s.startsWith(OPEN)) {
        mode = Mode.REASONING;
      } else if (!fin && OPEN.startsWith(s)) {
        return new String[] {"", ""}; // could still become <think>
      } else {
        mode = Mode.CONTENT;
      }
    }
    if (mode == Mode.CONTENT) {
      return new String[] {"", s};
    }
    String body = s.startsWith(OPEN) ? s.substring(OPEN.length()) : s;
    if (body.startsWith("\n")) {
      body = body.substring(1);
    } else if (body.isEmpty()) {
      return new String[] {"", ""};
    }
    int idx = body.indexOf(CLOSE);
    if (idx < 0) {
      if (fin) {
        return new String[] {body, ""};
      }
      int held = Math.max(tailPrefix(body, "\n" + CLOSE), tailPrefix(body, CLOSE));
      return new String[] {body.substring(0, body.length() - held), ""};
    }
    String r = body.substring(0, idx);
    if (r.endsWith("\n")) {
      r = r.substring(0, r.length() - 1);
    }
    String c = body.substring(idx + CLOSE.length());
    if (c.startsWith("\n")) {
      c = c.substring(1);
    }
    return new String[] {r, c};
  }
}
