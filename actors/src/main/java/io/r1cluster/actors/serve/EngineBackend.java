package io.r1cluster.actors.serve;

import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.generate.BatchEngine;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.serve.TopLogprobs;
import java.util.ArrayList;
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
 * <p>Log-probs: the engine's own per-token value is the sampling log-prob (after temperature). The
 * API reports the model's distribution and its top alternatives, so a request that asks for them
 * listens with a {@link BatchEngine.LogitsListener} and gets both from each step's raw logits, per
 * token ({@link TokenSink#onToken} with {@code topIds}).
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
    for (Job j : jobs) {
      SamplingParams p = j.params();
      // stop strings are cut by the caller's TextStream (which cancels the sequence); not here too
      SamplingParams noStop = new SamplingParams(p.temperature(), p.topP(), p.topK(), p.minP(), p.maxNewTokens(),
          p.eosIds(), List.of());
      reqs.add(new BatchEngine.Request(j.prompt(), noStop, j.seed(), listener(j)));
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
      boolean[] stopping = {false};
      h.result().whenComplete((c, err) -> {
        if (err != null) {
          Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
          if (!(cause instanceof CancellationException)) {
            j.sink().onError(cause);
          } else if (stopping[0]) {
            j.sink().onFinish(FinishReason.STOP);
          }
          return;
        }
        j.sink().onFinish(c.finishReason());
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

  /**
   * The engine's listener for one job: counts the token and hands it on; when log-probs were asked
   * for, with the model's own log-prob (log-softmax of the raw logits, before temperature) and the
   * top alternatives of that step, so a stream carries them in the chunk of their token.
   */
  private BatchEngine.TokenListener listener(Job j) {
    int k = j.topLogprobs();
    if (k < 0) {
      return (tok, lp) -> {
        tokens.incrementAndGet();
        j.sink().onToken(tok, lp, null, null);
      };
    }
    return (BatchEngine.LogitsListener) (tok, lp, logits) -> {
      tokens.incrementAndGet();
      float[] lsm = TopLogprobs.logSoftmax(logits);
      int[] topIds = TopLogprobs.topK(lsm, k);
      float[] topLps = new float[topIds.length];
      for (int i = 0; i < topIds.length; i++) {
        topLps[i] = lsm[topIds[i]];
      }
      j.sink().onToken(tok, lsm[tok], topIds, topLps);
    };
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
