package io.r1cluster.core.generate;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.model.RowKvCache;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * A continuously batched generation engine: one running batch on one model (one device), fed by
 * any number of callers. Sequences join at token-step boundaries and leave as soon as they finish
 * (or are cancelled); each holds one row of a pre-allocated {@link RowKvCache}, reused by the next
 * sequence. A joining group's distinct prompts are prefilled once, with the LM head on the last
 * prompt token only.
 *
 * <pre>
 *   submit ──► queue ──► [engine thread]  loop:
 *                          apply a pending weight swap (see below)
 *                          drop cancelled rows
 *                          admit waiting submissions while rows are free (a submission's
 *                            sequences join together) → prefill → first token of each
 *                          one decode step over every running row → next token of each
 *                          finished rows complete their futures and free their rows
 * </pre>
 *
 * <p>Sampling is per sequence, exactly as {@link Sampler}: a request seeded with
 * {@link Sampler#rowSeed Sampler.rowSeed(seed, r)} draws what row r of {@code Sampler.generate(…,
 * seed, …)} draws; log-probs are log softmax(logits / temperature) of the sampled token; a
 * sequence stops at an EOS id, a stop string or {@code maxNewTokens}.
 *
 * <p>Weights ({@link #updateWeights}) are swapped on the engine thread between steps. By default
 * the engine drains first: it admits nothing new while a swap is pending and swaps once no
 * sequence is running, so every completion comes from one version. With {@code inflightWeightUpdate}
 * it swaps at the next step boundary without draining (PipelineRL); running sequences continue
 * on the new weights with the keys/values the old ones wrote, and a completion's
 * {@link Completion#policyVersion()} is the oldest version that wrote any of its tokens (the one
 * it joined under). Either way a submission made after {@code updateWeights(m, v)} returns is
 * generated entirely by version ≥ v.
 *
 * <p>Callers never block the engine: {@link #submit} returns at once; listeners run on the
 * engine thread and must be quick.
 */
public final class BatchEngine implements AutoCloseable {

  /**
   * @param maxRows sequences running at once (rows of the cache); more wait in order
   * @param maxSeqLen longest prompt + completion a sequence may have (positions of the cache)
   * @param inflightWeightUpdate swap weights between token steps without draining
   */
  public record Options(int maxRows, int maxSeqLen, boolean inflightWeightUpdate) {
    public Options {
      if (maxRows < 1 || maxSeqLen < 2) {
        throw new IllegalArgumentException("batch engine needs maxRows >= 1 and maxSeqLen >= 2, got " + maxRows
            + ", " + maxSeqLen);
      }
    }
  }

  /** Receives each sampled token of one sequence, on the engine thread, as it is sampled. */
  @FunctionalInterface
  public interface TokenListener {
    TokenListener NONE = (token, logProb) -> {};

    void onToken(int tokenId, float logProb);
  }

  /**
   * A {@link TokenListener} that also gets the raw logits row each token was drawn from (before
   * temperature and filtering), e.g. to report the model's own log-probs and top alternatives per
   * token. The array is a copy the listener may keep.
   */
  public interface LogitsListener extends TokenListener {
    void onToken(int tokenId, float logProb, float[] logits);

    @Override
    default void onToken(int tokenId, float logProb) {
      throw new UnsupportedOperationException("the engine calls onToken(tokenId, logProb, logits)");
    }
  }

  /** One sequence to generate. {@code seed} seeds its own random stream. */
  public record Request(int[] promptIds, SamplingParams params, long seed, TokenListener listener) {
    public Request {
      if (promptIds.length == 0) {
        throw new IllegalArgumentException("empty prompt");
      }
      listener = listener == null ? TokenListener.NONE : listener;
    }
  }

  /** A submitted sequence: its result, and a way to stop it. */
  public static final class Handle {
    private final CompletableFuture<Completion> result = new CompletableFuture<>();
    private volatile boolean cancelled;

    private Handle() {}

    /**
     * Completes with the finished completion (tokens, behaviour log-probs, text, finish reason,
     * policy version); fails with {@link CancellationException} after {@link #cancel()}, or with the
     * engine's error.
     */
    public CompletableFuture<Completion> result() {
      return result;
    }

    /** Stops the sequence: its row is freed at the next step boundary and no more tokens are reported. */
    public void cancel() {
      cancelled = true;
      result.completeExceptionally(new CancellationException("cancelled"));
    }

    public boolean isCancelled() {
      return cancelled;
    }
  }

  /**
   * Counters since the engine started: decode steps, sampled tokens, prompt tokens prefilled,
   * prefill passes (sequences joining at one step share one), and the most sequences run at once.
   */
  public record Stats(long steps, long tokens, long prefillTokens, long prefills, int maxActive) {}

  private sealed interface Cmd permits Submits, Swap, Task, Stop {}

  /** One group's sequences: they join the batch together, once they all fit. */
  private record Submit(List<Row> rows) {}

  /** The groups handed in by one call ({@link #submitGroups}): they wait, and are admitted, in order. */
  private record Submits(List<Submit> submits) implements Cmd {}

  /** New weights: a model to run ({@code write} null), or a write into the engine's own model ({@code model} null). */
  private record Swap(Qwen2Model model, long version, WeightWrite write) implements Cmd {
    /** Releases what a swap that will not be applied holds (a model the engine does not run, or a write's source). */
    void discard(Qwen2Model running) {
      if (write != null) {
        write.close();
      } else if (model != running) {
        model.close();
      }
    }
  }

  /**
   * New weights written into the engine's own model in place ({@link #updateWeightsInPlace}): the engine
   * calls {@link #writeInto} on its thread when the swap applies (between steps, as for a new model),
   * then {@link #close}. A write superseded by a newer update, or still pending when the engine closes,
   * is only closed.
   */
  public interface WeightWrite extends AutoCloseable {
    /** Writes the new weights into {@code model} (on the engine thread, between token steps). */
    void writeInto(Qwen2Model model);

    /**
     * Releases the source of the weights; called once the write is done or will not happen, and possibly
     * again when it raced with the engine's stop: only the first call may release anything.
     */
    @Override
    void close();
  }

  /** A failed in-place write: the model's weights are no longer one version, so the engine stops. */
  private static final class WeightsLost extends IllegalStateException {
    WeightsLost(long version, RuntimeException cause) {
      super("batch engine closed: writing weights version " + version + " into its model failed", cause);
    }
  }

  private record Task(Runnable run) implements Cmd {}

  private enum Stop implements Cmd { INSTANCE }

  /** A sequence's state on the engine thread. */
  private static final class Row {
    final Request req;
    final Handle handle;
    final SplittableRandom rng;
    int slot = -1;
    int[] tokens;
    float[] lps;
    int n;
    long version;
    FinishReason reason;

    Row(Request req) {
      this.req = req;
      this.handle = new Handle();
      this.rng = new SplittableRandom(req.seed());
      this.tokens = new int[Math.min(req.params().maxNewTokens(), 64)];
      this.lps = new float[tokens.length];
    }

    void add(int tok, float lp) {
      if (n == tokens.length) {
        tokens = Arrays.copyOf(tokens, Math.min(req.params().maxNewTokens(), n * 2));
        lps = Arrays.copyOf(lps, tokens.length);
      }
      tokens[n] = tok;
      lps[n++] = lp;
    }

    /** Position of the last sampled token (the one the next step feeds). */
    long pos() {
      return req.promptIds().length + n - 1L;
    }
  }

  private final Options opts;
  private final Function<int[], String> decoder;
  private final LinkedBlockingQueue<Cmd> inbox = new LinkedBlockingQueue<>();
  private final Thread thread;
  private final ArrayDeque<Submit> waiting = new ArrayDeque<>();
  private final ArrayDeque<Task> tasks = new ArrayDeque<>();
  private final Row[] bySlot;
  private final BitSet used = new BitSet();
  private final AtomicLong steps = new AtomicLong();
  private final AtomicLong tokens = new AtomicLong();
  private final AtomicLong prefillTokens = new AtomicLong();
  private final AtomicLong prefills = new AtomicLong();
  private volatile int maxActive;
  /** Sequences submitted and not yet running (in the inbox or waiting for rows). */
  private final java.util.concurrent.atomic.AtomicInteger queued = new java.util.concurrent.atomic.AtomicInteger();
  private volatile long version;
  private volatile boolean closed;
  private Qwen2Model model;
  private boolean ownsModel;
  private Swap pendingSwap;
  private RowKvCache cache;
  private volatile int active;

  /**
   * Starts an engine on {@code model}'s device.
   *
   * @param ownsModel whether the engine closes {@code model} (when it is swapped out or the engine closes)
   * @param decoder token ids → text (stop strings and completion text)
   */
  public BatchEngine(Qwen2Model model, boolean ownsModel, long version, Function<int[], String> decoder, Options opts,
      String name) {
    this.model = model;
    this.ownsModel = ownsModel;
    this.version = version;
    this.decoder = decoder;
    this.opts = opts;
    this.bySlot = new Row[opts.maxRows()];
    this.thread = new Thread(this::loop, "r1-batch-engine-" + name);
    thread.setDaemon(true);
    thread.start();
  }

  /** Submits one sequence. */
  public Handle submit(int[] promptIds, SamplingParams params, long seed, TokenListener listener) {
    return submitAll(List.of(new Request(promptIds, params, seed, listener))).get(0);
  }

  /**
   * Submits sequences that join the batch at the same step (so, without in-flight updates, they
   * share one policy version), in order after everything submitted before.
   *
   * @throws IllegalArgumentException when there are more than {@code maxRows} of them or one is
   *     longer than {@code maxSeqLen} (prompt + max new tokens)
   */
  public List<Handle> submitAll(List<Request> requests) {
    return submitGroups(List.of(requests)).get(0);
  }

  /**
   * Submits several groups at once, each as {@link #submitAll} would: the engine sees them together,
   * so the groups that fit join the batch at the same step and share one prefill, instead of the
   * first one starting alone while the others are still being handed in. Returns each group's handles.
   *
   * @throws IllegalArgumentException as {@link #submitAll}, for any one group
   */
  public List<List<Handle>> submitGroups(List<List<Request>> groups) {
    List<Submit> submits = new ArrayList<>();
    List<List<Handle>> out = new ArrayList<>();
    int rows = 0;
    for (List<Request> g : groups) {
      List<Row> rs = rowsOf(g);
      if (!rs.isEmpty()) {
        submits.add(new Submit(rs));
        rows += rs.size();
      }
      out.add(rs.stream().map(r -> r.handle).toList());
    }
    if (submits.isEmpty()) {
      return out; // nothing to run (an empty group never reached the engine, closed or not)
    }
    if (closed) {
      throw new IllegalStateException("batch engine is closed");
    }
    queued.addAndGet(rows);
    inbox.add(new Submits(submits));
    if (closed) { // the engine stopped meanwhile: its shutdown may have emptied the inbox before these arrived
      IllegalStateException gone = new IllegalStateException("batch engine is closed");
      submits.forEach(sub -> sub.rows().forEach(r -> r.handle.result().completeExceptionally(gone)));
    }
    return out;
  }

  private List<Row> rowsOf(List<Request> requests) {
    if (requests.size() > opts.maxRows()) {
      throw new IllegalArgumentException(requests.size() + " sequences submitted together, but the engine runs at most "
          + opts.maxRows() + " at once");
    }
    List<Row> rows = new ArrayList<>();
    for (Request r : requests) {
      int need = r.promptIds().length + r.params().maxNewTokens();
      if (need > opts.maxSeqLen()) {
        throw new IllegalArgumentException("prompt of " + r.promptIds().length + " tokens + " + r.params().maxNewTokens()
            + " new tokens exceeds the engine's " + opts.maxSeqLen() + " positions");
      }
      rows.add(new Row(r));
    }
    return rows;
  }

  /**
   * Hands the engine new weights (it owns and later closes {@code m}); swapped between steps as the
   * class comment says. Submissions made after this call are generated by version ≥ {@code v}. With
   * the model the engine already runs (an in-process learner updated its parameters in place, while
   * nothing was generating), only the version advances and ownership does not change.
   */
  public void updateWeights(Qwen2Model m, long v) {
    if (closed) {
      m.close();
      throw new IllegalStateException("batch engine is closed");
    }
    inbox.add(new Swap(m, v, null));
  }

  /**
   * Hands the engine new weights to write into the model it runs, in place ({@link WeightWrite}), at the
   * point where {@link #updateWeights} would swap models: the device never holds two copies of the
   * model. Submissions made after this call are generated by version ≥ {@code v}. If the write fails
   * the engine stops: its running and waiting sequences fail, and so does every later submission.
   */
  public void updateWeightsInPlace(WeightWrite w, long v) {
    if (closed) {
      w.close();
      throw new IllegalStateException("batch engine is closed");
    }
    inbox.add(new Swap(null, v, w));
    if (closed && Thread.currentThread() != thread) {
      // the engine is stopping, and its shutdown may have emptied the inbox before this arrived: once its
      // thread has ended nothing can be reading the write's source, so release it here (again, at worst)
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      w.close();
    }
  }

  /**
   * Runs {@code f} on the engine thread between steps, with the model in use — after any swap
   * requested before this call.
   */
  public <T> CompletableFuture<T> withModel(Function<Qwen2Model, T> f) {
    CompletableFuture<T> out = new CompletableFuture<>();
    inbox.add(new Task(() -> {
      try {
        out.complete(f.apply(model));
      } catch (RuntimeException e) {
        out.completeExceptionally(e);
      }
    }));
    if (closed) {
      out.completeExceptionally(new IllegalStateException("batch engine is closed"));
    }
    return out;
  }

  /** Version of the weights in use (a pending swap not counted). */
  public long version() {
    return version;
  }

  /** Sequences running plus submitted and waiting to join. */
  public int load() {
    return active + queued.get();
  }

  public Options options() {
    return opts;
  }

  public Stats stats() {
    return new Stats(steps.get(), tokens.get(), prefillTokens.get(), prefills.get(), maxActive);
  }

  // ---------------------------------------------------------------- engine thread

  private void loop() {
    Engine.getInstance();
    if (JniUtils.isGradMode()) {
      JniUtils.setGradMode(false); // grad mode is per thread and on by default
    }
    WeightsLost lost = null;
    try (NDManager base = Devices.manager(model.device())) {
      while (true) {
        Cmd c = active == 0 && waiting.isEmpty() && pendingSwap == null ? take() : inbox.poll();
        boolean stop = false;
        while (c != null) {
          if (c == Stop.INSTANCE) {
            stop = true;
          } else {
            accept(c);
          }
          c = inbox.poll();
        }
        if (stop) {
          break;
        }
        try {
          step(base);
        } catch (WeightsLost e) {
          lost = e;
          break;
        } catch (RuntimeException | Error e) {
          failRunning(e);
        }
      }
    } finally {
      shutdown(lost);
    }
  }

  private Cmd take() {
    try {
      return inbox.take();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Stop.INSTANCE;
    }
  }

  private void accept(Cmd c) {
    if (c instanceof Submits ss) {
      waiting.addAll(ss.submits());
    } else if (c instanceof Swap s) {
      if (pendingSwap != null && (pendingSwap.write() != null || pendingSwap.model() != s.model())) {
        pendingSwap.discard(model); // superseded before it was used
      }
      pendingSwap = s;
    } else if (c instanceof Task t) {
      tasks.add(t);
    }
  }

  private void step(NDManager base) {
    if (pendingSwap != null && (opts.inflightWeightUpdate() || active == 0)) {
      Swap s = pendingSwap;
      pendingSwap = null;
      if (s.write() != null) {
        try (WeightWrite w = s.write()) {
          w.writeInto(model);
        } catch (RuntimeException e) {
          throw new WeightsLost(s.version(), e);
        }
      } else if (s.model() != model) {
        if (ownsModel) {
          model.close();
        }
        model = s.model();
        ownsModel = true;
      } // else: the engine's own model, changed in place by an in-process learner; only the version advances
      version = s.version();
      if (cache != null && cache.dataType() != model.dataType()) {
        cache.close();
        cache = null;
      }
    }
    if (pendingSwap == null) { // a task sees the newest weights handed to the engine before it
      for (Task t; (t = tasks.poll()) != null; ) {
        t.run().run();
      }
    }
    for (int s = used.nextSetBit(0); s >= 0; s = used.nextSetBit(s + 1)) {
      if (bySlot[s].handle.isCancelled()) {
        free(bySlot[s]);
      }
    }
    if (cache == null) {
      cache = new RowKvCache(model.config(), model.device(), model.dataType(), opts.maxRows(), opts.maxSeqLen());
    }
    List<Row> joining = admit();
    if (!joining.isEmpty()) {
      prefill(base, joining);
    }
    if (active > 0) {
      decode(base);
    }
  }

  /** Takes waiting submissions, in order, while their rows fit (none while a drain-first swap is pending). */
  private List<Row> admit() {
    List<Row> joining = new ArrayList<>();
    if (pendingSwap != null && !opts.inflightWeightUpdate()) {
      return joining;
    }
    while (!waiting.isEmpty()) {
      Submit s = waiting.peek();
      int before = s.rows().size();
      s.rows().removeIf(r -> r.handle.isCancelled());
      queued.addAndGet(s.rows().size() - before);
      if (s.rows().size() > opts.maxRows() - active) {
        break;
      }
      waiting.poll();
      queued.addAndGet(-s.rows().size());
      for (Row r : s.rows()) {
        r.slot = used.nextClearBit(0);
        used.set(r.slot);
        bySlot[r.slot] = r;
        r.version = version;
        active++;
        joining.add(r);
      }
    }
    maxActive = Math.max(maxActive, active);
    return joining;
  }

  private void prefill(NDManager base, List<Row> joining) {
    Map<Object, Integer> index = new HashMap<>();
    List<int[]> distinct = new ArrayList<>();
    int[] slots = new int[joining.size()];
    int[] promptOf = new int[joining.size()];
    for (int j = 0; j < joining.size(); j++) {
      Row r = joining.get(j);
      slots[j] = r.slot;
      promptOf[j] = index.computeIfAbsent(new Key(r.req.promptIds()), k -> {
        distinct.add(r.req.promptIds());
        return distinct.size() - 1;
      });
    }
    float[] logits;
    int vocab = model.config().vocabSize();
    try (NDManager s = base.newSubManager()) {
      logits = cache.prefill(model, s, slots, promptOf, distinct.toArray(new int[0][])).toFloatArray(); // [U,V]
    }
    prefillTokens.addAndGet(distinct.stream().mapToLong(p -> p.length).sum());
    prefills.incrementAndGet();
    for (int j = 0; j < joining.size(); j++) {
      sample(joining.get(j), logits, promptOf[j] * vocab, vocab);
    }
  }

  private void decode(NDManager base) {
    int n = used.length(); // highest running row + 1: rows are taken lowest first
    long[] ids = new long[n];
    long[] pos = new long[n];
    for (int s = used.nextSetBit(0); s >= 0; s = used.nextSetBit(s + 1)) {
      Row r = bySlot[s];
      ids[s] = r.tokens[r.n - 1];
      pos[s] = r.pos();
    }
    float[] logits;
    try (NDManager sc = base.newSubManager()) {
      logits = cache.decode(model, sc, ids, pos).toFloatArray(); // [n,V]
    }
    steps.incrementAndGet();
    int vocab = model.config().vocabSize();
    for (int s = used.nextSetBit(0); s >= 0; s = used.nextSetBit(s + 1)) {
      sample(bySlot[s], logits, s * vocab, vocab);
    }
  }

  /** Draws the next token of {@code r} from logits[off, off + vocab); finishes the row when it stops. */
  private void sample(Row r, float[] logits, int off, int vocab) {
    if (r.handle.isCancelled()) {
      free(r);
      return;
    }
    float[] row = Arrays.copyOfRange(logits, off, off + vocab);
    SamplingParams sp = r.req.params();
    int tok = Sampler.pick(row, sp, r.rng);
    float lp = (float) Sampler.logProb(row, tok, sp.temperature());
    r.add(tok, lp);
    tokens.incrementAndGet();
    try {
      if (r.req.listener() instanceof LogitsListener l) {
        l.onToken(tok, lp, row); // row: this token's own copy, untouched by pick
      } else {
        r.req.listener().onToken(tok, lp);
      }
    } catch (RuntimeException e) {
      r.handle.result().completeExceptionally(e);
      free(r);
      return;
    }
    if (sp.eosIds().contains(tok)) {
      r.reason = FinishReason.STOP;
    } else if (!sp.stop().isEmpty()) {
      String text = decoder.apply(Arrays.copyOf(r.tokens, r.n));
      for (String st : sp.stop()) {
        if (text.endsWith(st)) {
          r.reason = FinishReason.STOP;
          break;
        }
      }
    }
    if (r.reason == null && r.n >= sp.maxNewTokens()) {
      r.reason = FinishReason.LENGTH;
    }
    if (r.reason != null) {
      free(r);
      int[] t = Arrays.copyOf(r.tokens, r.n);
      int textLen = r.reason == FinishReason.STOP && sp.eosIds().contains(t[t.length - 1]) ? t.length - 1 : t.length;
      r.handle.result().complete(new Completion(t, Arrays.copyOf(r.lps, r.n), decoder.apply(Arrays.copyOf(t, textLen)),
          r.reason, r.version));
    }
  }

  private void free(Row r) {
    if (r.slot >= 0 && bySlot[r.slot] == r) {
      bySlot[r.slot] = null;
      used.clear(r.slot);
      active--;
    }
    r.slot = -1;
  }

  private void failRunning(Throwable e) {
    for (int s = used.nextSetBit(0); s >= 0; s = used.nextSetBit(s + 1)) {
      Row r = bySlot[s];
      r.handle.result().completeExceptionally(e);
      free(r);
    }
  }

  private void shutdown(WeightsLost cause) {
    IllegalStateException gone = cause != null ? cause : new IllegalStateException("batch engine closed");
    closed = true;
    failRunning(gone);
    for (Submit s : waiting) {
      s.rows().forEach(r -> r.handle.result().completeExceptionally(gone));
    }
    waiting.clear();
    for (Cmd c; (c = inbox.poll()) != null; ) {
      if (c instanceof Submits ss) {
        ss.submits().forEach(s -> s.rows().forEach(r -> r.handle.result().completeExceptionally(gone)));
      } else if (c instanceof Swap s) {
        s.discard(model);
      } else if (c instanceof Task t) {
        t.run().run();
      }
    }
    if (pendingSwap != null) {
      pendingSwap.discard(model);
    }
    pendingSwap = null;
    for (Task t; (t = tasks.poll()) != null; ) {
      t.run().run();
    }
    if (cache != null) {
      cache.close();
    }
    if (ownsModel) {
      model.close();
    }
  }

  /** Stops the engine: running and waiting sequences fail, owned models are closed. Waits for the thread. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    inbox.add(Stop.INSTANCE);
    if (Thread.currentThread() != thread) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Prompt ids by content (a group's sequences share one prompt: prefilled once). */
  private record Key(int[] ids) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && Arrays.equals(ids, k.ids);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(ids);
    }
  }
}
