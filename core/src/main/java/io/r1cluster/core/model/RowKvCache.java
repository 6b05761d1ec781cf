package io.r1cluster.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import io.r1cluster.core.device.Devices;

/**
 * The key/value cache of a continuously batched decode ({@code generate.BatchEngine}): one row per
 * running sequence, rows allocated once and reused. A sequence that leaves frees its row and the
 * next one overwrites it; a step writes one position per row in place — nothing is concatenated
 * per step, and the cache grows (by doubling, copying once) only when a run needs more rows or
 * positions than it has.
 *
 * <p>Dimensions: R rows allocated, S positions allocated, K key/value heads, G = H/K query heads per
 * kv head, D head dim, C hidden size, V vocabulary; n rows computed by a decode step (rows 0..n-1),
 * L positions it attends to; J sequences joining, U distinct prompts among them, P longest of those.
 *
 * <pre>
 * per layer:  k, v  [R,K,S,D]        (model's dtype: float32 or bf16)
 * prefill:    x [U,P,C] causal self-attention over each prompt (right-padded), k/v of prompt u
 *             written to rows slots[j] for every joiner j with promptOf[j] = u, positions 0..P-1;
 *             LM head on each prompt's last token only → logits [U,V]
 * decode:     x [n,1,C] at positions pos[r]; k/v written at (r, pos[r]); row r attends to its
 *             positions 0..pos[r] of k, v[0:n, :, 0:L, :] (a view), L = max pos + 1 → logits [n,V]
 * </pre>
 *
 * Positions beyond a row's current one may hold stale values (a previous occupant's, or the
 * right padding of a shorter prompt); they are masked until overwritten. A row not running
 * this step is computed with token 0 at position 0, which the next prefill of that row
 * overwrites.
 *
 * <p>The cache does not hold the weights: each call takes the model to run, so weights can be
 * swapped between steps (the rows keep the keys/values the old weights wrote).
 */
public final class RowKvCache implements AutoCloseable {
  private final Qwen2Config config;
  private final NDManager mgr;
  private final DataType dtype;
  private final NDArray[] k;
  private final NDArray[] v;
  private final int maxRows;
  private final int maxLen;
  private int rows;
  private int len;

  /**
   * An empty cache for models of {@code config} in {@code dtype} on {@code device}, holding at most
   * {@code maxRows} sequences of at most {@code maxLen} tokens (prompt and completion).
   */
  public RowKvCache(Qwen2Config config, Device device, DataType dtype, int maxRows, int maxLen) {
    if (maxRows < 1 || maxLen < 2) {
      throw new IllegalArgumentException("a row cache needs >= 1 row and >= 2 positions, got " + maxRows + " x " + maxLen);
    }
    this.config = config;
    this.dtype = dtype;
    this.maxRows = maxRows;
    this.maxLen = maxLen;
    this.mgr = Devices.manager(device);
    this.k = new NDArray[config.numHiddenLayers()];
    this.v = new NDArray[config.numHiddenLayers()];
  }

  public int maxRows() {
    return maxRows;
  }

  public int maxLen() {
    return maxLen;
  }

  /** Rows allocated now. */
  public int rows() {
    return rows;
  }

  /** Positions allocated now. */
  public int length() {
    return len;
  }

  public DataType dataType() {
    return dtype;
  }

  /** Makes room for rows [0, r) and positions [0, s); grows in powers of two up to the maxima, keeping the contents. */
  public void reserve(int r, int s) {
    if (r > maxRows || s > maxLen) {
      throw new IllegalArgumentException("the cache holds " + maxRows + " rows x " + maxLen + " positions; asked for "
          + r + " x " + s);
    }
    if (r <= rows && s <= len) {
      return;
    }
    int nr = Math.max(rows, grow(r, maxRows));
    int ns = Math.max(len, grow(s, maxLen));
    Shape shape = new Shape(nr, config.numKeyValueHeads(), ns, config.headDim());
    for (int l = 0; l < k.length; l++) {
      k[l] = regrow(k[l], shape);
      v[l] = regrow(v[l], shape);
    }
    rows = nr;
    len = ns;
  }

