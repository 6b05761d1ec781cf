package io.r1cluster.core.serve;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.KvCacheRows;
import io.r1cluster.core.model.Qwen2Model;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One running batch per model, continuously batched: a request joins at a token-step boundary and
 * leaves the moment it finishes or is cancelled, so a long completion never holds a short one back
 * and the batch stays full while requests keep arriving.
 *
 * <pre>
 *  submit() ─► waiting (bounded: QueueFullException when full)
 *                 │  at each step boundary, up to maxRows − running
 *                 ▼
 *   prefill the newcomers in a side cache [b,K,T,D] (chunked: b·chunk·V logits at most)
 *   sample their first token ─► listener        (time to first token)
 *   append their rows to the running cache       (KvCacheRows.appendRows, S aligned by left padding)
 *                 │
 *                 ▼
 *   decode step: every running row feeds its last token [B,1] → logits [B,1,V]
 *   sample per row (own seeded RNG) ─► listener
 *   rows that hit EOS / max tokens / cancel leave (KvCacheRows.keepRows)
 *   columns left of every row's first real token are cut (KvCacheRows.trimLeft)
 * </pre>
 *
 * <p>One daemon thread runs the loop (grad mode off on it); listeners are called on that thread and
 * must not block. A row's tokens depend only on its prompt, sampling parameters and seed, not on
 * which other rows share its steps (up to float rounding of the batched matmuls).
 *
 * <p>Log-probs handed to listeners are those of the model's own distribution (log-softmax of the
 * raw logits, before temperature and truncation), as the OpenAI API and vLLM report them.
 */
public final class ContinuousBatcher implements AutoCloseable {
  /** What a request wants: prompt ids, sampling (EOS ids and max tokens included), seed, top-k log-probs. */
  public record Request(int[] prompt, SamplingParams params, long seed, int topLogprobs, Listener listener) {
    public Request {
      if (prompt.length == 0) {
        throw new IllegalArgumentException("empty prompt");
      }
    }
  }

  /** Called on the engine thread; must return quickly. */
  public interface Listener {
    /** One sampled token with its log-prob and (when asked for) the top log-probs, best first. */
    void onToken(int tokenId, float logprob, int[] topIds, float[] topLogprobs);

    /** The row ended by itself: an EOS id (STOP) or max tokens (LENGTH). Not called after a cancel. */
    void onFinish(FinishReason reason);

    /** The engine failed while this row was in it; nothing further comes. */
    void onError(Throwable error);
  }

  /** A submitted request; {@link #cancel} frees its row at the next step boundary. */
  public static final class Handle {
    private volatile boolean cancelled;

    public void cancel() {
      cancelled = true;
    }

    public boolean cancelled() {
      return cancelled;
    }
  }

  /** The waiting queue is full; try again later. */
  public static final class QueueFullException extends RuntimeException {
    public QueueFullException(String message) {
      super(message);
    }
  }

  /**
   * @param maxRows rows decoded together at most (the running batch)
   * @param maxWaiting requests queued beyond the running batch before {@link #submit} refuses
   * @param prefillLogitsBudget most logits floats one prefill forward may produce (b·chunk·V)
   */
  public record Options(int maxRows, int maxWaiting, long prefillLogitsBudget) {
    public Options {
      if (maxRows < 1 || maxWaiting < 0 || prefillLogitsBudget < 1) {
        throw new IllegalArgumentException("maxRows >= 1, maxWaiting >= 0, budget >= 1: " + maxRows + ", "
            + maxWaiting + ", " + prefillLogitsBudget);
      }
    }

    public static Options defaults() {
      return new Options(64, 256, 64L << 20);
    }
  }

  private static final class Row {
    final Request req;
    final Handle handle;
    final SplittableRandom rng;
    int generated;
    int pending; // last sampled token, not yet in the cache
    long nextPos; // rotary position of the pending token
    long startCol; // cache column of the row's first real token

    Row(Request req, Handle handle) {
      this.req = req;
      this.handle = handle;
      this.rng = new SplittableRandom(req.seed());
    }
  }

  private final Qwen2Model model;
  private final Options options;
  private final int vocab;
  private final Object lock = new Object();
  private final ArrayDeque<Row> waiting = new ArrayDeque<>();
  private final List<Row> running = new ArrayList<>();
  private final Thread thread;
  private final AtomicLong tokensOut = new AtomicLong();
  private final AtomicLong steps = new AtomicLong();
  private volatile int runningCount;
  private volatile long cacheColumns;
  private int occupiedRows; // rows running or being prefilled; guarded by lock
  private volatile boolean closed;
  private Qwen2Model.KvCache cache;

