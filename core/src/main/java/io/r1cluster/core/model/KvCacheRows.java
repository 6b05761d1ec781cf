package io.r1cluster.core.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * Row surgery on a {@link Qwen2Model.KvCache}, for continuous batching: sequences leave the running
 * batch ({@link #keepRows}), newly prefilled ones join it ({@link #appendRows}), and columns that no
 * remaining row uses are cut off the left ({@link #trimLeft}).
 *
 * <p>Layout (per layer): k, v {@code [B,K,S,D]}; valid {@code [B,S]} (1 = a real token of that row).
 * Row b's real tokens are a contiguous run of columns ending at S−1 (every row of a running batch
 * advances one column per step), so the columns left of the earliest run start hold no real token
 * of any row and can be dropped. Appending rows of a different length S′ left-pads the shorter
 * side with zero keys and valid 0: the causal test of {@link Qwen2Model#forwardCached} compares
 * column indices, and padding columns are invisible anyway.
 */
public final class KvCacheRows {
  private KvCacheRows() {}

  /** Rows B of the cache (0 when empty). */
  public static long rows(Qwen2Model.KvCache c) {
    return c.valid == null ? 0 : c.valid.getShape().get(0);
  }

  /** Keeps rows {@code keep} (ascending, distinct) in that order; an empty {@code keep} empties the cache. */
  public static void keepRows(Qwen2Model.KvCache c, int[] keep) {
    long b = rows(c);
    if (keep.length == b) {
      return; // ascending + distinct + all → identity
    }
    if (keep.length == 0) {
      for (int l = 0; l < c.k.length; l++) {
        closeAll(c.k[l], c.v[l]);
        c.k[l] = null;
        c.v[l] = null;
      }
      closeAll(c.valid);
      c.valid = null;
      c.length = 0;
      return;
    }
    for (int l = 0; l < c.k.length; l++) {
      c.k[l] = replace(c.k[l], selectRows(c.k[l], keep));
      c.v[l] = replace(c.v[l], selectRows(c.v[l], keep));
    }
    c.valid = replace(c.valid, selectRows(c.valid, keep));
  }

  /** Appends the rows of {@code part} after the rows of {@code c}; {@code part} is left as it was. */
  public static void appendRows(Qwen2Model.KvCache c, Qwen2Model.KvCache part) {
    if (part.valid == null) {
      return;
    }
    long s = Math.max(c.length, part.length);
    for (int l = 0; l < c.k.length; l++) {
      c.k[l] = appendAlong0(c, c.k[l], part.k[l], s, 2);
      c.v[l] = appendAlong0(c, c.v[l], part.v[l], s, 2);
    }
    c.valid = appendAlong0(c, c.valid, part.valid, s, 1);
    c.length = s;
  }

  /** {@code mine} (may be null) with the rows of {@code theirs} appended, both left-padded to s along axis. */
  private static NDArray appendAlong0(Qwen2Model.KvCache c, NDArray mine, NDArray theirs, long s, int axis) {
    NDArray t = leftPad(theirs, s, axis);
    if (mine == null) {
      return own(c, t == theirs ? theirs.duplicate() : t);
    }
    NDArray m = leftPad(mine, s, axis);
    NDArray out = own(c, m.concat(t, 0));
    closeIfTemp(m, mine);
    closeIfTemp(t, theirs);
    mine.close();
    return out;
  }

  /** Drops the first {@code cols} columns (the caller knows no row has a real token there). */
  public static void trimLeft(Qwen2Model.KvCache c, long cols) {
    if (cols <= 0 || c.valid == null) {
      return;
    }
    if (cols >= c.length) {
      throw new IllegalArgumentException("cannot trim " + cols + " of " + c.length + " columns");
    }
    for (int l = 0; l < c.k.length; l++) {
      c.k[l] = replace(c.k[l], own(c, c.k[l].get(NDIndex.sliceAxis(2, cols, c.length))));
      c.v[l] = replace(c.v[l], own(c, c.v[l].get(NDIndex.sliceAxis(2, cols, c.length))));
    }
    c.valid = replace(c.valid, own(c, c.valid.get(NDIndex.sliceAxis(1, cols, c.length))));
    c.length -= cols;
  }

  /** Rows {@code keep} of {@code x} along axis 0, one slice per contiguous run. */
  private static NDArray selectRows(NDArray x, int[] keep) {
    NDList parts = new NDList();
    int i = 0;
    while (i < keep.length) {
      int j = i;
      while (j + 1 < keep.length && keep[j + 1] == keep[j] + 1) {
        j++;
      }
      parts.add(x.get(NDIndex.sliceAxis(0, keep[i], keep[j] + 1L)));
      i = j + 1;
    }
    if (parts.size() == 1) {
      return parts.get(0).duplicate();
    }
    NDArray out = NDArrays.concat(parts, 0);
    parts.close();
    return out;
  }

  /** {@code x} with zero columns prepended along {@code axis} up to size {@code s}; x itself when already s. */
  private static NDArray leftPad(NDArray x, long s, int axis) {
    long have = x.getShape().get(axis);
    if (have == s) {
      return x;
    }
    long[] dims = x.getShape().getShape().clone();
    dims[axis] = s - have;
    NDArray z = x.getManager().zeros(new Shape(dims), x.getDataType(), x.getDevice());
    NDArray out = z.concat(x, axis);
    z.close();
    return out;
  }

  private static NDArray own(Qwen2Model.KvCache c, NDArray x) {
    x.attach(c.mgr);
    return x;
  }

  private static NDArray replace(NDArray old, NDArray fresh) {
    if (old != null && old != fresh) {
      old.close();
    }
    return fresh;
  }

  private static void closeIfTemp(NDArray x, NDArray original) {
    if (x != original) {
      x.close();
    }
  }

  private static void closeAll(NDArray... xs) {
    for (NDArray x : xs) {
      if (x != null) {
        x.close();
      }
    }
  }
}
