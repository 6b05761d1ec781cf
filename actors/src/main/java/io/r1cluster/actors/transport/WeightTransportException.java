package io.r1cluster.actors.transport;

/**
 * A failure of the weight transport. {@link #retryable()} tells the caller whether trying again
 * later can help (a receiver stalled the stream past the back-pressure timeout) or not (the
 * publication is closed or its position space is exhausted: make a new publisher).
 */
public final class WeightTransportException extends RuntimeException {
  private final boolean retryable;

  public WeightTransportException(String message, boolean retryable) {
    super((retryable ? "retryable: " : "fatal: ") + message);
    this.retryable = retryable;
  }

  public boolean retryable() {
    return retryable;
  }
}
