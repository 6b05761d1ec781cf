package io.r1cluster.actors.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The registry's text format, the HTTP endpoint, its settings and the per-ActorSystem extension. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PrometheusEndpointTest {
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> send(InetSocketAddress at, String method, String path) throws Exception {
    URI uri = URI.create("http://" + at.getHostString() + ":" + at.getPort() + path);
    HttpRequest req = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5))
        .method(method, HttpRequest.BodyPublishers.noBody()).build();
    return http.send(req, HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesTheDeclaredMetricsAsExpositionFormat004() throws Exception {
    MetricsRegistry registry = new MetricsRegistry();
    R1Metrics r1 = R1Metrics.declare(registry);
    try (PrometheusEndpoint endpoint =
        PrometheusEndpoint.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry)) {
      r1.rolloutTokensPerSecond.set(1234.5);
      r1.queueDepth.labels("scored_groups").set(3);
      r1.queueDepth.labels("prompts").set(12);
      r1.queueDepth.labels("prompts").inc(-2);
      r1.stalenessMean.set(0.75);
      r1.weightsVersion.set(7);
      r1.weightsPushMs.set(850);
      r1.learnerIdleFraction.set(0.25);

      HttpResponse<String> res = send(endpoint.address(), "GET", "/metrics");
      assertEquals(200, res.statusCode());
      assertEquals("text/plain; version=0.0.4; charset=utf-8", res.headers().firstValue("Content-Type").orElseThrow());
      assertEquals(String.join("\n",
          "# HELP r1_rollout_tokens_per_second Completion tokens generated per second by this node's rollout workers.",
          "# TYPE r1_rollout_tokens_per_second gauge",
          "r1_rollout_tokens_per_second 1234.5",
          "# HELP r1_queue_depth Items waiting in a queue of this node.",
          "# TYPE r1_queue_depth gauge",
          "r1_queue_depth{queue=\"prompts\"} 10",
          "r1_queue_depth{queue=\"scored_groups\"} 3",
          "# HELP r1_staleness_mean Mean policy-version lag (learner version - group version) of the groups in the last step.",
          "# TYPE r1_staleness_mean gauge",
          "r1_staleness_mean 0.75",
          "# HELP r1_weights_version Policy weights version this node serves or last published.",
          "# TYPE r1_weights_version gauge",
          "r1_weights_version 7",
          "# HELP r1_weights_push_ms Milliseconds the last weight push took, publish to complete.",
          "# TYPE r1_weights_push_ms gauge",
          "r1_weights_push_ms 850",
          "# HELP r1_learner_idle_fraction Share of wall time the learner waited for scored groups (0..1); high means rollouts are the bottleneck.",
          "# TYPE r1_learner_idle_fraction gauge",
          "r1_learner_idle_fraction 0.25",
          ""), res.body());

      // values change between scrapes; the lines follow
      r1.weightsVersion.set(8);
      assertTrue(send(endpoint.address(), "GET", "/metrics").body().contains("\nr1_weights_version 8\n"));
    }
  }

  @Test
  void answersOnlyGetAndHeadOnMetrics() throws Exception {
    MetricsRegistry registry = new MetricsRegistry();
    R1Metrics.declare(registry);
    try (PrometheusEndpoint endpoint =
        PrometheusEndpoint.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry)) {
      HttpResponse<String> head = send(endpoint.address(), "HEAD", "/metrics");
      assertEquals(200, head.statusCode());
      assertEquals("", head.body());
      HttpResponse<String> post = send(endpoint.address(), "POST", "/metrics");
      assertEquals(405, post.statusCode());
      assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElseThrow());
      assertEquals(405, send(endpoint.address(), "DELETE", "/metrics").statusCode());
      assertEquals(404, send(endpoint.address(), "GET", "/").statusCode());
      assertEquals(404, send(endpoint.address(), "GET", "/metrics/x").statusCode());
    }
  }

  @Test
  void escapesAndFormatsLikePrometheus() {
    MetricsRegistry registry = new MetricsRegistry();
    MetricsRegistry.Counter c = registry.counter("r1_test_total", "a \\ back\nslash", "k", "j");
    c.labels("a\"b\\c\nd", "x").inc(2);
    MetricsRegistry.Gauge g = registry.gauge("r1_test_values", "values", "v");
    g.labels("nan").set(Double.NaN);
    g.labels("pinf").set(Double.POSITIVE_INFINITY);
    g.labels("minf").set(Double.NEGATIVE_INFINITY);
    g.labels("neg").set(-3);
    g.labels("small").set(1.5e-7);
    assertEquals(String.join("\n",
        "# HELP r1_test_total a \\\\ back\\nslash",
        "# TYPE r1_test_total counter",
        "r1_test_total{k=\"a\\\"b\\\\c\\nd\",j=\"x\"} 2",
        "# HELP r1_test_values values",
        "# TYPE r1_test_values gauge",
        "r1_test_values{v=\"minf\"} -Inf",
        "r1_test_values{v=\"nan\"} NaN",
        "r1_test_values{v=\"neg\"} -3",
        "r1_test_values{v=\"pinf\"} +Inf",
        "r1_test_values{v=\"small\"} 1.5E-7",
        ""), registry.scrape());
  }

  @Test
  void declaringChecksNamesAndConflicts() {
    MetricsRegistry registry = new MetricsRegistry();
    R1Metrics first = R1Metrics.declare(registry);
    R1Metrics second = R1Metrics.declare(registry);
    assertSame(first.queueDepth, second.queueDepth, "declaring again returns the same family");
    assertThrows(IllegalArgumentException.class, () -> registry.counter(R1Metrics.WEIGHTS_VERSION,
        "Policy weights version this node serves or last published."));
    assertThrows(IllegalArgumentException.class, () -> registry.gauge(R1Metrics.QUEUE_DEPTH,
        "Items waiting in a queue of this node.", "queue", "node"));
    assertThrows(IllegalArgumentException.class, () -> registry.gauge("r1-bad-name", "x"));
    assertThrows(IllegalArgumentException.class, () -> registry.gauge("r1_ok", "x", "__reserved"));
    assertThrows(IllegalArgumentException.class, () -> registry.gauge("r1_dup", "x", "a", "a"));
    assertThrows(IllegalArgumentException.class, () -> first.queueDepth.labels());
    assertThrows(IllegalStateException.class, () -> first.queueDepth.set(1));
    MetricsRegistry.Counter c = registry.counter("r1_c_total", "c");
    assertThrows(IllegalArgumentException.class, () -> c.inc(-1));
    assertThrows(IllegalArgumentException.class, () -> c.inc(Double.NaN));
  }

  @Test
  void concurrentUpdatesAreNotLost() throws Exception {
    MetricsRegistry registry = new MetricsRegistry();
    MetricsRegistry.Counter counter = registry.counter("r1_events_total", "events", "worker");
    MetricsRegistry.Gauge gauge = registry.gauge("r1_level", "level");
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      String worker = "w" + (t % 2);
      Thread th = new Thread(() -> {
        for (int i = 0; i < 20_000; i++) {
          counter.labels(worker).inc();
          gauge.inc(1);
          if ((i & 1023) == 0) {
            registry.scrape();
          }
        }
      });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) {
      th.join();
    }
    assertEquals(40_000, counter.labels("w0").get());
    assertEquals(40_000, counter.labels("w1").get());
    assertEquals(80_000, gauge.get());
  }

  @Test
  void settingsDefaultToOffAndToTheNodesOwnAddress() {
    Config reference = ConfigFactory.parseString("pekko.remote.artery.canonical.hostname = \"127.0.0.1\"")
        .withFallback(ConfigFactory.defaultReference()).resolve();
    MetricsSettings defaults = MetricsSettings.fromConfig(reference);
    assertFalse(defaults.enabled(), "no endpoint unless a port is configured");
    assertEquals("127.0.0.1", defaults.bindHostname(), "binds the node's canonical address, not 0.0.0.0");
    assertTrue(PrometheusEndpoint.start(defaults, new MetricsRegistry()).isEmpty());

    Config podLike = ConfigFactory.parseString(
        "r1.metrics.port = 9464\npekko.remote.artery.canonical.hostname = \"10.1.2.3\"").withFallback(reference);
    assertEquals(new MetricsSettings(9464, "10.1.2.3"), MetricsSettings.fromConfig(podLike));
    Config explicit = ConfigFactory.parseString("r1.metrics.bind-hostname = \"0.0.0.0\"").withFallback(podLike);
    assertEquals("0.0.0.0", MetricsSettings.fromConfig(explicit).bindHostname());
    Config wrong = ConfigFactory.parseString("r1.metrics.port = 70000").withFallback(reference);
    assertThrows(IllegalArgumentException.class, () -> MetricsSettings.fromConfig(wrong));
  }

  @Test
  void theExtensionServesEachActorSystemsRegistryUntilShutdown() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort();
    }
    Config config = ConfigFactory.parseString(String.join("\n",
        "r1.metrics.port = " + port,
        "pekko.actor.provider = local",
        "pekko.remote.artery.canonical.hostname = \"127.0.0.1\"",
        "pekko.coordinated-shutdown.exit-jvm = off",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off")).withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "r1-metrics-test", config);
    InetSocketAddress at;
    try {
      Metrics metrics = Metrics.get(system);
      assertSame(metrics, Metrics.get(system));
      at = metrics.endpoint().orElseThrow().address();
      assertEquals(port, at.getPort());
      assertEquals("127.0.0.1", at.getAddress().getHostAddress());
      metrics.r1().queueDepth.labels("prompts").set(5);
      assertTrue(send(at, "GET", "/metrics").body().contains("\nr1_queue_depth{queue=\"prompts\"} 5\n"));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
    InetSocketAddress closed = at;
    assertThrows(ConnectException.class, () -> send(closed, "GET", "/metrics"),
        "the endpoint closes with the ActorSystem");
  }
}
