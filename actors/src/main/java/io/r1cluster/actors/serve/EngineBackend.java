package io.r1cluster.actors.serve;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.generate.BatchEngine;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.serve.TopLogprobs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link ServeBackend} over {@link BatchEngine}s: API requests join the same running batch as every
 * other sequence on the least-loaded engine (rollouts included, on a cluster member with the rollout
 * and serve roles).
 *
 * <p>The queue is bounded here: a submission that would leave more than {@code maxWaiting}
 * sequences waiting beyond the engine's rows is refused ({@link Busy}).
 *
 * <p>Log-probs: the engine reports each token's sampling log-prob (after temperature). The API
 * reports the model's own distribution and top alternatives, so for a request that asks for them
 * the finished sequence is scored once more on the engine thread (one forward pass over prompt
 * and completion, {@link BatchEngine#withModel}) and the values arrive in
 * {@link TokenSink#onLogprobs} just before {@link TokenSink#onFinish}.
 */
public final class EngineBackend implements ServeBackend {
  /**
   * The engines requests may join, asked at every submission: one standalone engine, or a cluster
   * node's rollout engines (one per device, replaced when the node joins another run). Throws
   * {@link Unavailable} when there are none yet.
   */
  public interface Engines {
    List<BatchEngine> current();
  }

  private final Engines engines;
  private final BatchEngine owned; // closed with this backend; null when the engines belong to someone else
  private final int maxWaiting;
  private final AtomicLong tokens = new AtomicLong();

  /** Over one engine; {@code ownsEngine}: close it with this backend. */
  public EngineBackend(BatchEngine engine, boolean ownsEngine, int maxWaiting) {
    this(() -> List.of(engine), ownsEngine ? engine : null, maxWaiting);
  }

  /** Over engines that belong to someone else (a node's rollout engines). */
  public EngineBackend(Engines engines, int maxWaiting) {
    this(engines, null, maxWaiting);
  }

  private EngineBackend(Engines engines, BatchEngine owned, int maxWaiting) {
    this.engines = engines;
    this.owned = owned;
    this.maxWaiting = maxWaiting;
  }

  /** The least-loaded current engine. */
  private static BatchEngine pick(List<BatchEngine> es) {
    BatchEngine best = es.get(0);
    for (BatchEngine e : es) {
      if (e.load() < best.load()) {
        best = e;
      }
    }
    return best;
  }

  @Override
  public List<Ticket> submit(List<Job> jobs) {
    List<BatchEngine> es = engines.current();
    if (es.isEmpty()) {
      throw new Unavailable("no engine to generate with yet", 5);
    }
    BatchEngine engine = pick(es);
    List<BatchEngine.Request> reqs = new ArrayList<>();
    List<int[][]> outs = new ArrayList<>();
    for (Job j : jobs) {
      SamplingParams p = j.params();
      // stop strings are cut by the caller's TextStream (which cancels the sequence); not here too
      SamplingParams noStop = new SamplingParams(p.temperature(), p.topP(), p.topK(), p.minP(), p.maxNewTokens(),
          p.eosIds(), List.of());
      int[][] produced = {new int[Math.min(p.maxNewTokens(), 256)], {0}};
      outs.add(produced);
      reqs.add(new BatchEngine.Request(j.prompt(), noStop, j.seed(), (tok, lp) -> {
        int n = produced[1][0];
        if (n == produced[0].length) {
          produced[0] = Arrays.copyOf(produced[0], n * 2);
        }
        produced[0][n] = tok;
        produced[1][0] = n + 1;
        tokens.incrementAndGet();
        j.sink().onToken(tok, lp, null, null);
      }));
    }
    List<BatchEngine.Handle> hs;
    synchronized (this) {
      int waitingAfter = engine.load() + jobs.size() - engine.options().maxRows();
      if (waitingAfter > maxWaiting) {
        throw new Busy("the queue is full (" + engine.load() + " sequences running or waiting, " + engine.options().maxRows()
            + " rows, at most " + maxWaiting + " waiting)", 1);
      }
      try {
        hs = engine.submitAll(reqs);
      } catch (IllegalArgumentException e) { // a node's rollout engine may have fewer positions than the model
        throw ApiException.badField("max_tokens", e.getMessage());
      } catch (IllegalStateException e) { // closed: the node's run was just replaced
        throw new Unavailable("the engine was replaced (" + e.getMessage() + ")", 1);
      }
    }
    List<Ticket> out = new ArrayList<>();
    for (int i = 0; i < hs.size(); i++) {
      Job j = jobs.get(i);
      BatchEngine.Handle h = hs.get(i);
      int[][] produced = outs.get(i);
      boolean[] stopping = {false};
      h.result().whenComplete((c, err) -> {
        if (err != null) {
          Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
          if (!(cause instanceof CancellationException)) {
            j.sink().onError(cause);
          } else if (stopping[0]) {
            finish(engine, j, Arrays.copyOf(produced[0], produced[1][0]), FinishReason.STOP);
          }
          return;
        }
        finish(engine, j, Arrays.copyOf(produced[0], produced[1][0]), c.finishReason());
      });
      out.add(new Ticket() {
        @Override
        public void cancel() {
          h.cancel();
        }

        @Override
        public void stop() {
          stopping[0] = true;
          h.cancel();
        }
      });
    }
    return out;
  }

  /** Scores the completion when log-probs were asked for, then reports the end. */
  private static void finish(BatchEngine engine, Job j, int[] completion, FinishReason reason) {
    if (j.topLogprobs() < 0) {
      j.sink().onFinish(reason);
      return;
    }
    engine.withModel(m -> score(m, j.prompt(), completion, j.topLogprobs())).whenComplete((s, e2) -> {
      if (e2 != null) {
        j.sink().onError(e2);
      } else {
        j.sink().onLogprobs(s.lps, s.topIds, s.topLps);
        j.sink().onFinish(reason);
      }
    });
  }

  /** Log-probs of a finished completion under the model, with the top k alternatives per position. */
  record Scores(float[] lps, int[][] topIds, float[][] topLps) {}

  static Scores score(Qwen2Model m, int[] prompt, int[] completion, int k) {
    int c = completion.length;
    float[] lps = new float[c];
    int[][] topIds = new int[c][];
    float[][] topLps = new float[c][];
    if (c == 0) {
      return new Scores(lps, topIds, topLps);
    }
    int t = prompt.length + c - 1; // the last token predicts nothing we need
    long[][] ids = new long[1][t];
    long[][] seg = new long[1][t];
    long[][] pos = new long[1][t];
    for (int i = 0; i < t; i++) {
      ids[0][i] = i < prompt.length ? prompt[i] : completion[i - prompt.length];
      seg[0][i] = 1;
      pos[0][i] = i;
    }
    int vocab = m.config().vocabSize();
    float[] logits;
    try (NDManager s = Devices.manager(m.device())) {
      NDArray all = m.logits(s, s.create(ids), s.create(seg), s.create(pos)); // [1,T,V]
      logits = all.get("0, " + (prompt.length - 1) + ":, :").toFloatArray(); // [C,V]: position p predicts token p+1
    }
    for (int i = 0; i < c; i++) {
      float[] lsm = TopLogprobs.logSoftmax(Arrays.copyOfRange(logits, i * vocab, (i + 1) * vocab));
      lps[i] = lsm[completion[i]];
      topIds[i] = TopLogprobs.topK(lsm, k);
      topLps[i] = new float[topIds[i].length];
      for (int j = 0; j < topIds[i].length; j++) {
        topLps[i][j] = lsm[topIds[i][j]];
      }
    }
    return new Scores(lps, topIds, topLps);
  }

  /** The engines requests join now. */
  public List<BatchEngine> engines() {
    try {
      return engines.current();
    } catch (Unavailable e) {
      return List.of();
    }
  }

  @Override
  public int waiting() {
    int n = 0;
    for (BatchEngine e : engines()) {
      n += Math.max(0, e.load() - e.options().maxRows());
    }
    return n;
  }

  @Override
  public int running() {
    int n = 0;
    for (BatchEngine e : engines()) {
      n += Math.min(e.load(), e.options().maxRows());
    }
    return n;
  }

  /** Completion tokens of the API's sequences (not the rollouts' that share the engines). */
  @Override
  public long tokensGenerated() {
    return tokens.get();
  }

  @Override
  public void close() {
    if (owned != null) {
      owned.close();
    }
  }
}
