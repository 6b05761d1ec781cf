package io.r1cluster.actors.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The serving series, registered in the node's Prometheus registry (served on {@code /metrics} of
 * the API port, and on the node's metrics endpoint when {@code r1.metrics.port} is set):
 *
 * <ul>
 *   <li>{@code r1_serve_requests_total{endpoint, status}} — API requests by route and HTTP status
 *   <li>{@code r1_serve_queue_depth} — sequences waiting for a row of the running batch
 *   <li>{@code r1_serve_running_sequences} — sequences in the running batch
 *   <li>{@code r1_serve_time_to_first_token_seconds} — histogram, request arrival to first token
 *   <li>{@code r1_serve_completion_tokens_total} — tokens generated
 *   <li>{@code r1_serve_tokens_per_second} — completion tokens per second over the last second
 * </ul>
 */
public final class ServeMetrics {
  final Counter requests;
  final Gauge queueDepth;
  final Gauge running;
  final Histogram ttft;
  final Counter completionTokens;
  final Gauge tokensPerSecond;
  private long lastTokens;
  private long lastNanos = System.nanoTime();

  public ServeMetrics(PrometheusRegistry r) {
    requests = Counter.builder().name("r1_serve_requests_total").help("API requests by route and HTTP status.")
        .labelNames("endpoint", "status").register(r);
    queueDepth = Gauge.builder().name("r1_serve_queue_depth").help("Sequences waiting for a row of the running batch.")
        .register(r);
    running = Gauge.builder().name("r1_serve_running_sequences").help("Sequences in the running batch.").register(r);
    ttft = Histogram.builder().name("r1_serve_time_to_first_token_seconds")
        .help("Request arrival to its first generated token.")
        .classicUpperBounds(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30).register(r);
    completionTokens = Counter.builder().name("r1_serve_completion_tokens_total").help("Completion tokens generated.")
        .register(r);
    tokensPerSecond = Gauge.builder().name("r1_serve_tokens_per_second")
        .help("Completion tokens generated per second, over the last sampling interval.").register(r);
  }

  /** Samples the backend's gauges; called about once a second. */
  synchronized void sample(ServeBackend backend) {
    queueDepth.set(backend.waiting());
    running.set(backend.running());
    long now = System.nanoTime();
    long tokens = backend.tokensGenerated();
    double dt = (now - lastNanos) / 1e9;
    if (dt > 0) {
      tokensPerSecond.set((tokens - lastTokens) / dt);
      completionTokens.inc(tokens - lastTokens);
    }
    lastTokens = tokens;
    lastNanos = now;
  }
}
