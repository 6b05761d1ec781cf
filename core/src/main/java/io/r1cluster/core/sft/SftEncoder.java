package io.r1cluster.core.sft;

import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns SFT examples into token ids with a per-token "trained" flag, through the chat template.
 *
 * <p>The conversation is rendered once; each assistant turn's span is found by rendering the
 * conversation up to that turn with and without it (the part the generation prompt does not
 * cover). With {@code assistantOnly} only those spans are trained — for prompt/completion data
 * that is TRL's completion-only loss, for conversations its assistant-only loss; otherwise every
 * token is. The {@code <think>} block is part of the assistant turn and so is trained. The text is
 * encoded span by span so the boundary is exact in tokens; sequences longer than {@code maxLength}
 * are truncated (right), like TRL.
 */
public final class SftEncoder {
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final int maxLength;
  private final boolean assistantOnly;

  public SftEncoder(Tokenizer tokenizer, ChatTemplate template, int maxLength, boolean assistantOnly) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.maxLength = maxLength;
    this.assistantOnly = assistantOnly;
  }

  /** Token ids and trained flags of one example. */
  public record Encoded(String id, int[] ids, boolean[] trained, boolean truncated) {
    public int trainedCount() {
      int n = 0;
      for (boolean b : trained) {
        n += b ? 1 : 0;
      }
      return n;
    }
  }

  public Encoded encode(SftExample ex) {
    List<ChatMessage> all = ex.messages();
    String full = template.render(all, false);
    // character spans [start, end) of trained text
    List<int[]> spans = new ArrayList<>();
    if (assistantOnly) {
      for (int k = 0; k < all.size(); k++) {
        if (!"assistant".equals(all.get(k).role())) {
          continue;
        }
        String before = template.render(all.subList(0, k), true);
        String upTo = template.render(all.subList(0, k + 1), false);
        if (!full.startsWith(before) || !full.startsWith(upTo) || upTo.length() < before.length()) {
          throw new IllegalArgumentException("example " + ex.id() + ": the chat template does not render the"
              + " conversation as a sequence of prefixes, so the assistant turn cannot be located");
        }
        spans.add(new int[] {before.length(), upTo.length()});
      }
    } else {
      spans.add(new int[] {0, full.length()});
    }
    List<Integer> ids = new ArrayList<>();
    List<Boolean> trained = new ArrayList<>();
    int at = 0;
    for (int[] sp : spans) {
      add(full.substring(at, sp[0]), false, ids, trained);
      add(full.substring(sp[0], sp[1]), true, ids, trained);
      at = sp[1];
    }
    add(full.substring(at), false, ids, trained);
    boolean truncated = ids.size() > maxLength;
    int n = Math.min(ids.size(), maxLength);
    int[] idArr = new int[n];
    boolean[] tr = new boolean[n];
    for (int i = 0; i < n; i++) {
      idArr[i] = ids.get(i);
      tr[i] = trained.get(i);
    }
    return new Encoded(ex.id(), idArr, tr, truncated);
  }

  private void add(String text, boolean train, List<Integer> ids, List<Boolean> trained) {
    if (text.isEmpty()) {
      return;
    }
    for (int t : tokenizer.encode(text)) {
      ids.add(t);
      trained.add(train);
    }
  }

  /** For tests and logs: the trained tokens decoded. */
  public String trainedText(Encoded e) {
    int[] sel = new int[e.trainedCount()];
    int j = 0;
    for (int i = 0; i < e.ids().length; i++) {
      if (e.trained()[i]) {
        sel[j++] = e.ids()[i];
      }
    }
    return tokenizer.decode(Arrays.copyOf(sel, j), false);
  }
}