  public ContinuousBatcher(Qwen2Model model, Options options) {
    this.model = model;
    this.options = options;
    this.vocab = model.config().vocabSize();
    this.thread = new Thread(this::loop, "r1-serve-engine");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Queues all {@code requests} or none: when they do not fit in the waiting queue beside the
   * requests already there, throws {@link QueueFullException}.
   */
  public List<Handle> submit(List<Request> requests) {
    List<Handle> hs = new ArrayList<>();
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("the engine is closed");
      }
      int free = options.maxRows() - occupiedRows;
      int wouldWait = Math.max(0, waiting.size() + requests.size() - Math.max(0, free));
      if (wouldWait > options.maxWaiting()) {
        throw new QueueFullException("the queue is full (" + waiting.size() + " waiting, " + occupiedRows
            + " running, at most " + options.maxWaiting() + " waiting)");
      }
      for (Request r : requests) {
        Handle h = new Handle();
        waiting.add(new Row(r, h));
        hs.add(h);
      }
      lock.notifyAll();
    }
    return hs;
  }

  /** Requests waiting for a row. */
  public int waiting() {
    synchronized (lock) {
      return waiting.size();
    }
  }

  /** Rows in the running batch. */
  public int running() {
    return runningCount;
  }

  /** Columns S of the running batch's KV cache (0 when idle). */
  public long cacheColumns() {
    return cacheColumns;
  }

  /** Completion tokens sampled since start. */
  public long tokensGenerated() {
    return tokensOut.get();
  }

  /** Decode steps run since start. */
  public long steps() {
    return steps.get();
  }

  public Options options() {
    return options;
  }

  private void loop() {
    Engine.getInstance();
    if (JniUtils.isGradMode()) {
      JniUtils.setGradMode(false);
    }
    while (true) {
      List<Row> admit = new ArrayList<>();
      synchronized (lock) {
        while (!closed && running.isEmpty() && waiting.isEmpty()) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            closed = true;
          }
        }
        if (closed) {
          break;
        }
        waiting.removeIf(r -> r.handle.cancelled());
        while (!waiting.isEmpty() && running.size() + admit.size() < options.maxRows()) {
          admit.add(waiting.poll());
        }
        occupiedRows = running.size() + admit.size();
      }
      try {
        step(admit);
      } catch (Throwable t) {
        failAll(admit, t);
      }
      synchronized (lock) {
        occupiedRows = running.size();
      }
      cacheColumns = cache == null ? 0 : cache.length();
    }
    synchronized (lock) {
      for (Row r : waiting) {
        r.req.listener().onError(new IllegalStateException("the engine was closed"));
      }
      waiting.clear();
    }
    for (Row r : running) {
      r.req.listener().onError(new IllegalStateException("the engine was closed"));
    }
    running.clear();
    if (cache != null) {
      cache.close();
    }
  }

  private void failAll(List<Row> admitted, Throwable t) {
    List<Row> all = new ArrayList<>(running);
    for (Row r : admitted) {
      if (!all.contains(r)) {
        all.add(r);
      }
    }
    running.clear();
    runningCount = 0;
    if (cache != null) {
      cache.close();
      cache = null;
    }
    for (Row r : all) {
      try {
        r.req.listener().onError(t);
      } catch (RuntimeException ignored) {
        // a listener that fails on an error has nothing left to tell
      }
    }
  }

  private void step(List<Row> admit) {
    dropCancelled();
    if (!admit.isEmpty()) {
      prefill(admit);
    }
    if (!running.isEmpty()) {
      decode();
    }
    runningCount = running.size();
  }

  private void dropCancelled() {
    boolean any = false;
    for (Row r : running) {
      any |= r.handle.cancelled();
    }
    if (any) {
      keep(r -> !r.handle.cancelled());
    }
  }

  /** Prefills {@code rows} in a side cache, samples their first token, appends the live ones to the batch. */
  private void prefill(List<Row> rows) {
    int b = rows.size();
    int t = 0;
    for (Row r : rows) {
      t = Math.max(t, r.req.prompt().length);
    }
    long[][] ids = new long[b][t];
    long[][] valid = new long[b][t];
    long[][] pos = new long[b][t];
    for (int i = 0; i < b; i++) {
      int[] p = rows.get(i).req.prompt();
      int pad = t - p.length;
      for (int j = 0; j < p.length; j++) {
        ids[i][pad + j] = p[j];
        valid[i][pad + j] = 1;
        pos[i][pad + j] = j;
      }
    }
    int chunk = (int) Math.max(1, Math.min(t, options.prefillLogitsBudget() / ((long) b * vocab)));
    Qwen2Model.KvCache part = model.newCache();
    try {
      float[] last = null;
      try (NDManager base = Devices.manager(model.device())) {
        for (int from = 0; from < t; from += chunk) {
          int to = Math.min(t, from + chunk);
          try (NDManager s = base.newSubManager()) {
            NDArray logits = model.forwardCached(s, s.create(slice(ids, from, to)), s.create(slice(valid, from, to)),
                s.create(slice(pos, from, to)), part);
            if (to == t) {
              last = logits.get(":, " + (to - from - 1) + ", :").toFloatArray(); // [b,V]
            }
          }
        }
      }
      boolean[] alive = new boolean[b];
      int nAlive = 0;
      for (int i = 0; i < b; i++) {
        Row r = rows.get(i);
        r.nextPos = r.req.prompt().length;
        alive[i] = !r.handle.cancelled() && sample(r, last, i);
        nAlive += alive[i] ? 1 : 0;
      }
      if (nAlive == 0) {
        return;
      }
      if (nAlive < b) {
        int[] keep = new int[nAlive];
        for (int i = 0, k = 0; i < b; i++) {
          if (alive[i]) {
            keep[k++] = i;
          }
        }
        KvCacheRows.keepRows(part, keep);
      }
      if (cache == null) {
        cache = model.newCache();
      }
      long before = cache.length();
      KvCacheRows.appendRows(cache, part);
      long shift = cache.length() - before;
      for (Row r : running) {
        r.startCol += shift;
      }
      for (int i = 0; i < b; i++) {
        if (alive[i]) {
          Row r = rows.get(i);
          r.startCol = cache.length() - r.req.prompt().length;
          running.add(r);
        }
      }
    } finally {
      part.close();
    }
  }

  private static long[][] slice(long[][] a, int from, int to) {
    long[][] out = new long[a.length][];
    for (int i = 0; i < a.length; i++) {
      out[i] = Arrays.copyOfRange(a[i], from, to);
    }
    return out;
  }

  private void decode() {
    int b = running.size();
    long[][] ids = new long[b][1];
    long[][] valid = new long[b][1];
    long[][] pos = new long[b][1];
    for (int i = 0; i < b; i++) {
      Row r = running.get(i);
      ids[i][0] = r.pending;
      valid[i][0] = 1;
      pos[i][0] = r.nextPos;
    }
    float[] last;
    try (NDManager s = Devices.manager(model.device())) {
      last = model.forwardCached(s, s.create(ids), s.create(valid), s.create(pos), cache).get(":, 0, :").toFloatArray(); // [B,V]
    }
    steps.incrementAndGet();
    boolean[] alive = new boolean[b];
    boolean anyDone = false;
    for (int i = 0; i < b; i++) {
      Row r = running.get(i);
      r.nextPos++;
      alive[i] = !r.handle.cancelled() && sample(r, last, i);
      anyDone |= !alive[i];
    }
    if (anyDone) {
      int[] idx = {0};
      keep(r -> alive[idx[0]++]);
    }
    trim();
  }

  /** Keeps the running rows for which {@code keep} holds (called once per row, in order). */
  private void keep(java.util.function.Predicate<Row> keep) {
    List<Integer> kept = new ArrayList<>();
    Iterator<Row> it = running.iterator();
    int i = 0;
    while (it.hasNext()) {
      Row r = it.next();
      if (keep.test(r)) {
        kept.add(i);
      } else {
        it.remove();
      }
      i++;
    }
    KvCacheRows.keepRows(cache, kept.stream().mapToInt(Integer::intValue).toArray());
    if (running.isEmpty()) {
      cache.close();
      cache = null;
    }
  }

  /** Cuts columns that no running row has a real token in, once they are a quarter of the cache or more. */
  private void trim() {
    if (cache == null || running.isEmpty()) {
      return;
    }
    long min = Long.MAX_VALUE;
    for (Row r : running) {
      min = Math.min(min, r.startCol);
    }
    if (min > 0 && min * 4 >= cache.length()) {
      KvCacheRows.trimLeft(cache, min);
      for (Row r : running) {
        r.startCol -= min;
      }
    }
  }

  /** Samples row {@code i} of {@code logits} [B,V] for {@code r}; false when the row is done. */
  private boolean sample(Row r, float[] logits, int i) {
    float[] row = Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab);
    SamplingParams sp = r.req.params();
    int tok = Sampler.pick(row, sp, r.rng);
    float[] lsm = logSoftmax(row);
    int k = Math.min(r.req.topLogprobs(), vocab);
    int[] topIds = topK(lsm, k);
    float[] topLps = new float[k];
    for (int j = 0; j < k; j++) {
      topLps[j] = lsm[topIds[j]];
    }
    r.generated++;
    r.pending = tok;
    tokensOut.incrementAndGet();
    r.req.listener().onToken(tok, lsm[tok], topIds, topLps);
    if (r.handle.cancelled()) {
      return false;
    }
    if (sp.eosIds().contains(tok)) {
      r.req.listener().onFinish(FinishReason.STOP);
      return false;
    }
    if (r.generated >= sp.maxNewTokens()) {
      r.req.listener().onFinish(FinishReason.LENGTH);
      return false;
    }
    return true;
  }

  static float[] logSoftmax(float[] x) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : x) {
      max = Math.max(max, v);
    }
    double z = 0;
    for (float v : x) {
      z += Math.exp(v - max);
    }
    double lz = max + Math.log(z);
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (float) (x[i] - lz);
    }
    return out;
  }

  /** Indices of the k largest values, largest first (ties: lower index first). */
  static int[] topK(float[] x, int k) {
    int[] best = new int[k];
    int n = 0;
    for (int i = 0; i < x.length && k > 0; i++) {
      if (n < k) {
        n++;
      } else if (x[i] <= x[best[k - 1]]) {
        continue;
      }
      int j = n - 1;
      while (j > 0 && x[best[j - 1]] < x[i]) {
        best[j] = best[j - 1];
        j--;
      }
      best[j] = i;
    }
    return best;
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    try {
      thread.join(60_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