  private NDArray regrow(NDArray old, Shape shape) {
    // DJL cannot create bf16 arrays directly (its JNI has no bf16 type code): zeros in float32, cast by Casts
    NDArray fresh = mgr.zeros(shape, DataType.FLOAT32);
    if (dtype != DataType.FLOAT32) {
      NDArray f32 = fresh;
      fresh = io.r1cluster.core.device.Casts.to(f32, dtype);
      f32.close();
    }
    if (old != null) {
      fresh.set(new NDIndex("0:" + rows + ", :, 0:" + len + ", :"), old);
      old.close();
    }
    return fresh;
  }

  private static int grow(int need, int max) {
    int p = 8;
    while (p < need) {
      p *= 2;
    }
    return Math.min(p, max);
  }

  /**
   * Prefills joining sequences: runs each distinct prompt once, writes its keys/values into the row
   * of every sequence that starts with it, and returns the logits of each prompt's last token.
   *
   * @param slots [J] row of each joining sequence
   * @param promptOf [J] index into {@code prompts} of each joining sequence's prompt
   * @param prompts [U] distinct prompts, each non-empty and at most {@link #maxLen()} tokens
   * @return logits [U,V] float32, in {@code scope}
   */
  public NDArray prefill(Qwen2Model m, NDManager scope, int[] slots, int[] promptOf, int[][] prompts) {
    int u = prompts.length;
    int j = slots.length;
    int p = 0;
    int maxSlot = 0;
    for (int[] pr : prompts) {
      p = Math.max(p, pr.length);
    }
    for (int s : slots) {
      maxSlot = Math.max(maxSlot, s);
    }
    reserve(maxSlot + 1, p);
    long[][] ids = new long[u][p]; // right-padded with token 0
    long[][] pos = new long[u][p];
    long[] last = new long[u];
    for (int i = 0; i < u; i++) {
      for (int t = 0; t < prompts[i].length; t++) {
        ids[i][t] = prompts[i][t];
      }
      for (int t = 0; t < p; t++) {
        pos[i][t] = t;
      }
      last[i] = prompts[i].length - 1;
    }
    long[] slotL = new long[j];
    long[] ofL = new long[j];
    long[] range = new long[p];
    for (int i = 0; i < j; i++) {
      slotL[i] = slots[i];
      ofL[i] = promptOf[i];
    }
    for (int t = 0; t < p; t++) {
      range[t] = t;
    }
    NDArray rowIdx = scope.create(slotL).reshape(j, 1); // [J,1]
    NDArray posIdx = scope.create(range).reshape(1, p); // [1,P]
    NDArray of = scope.create(ofL); // [J]
    boolean identity = j == u;
    for (int i = 0; identity && i < j; i++) {
      identity = promptOf[i] == i;
    }
    NDArray x = embed(m, scope, scope.create(ids)); // [U,P,C]
    NDArray[] rope = m.rope(scope, scope.create(pos)); // [U,1,P,D]
    NDArray ar = scope.arange(p);
    NDArray causal = ar.expandDims(0).lte(ar.expandDims(1)).toType(DataType.FLOAT32, false); // [P,P] j ≤ i
    NDArray bias = causal.sub(1f).mul(1e9f).reshape(1, 1, 1, p, p); // [1,1,1,P,P]
    int hq = config.numAttentionHeads();
    int hk = config.numKeyValueHeads();
    int d = config.headDim();
    long g = hq / hk;
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      String pre = "model.layers." + l + ".";
      NDArray[] qkv = m.projectQkv(pre, x, rope, u, p);
      NDArray q = qkv[0]; // [U,H,P,D]
      NDArray kk = qkv[1]; // [U,K,P,D]
      NDArray vv = qkv[2];
      // rows take their prompt's k/v: [J,K,P,D] → [J,P,K,D], the layout of cache[rows, :, positions]
      NDArray kRows = identity ? kk : kk.get(new NDIndex("{}", of));
      NDArray vRows = identity ? vv : vv.get(new NDIndex("{}", of));
      k[l].set(new NDIndex("{}, :, {}", rowIdx, posIdx), kRows.transpose(0, 2, 1, 3));
      v[l].set(new NDIndex("{}, :, {}", rowIdx, posIdx), vRows.transpose(0, 2, 1, 3));
      NDArray qg = q.reshape(u, hk, g * p, d); // query heads of kv head k are h = k·G + g
      NDArray scores = Nd.div(qg.matMul(kk.transpose(0, 1, 3, 2)), Math.sqrt(d)).reshape(u, hk, g, p, p); // [U,K,G,P,P]
      NDArray attn = m.softmax(scores, bias).reshape(u, hk, g * p, p).matMul(vv) // [U,K,G·P,D]
          .reshape(u, hq, p, d).transpose(0, 2, 1, 3).reshape(u, p, (long) hq * d); // [U,P,C]
      x = m.outputAndMlp(pre, x, attn);
    }
    NDArray lastX = x.get(new NDIndex("{}, {}", scope.arange(u).toType(DataType.INT64, false), scope.create(last))); // [U,C]
    return head(m, lastX); // [U,V]
  }

  /**
   * One decode step of rows 0..n-1: feeds {@code ids[r]} at position {@code pos[r]} (written into the
   * cache there) and returns the next-token logits of every row.
   *
   * @param ids [n] token per row (0 for rows not running)
   * @param pos [n] its position (0 for rows not running)
   * @return logits [n,V] float32, in {@code scope}
   */
  public NDArray decode(Qwen2Model m, NDManager scope, long[] ids, long[] pos) {
    int n = ids.length;
    long maxPos = 0;
    for (long x : pos) {
      maxPos = Math.max(maxPos, x);
    }
    int l1 = Math.toIntExact(maxPos + 1);
    reserve(n, l1);
    NDArray posArr = scope.create(pos); // [n]
    NDArray x = embed(m, scope, scope.create(ids).reshape(n, 1)); // [n,1,C]
    NDArray[] rope = m.rope(scope, posArr.reshape(n, 1)); // [n,1,1,D]
    NDArray allowed = scope.arange(l1).toType(DataType.INT64, false).expandDims(0).lte(posArr.expandDims(1)); // [n,L]
    NDArray bias = allowed.toType(DataType.FLOAT32, false).sub(1f).mul(1e9f).reshape(n, 1, 1, l1); // [n,1,1,L]
    NDArray rowIdx = scope.arange(n).toType(DataType.INT64, false); // [n]
    int hq = config.numAttentionHeads();
    int hk = config.numKeyValueHeads();
    int d = config.headDim();
    long g = hq / hk;
    String window = "0:" + n + ", :, 0:" + l1 + ", :";
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      String pre = "model.layers." + l + ".";
      NDArray[] qkv = m.projectQkv(pre, x, rope, n, 1);
      NDArray q = qkv[0]; // [n,H,1,D]
      k[l].set(new NDIndex("{}, :, {}", rowIdx, posArr), qkv[1].squeeze(2)); // cache[r, :, pos[r]] = k [n,K,D]
      v[l].set(new NDIndex("{}, :, {}", rowIdx, posArr), qkv[2].squeeze(2));
      NDArray kw = k[l].get(window); // [n,K,L,D] view
      NDArray vw = v[l].get(window);
      kw.attach(scope);
      vw.attach(scope);
      NDArray qg = q.reshape(n, hk, g, d); // [n,K,G,D]
      NDArray scores = Nd.div(qg.matMul(kw.transpose(0, 1, 3, 2)), Math.sqrt(d)); // [n,K,G,L]
      NDArray attn = m.softmax(scores, bias).matMul(vw).reshape(n, 1, (long) hq * d); // [n,1,C]
      x = m.outputAndMlp(pre, x, attn);
    }
    return head(m, x.reshape(n, config.hiddenSize())); // [n,V]
  }

  private static NDArray embed(Qwen2Model m, NDManager scope, NDArray ids) {
    NDArray e = Embedding.embedding(ids, m.p("model.embed_tokens.weight"), SparseFormat.DENSE).get(0);
    e.attach(scope);
    return e;
  }

  private NDArray head(Qwen2Model m, NDArray x) {
    NDArray h = m.rmsNorm(x, m.p("model.norm.weight"));
    return m.toFloat32(m.head(h));
  }

  @Override
  public void close() {
    mgr.close();
  }
}
