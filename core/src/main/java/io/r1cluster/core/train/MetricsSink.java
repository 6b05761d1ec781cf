package io.r1cluster.core.train;

import java.util.Map;

/**
 * Somewhere a training run's logged metrics also go (besides {@code metrics.jsonl}): the metrics
 * logs of the SFT and GRPO drivers call every sink with each record they write, in step order.
 * Implementations: {@link TensorBoardEvents} ({@code report_to: tensorboard}).
 */
public interface MetricsSink extends AutoCloseable {
  /** One logged record: the optimizer step it belongs to and its values (numbers are plotted, the rest skipped). */
  void log(long step, Map<String, ?> metrics);

  /** Flushes and releases the sink; an I/O failure is an unchecked exception. */
  @Override
  void close();

  /** Calls {@code sink.log} on each sink. */
  static void logAll(Iterable<? extends MetricsSink> sinks, long step, Map<String, ?> metrics) {
    for (MetricsSink s : sinks) {
      s.log(step, metrics);
    }
  }

  /** Closes every sink, even when one fails; the first failure is rethrown. */
  static void closeAll(Iterable<? extends MetricsSink> sinks) {
    RuntimeException first = null;
    for (MetricsSink s : sinks) {
      try {
        s.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
