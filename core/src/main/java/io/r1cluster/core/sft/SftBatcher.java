package io.r1cluster.core.sft;

import java.util.ArrayList;
import java.util.List;

/**
 * Lays encoded examples out as training rows.
 *
 * <p>With packing, examples are placed one after another into rows of {@code maxLength} tokens;
 * each keeps its own segment id (1, 2, …) and position ids restarting at 0, so the model's
 * segment-aware causal mask keeps packed examples from attending to each other. The loss mask is
 * over targets: position j predicts token j+1, which counts only if token j+1 is trained and
 * belongs to the same segment as token j — the first token of a packed example is never predicted
 * from the previous example's last token. Without packing, a row is one example, right-padded with
 * segment id 0.
 */
public final class SftBatcher {
  private SftBatcher() {}

  /** Rows of one batch: ids/segments/positions [B,T] and the loss mask over targets [B,T-1]. */
  public record Batch(long[][] ids, long[][] segments, long[][] positions, float[][] lossMask, int examples) {
    public int rows() {
      return ids.length;
    }

    public long targetTokens() {
      long n = 0;
      for (float[] r : lossMask) {
        for (float v : r) {
          n += v > 0 ? 1 : 0;
        }
      }
      return n;
    }

    public long realTokens() {
      long n = 0;
      for (long[] r : segments) {
        for (long v : r) {
          n += v != 0 ? 1 : 0;
        }
      }
      return n;
    }
  }

  /** A row as a list of examples (indices into the encoded list). */
  public record Row(List<Integer> members) {}

  /**
   * Groups examples, in the given order, into rows: with packing, greedily into rows of at most
   * {@code maxLength} tokens (an example that does not fit starts a new row); else one per row.
   */
  public static List<Row> rows(List<SftEncoder.Encoded> encoded, int[] order, int maxLength, boolean packing) {
    List<Row> rows = new ArrayList<>();
    List<Integer> cur = new ArrayList<>();
    int used = 0;
    for (int idx : order) {
      int len = encoded.get(idx).ids().length;
      if (!packing) {
        rows.add(new Row(List.of(idx)));
        continue;
      }
      if (!cur.isEmpty() && used + len > maxLength) {
        rows.add(new Row(List.copyOf(cur)));
        cur.clear();
        used = 0;
      }
      cur.add(idx);
      used += len;
    }
    if (!cur.isEmpty()) {
      rows.add(new Row(List.copyOf(cur)));
    }
    return rows;
  }

  /** Builds the tensors' data for a list of rows; T is the longest row. */
  public static Batch batch(List<SftEncoder.Encoded> encoded, List<Row> rows) {
    int t = 2;
    for (Row r : rows) {
      int len = 0;
      for (int i : r.members()) {
        len += encoded.get(i).ids().length;
      }
      t = Math.max(t, len);
    }
    int b = rows.size();
    long[][] ids = new long[b][t];
    long[][] seg = new long[b][t];
    long[][] pos = new long[b][t];
    float[][] mask = new float[b][t - 1];
    int examples = 0;
    for (int r = 0; r < b; r++) {
      int at = 0;
      int s = 0;
      for (int i : rows.get(r).members()) {
        SftEncoder.Encoded e = encoded.get(i);
        s++;
        examples++;
        for (int j = 0; j < e.ids().length; j++) {
          ids[r][at + j] = e.ids()[j];
          seg[r][at + j] = s;
          pos[r][at + j] = j;
          if (j > 0 && e.trained()[j]) {
            mask[r][at + j - 1] = 1f;
          }
        }
        at += e.ids().length;
      }
    }
    return new Batch(ids, seg, pos, mask, examples);
  }
}
