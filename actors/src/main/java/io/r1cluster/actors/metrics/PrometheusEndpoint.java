package io.r1cluster.actors.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code GET /metrics} in the Prometheus text exposition format 0.0.4, served by the JDK's
 * {@link HttpServer} on one daemon thread (a scrape renders a few hundred bytes; nothing else is
 * served). {@code HEAD} is answered too; other methods get 405, other paths 404.
 */
public final class PrometheusEndpoint implements AutoCloseable {
  public static final String PATH = "/metrics";
  public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final HttpServer server;
  private final ExecutorService executor;

  private PrometheusEndpoint(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
  }

  /** Starts the endpoint {@code settings} describe, or nothing when its port is 0. */
  public static Optional<PrometheusEndpoint> start(MetricsSettings settings, MetricsRegistry registry) {
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
  public static PrometheusEndpoint bind(InetSocketAddress address, MetricsRegistry registry) throws IOException {
    HttpServer server = HttpServer.create(address, 16);
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "r1-metrics-http");
      t.setDaemon(true);
      return t;
    });
    server.setExecutor(executor);
    server.createContext("/", exchange -> handle(exchange, registry));
    server.start();
    return new PrometheusEndpoint(server, executor);
  }

  private static void handle(HttpExchange exchange, MetricsRegistry registry) throws IOException {
    try (exchange) {
      String method = exchange.getRequestMethod();
      if (!PATH.equals(exchange.getRequestURI().getPath())) {
        exchange.sendResponseHeaders(404, -1);
        return;
      }
      boolean head = "HEAD".equals(method);
      if (!head && !"GET".equals(method)) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        exchange.sendResponseHeaders(405, -1);
        return;
      }
      byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", CONTENT_TYPE);
      exchange.sendResponseHeaders(200, head ? -1 : body.length);
      if (!head) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  /** The bound address (with the actual port when bound to port 0). */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
