package io.r1cluster.actors.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code GET /metrics} served by the Prometheus Java client's {@link HTTPServer} on one daemon
 * thread: the text exposition format 0.0.4 by default, OpenMetrics or protobuf when the scraper
 * asks for them, gzip when it accepts it; {@code /-/healthy} answers "Exporter is healthy." for a
 * liveness probe.
 */
public final class PrometheusEndpoint implements AutoCloseable {
  public static final String PATH = "/metrics";
  /** What a plain scrape (no {@code Accept} header) gets. */
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HTTPServer server;
  private final InetSocketAddress address;
  private final ExecutorService executor;

  private PrometheusEndpoint(HTTPServer server, InetSocketAddress address, ExecutorService executor) {
    this.server = server;
    this.address = address;
    this.executor = executor;
  }

  /** Starts the endpoint {@code settings} describe, or nothing when its port is 0. */
  public static Optional<PrometheusEndpoint> start(MetricsSettings settings, PrometheusRegistry registry) {
    if (!settings.enabled()) {
      return Optional.empty();
    }
    try {
      return Optional.of(bind(settings.bindAddress(), registry));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serve metrics on " + settings.bindAddress()
          + " (r1.metrics.port / r1.metrics.bind-hostname)", e);
    }
  }

  /** Binds {@code address} (port 0: any free port, see {@link #address()}) and starts serving. */
  public static PrometheusEndpoint bind(InetSocketAddress address, PrometheusRegistry registry) throws IOException {
    if (address.isUnresolved()) {
      throw new IOException("cannot resolve the metrics bind address " + address.getHostString());
    }
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "r1-metrics-http");
      t.setDaemon(true);
      return t;
    });
    try {
      HTTPServer server = HTTPServer.builder()
          .inetAddress(address.getAddress())
          .port(address.getPort())
          .registry(registry)
          .executorService(executor)
          .metricsHandlerPath(PATH)
          .buildAndStart();
      return new PrometheusEndpoint(server, new InetSocketAddress(address.getAddress(), server.getPort()), executor);
    } catch (IOException | RuntimeException e) {
      executor.shutdownNow();
      throw e;
    }
  }

  /** The bound address (with the actual port when bound to port 0). */
  public InetSocketAddress address() {
    return address;
  }

  @Override
  public void close() {
    server.close();
    executor.shutdownNow();
  }
}
