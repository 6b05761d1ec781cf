package io.r1cluster.actors.serve;

import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.generate.SamplingParams;
import java.util.List;

/**
 * What the HTTP layer needs from a generation engine: submit sequences (all or none), hear their
 * tokens, cancel them. {@link EngineBackend} runs them in continuously batched running batches.
 */
public interface ServeBackend extends AutoCloseable {
  /**
   * One sequence to generate; {@code params.stop()} is applied by the caller, EOS ids and max tokens
   * here. {@code topLogprobs}: -1 no log-probs wanted, else log-probs with that many alternatives.
   */
  record Job(int[] prompt, SamplingParams params, long seed, int topLogprobs, TokenSink sink) {}

  /** Receives one sequence's tokens on the engine's thread; must not block. */
  interface TokenSink {
    /**
     * One sampled token. When log-probs were asked for, a backend gives them here ({@code topIds}
     * non-null) or all at once in {@link #onLogprobs} before {@link #onFinish}.
     */
    void onToken(int tokenId, float logprob, int[] topIds, float[] topLogprobs);

    /** The log-probs of all tokens so far (model distribution) and their top alternatives, best first. */
    default void onLogprobs(float[] logprobs, int[][] topIds, float[][] topLogprobs) {}

    /** The sequence ended by itself: EOS (STOP) or max tokens (LENGTH); not called after a cancel. */
    void onFinish(FinishReason reason);

    void onError(Throwable error);
  }

  /** A submitted sequence. */
  interface Ticket {
    /** Frees the sequence's row at the next step boundary; nothing further arrives (client gone). */
    void cancel();

    /**
     * Ends the sequence because the caller saw a stop string: its row is freed as by {@link #cancel},
     * but the sink still gets {@link TokenSink#onLogprobs} (when asked for and not given per token)
     * and then {@link TokenSink#onFinish} with STOP.
     */
    void stop();
  }

  /** The queue cannot take the jobs now; {@code retryAfterSeconds} is a hint for the client. */
  final class Busy extends RuntimeException {
    private final int retryAfterSeconds;

    public Busy(String message, int retryAfterSeconds) {
      super(message);
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public int retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  /** Nothing can generate now (no weights on this node yet); {@code retryAfterSeconds} is a hint. */
  final class Unavailable extends RuntimeException {
    private final int retryAfterSeconds;

    public Unavailable(String message, int retryAfterSeconds) {
      super(message);
      this.retryAfterSeconds = retryAfterSeconds;
    }

    public int retryAfterSeconds() {
      return retryAfterSeconds;
    }
  }

  /** Queues all {@code jobs} or none ({@link Busy}, {@link Unavailable}). */
  List<Ticket> submit(List<Job> jobs);

  /** Sequences waiting for a row. */
  int waiting();

  /** Sequences in the running batch. */
  int running();

  /** Completion tokens generated since start. */
  long tokensGenerated();

  @Override
  void close();
}
