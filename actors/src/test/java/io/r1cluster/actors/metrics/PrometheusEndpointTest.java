package io.r1cluster.actors.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
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
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Our metric names and values as the Prometheus client serves them, the HTTP endpoint, its settings
 * and the per-ActorSystem extension (with the client's JVM and process series).
 */
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
    PrometheusRegistry registry = new PrometheusRegistry();
    R1Metrics r1 = R1Metrics.declare(registry);
    try (PrometheusEndpoint endpoint =
        PrometheusEndpoint.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry)) {
      r1.rolloutTokensPerSecond.set(1234.5);
      r1.queueDepth.labelValues("scored_groups").set(3);
      r1.queueDepth.labelValues("prompts").set(12);
      r1.queueDepth.labelValues("prompts").inc(-2);
      r1.stalenessMean.set(0.75);
      r1.weightsVersion.set(7);
      r1.weightsPushMs.set(850);
      r1.learnerIdleFraction.set(0.25);

      HttpResponse<String> res = send(endpoint.address(), "GET", "/metrics");
      assertEquals(200, res.statusCode());
      assertEquals(PrometheusEndpoint.CONTENT_TYPE, res.headers().firstValue("Content-Type").orElseThrow());
      // the names, help texts, types and values dashboards and the HPA rely on (families sorted by name)
      assertEquals(String.join("\n",
          "# HELP r1_learner_idle_fraction Share of wall time the learner waited for scored groups (0..1); high means rollouts are the bottleneck.",
          "# TYPE r1_learner_idle_fraction gauge",
          "r1_learner_idle_fraction 0.25",
          "# HELP r1_queue_depth Items waiting in a queue of this node.",
          "# TYPE r1_queue_depth gauge",
          "r1_queue_depth{queue=\"prompts\"} 10.0",
          "r1_queue_depth{queue=\"scored_groups\"} 3.0",
          "# HELP r1_rollout_tokens_per_second Completion tokens generated per second by this node's rollout workers.",
          "# TYPE r1_rollout_tokens_per_second gauge",
          "r1_rollout_tokens_per_second 1234.5",
          "# HELP r1_staleness_mean Mean policy-version lag (learner version - group version) of the groups in the last step.",
          "# TYPE r1_staleness_mean gauge",
          "r1_staleness_mean 0.75",
          "# HELP r1_weights_push_ms Milliseconds the last weight push took, publish to complete.",
          "# TYPE r1_weights_push_ms gauge",
          "r1_weights_push_ms 850.0",
          "# HELP r1_weights_version Policy weights version this node serves or last published.",
          "# TYPE r1_weights_version gauge",
          "r1_weights_version 7.0",
          ""), res.body());
      assertEquals(res.body(), Metrics.scrape(registry), "scrape() renders what the endpoint serves");

      // values change between scrapes; the lines follow
      r1.weightsVersion.set(8);
      assertTrue(send(endpoint.address(), "GET", "/metrics").body().contains("\nr1_weights_version 8.0\n"));
    }
  }

  @Test
  void answersGetAndHeadOnMetricsAndAHealthProbe() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    R1Metrics.declare(registry);
    try (PrometheusEndpoint endpoint =
        PrometheusEndpoint.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), registry)) {
      HttpResponse<String> head = send(endpoint.address(), "HEAD", "/metrics");
      assertEquals(200, head.statusCode());
      assertEquals("", head.body());
      HttpResponse<String> healthy = send(endpoint.address(), "GET", "/-/healthy");
      assertEquals(200, healthy.statusCode());
      assertTrue(healthy.body().contains("healthy"), healthy.body());
    }
  }

  @Test
  void declaringTwiceInOneRegistryFails() {
    PrometheusRegistry registry = new PrometheusRegistry();
    R1Metrics r1 = R1Metrics.declare(registry);
    assertThrows(IllegalArgumentException.class, () -> R1Metrics.declare(registry),
        "one registry holds one r1_* family of each name");
    assertThrows(IllegalArgumentException.class, () -> r1.queueDepth.labelValues(),
        "r1_queue_depth needs its queue label");
  }

  @Test
  void theExtensionAddsJvmAndProcessSeries() throws Exception {
    Config config = ConfigFactory.parseString(String.join("\n",
        "pekko.actor.provider = local",
        "pekko.coordinated-shutdown.exit-jvm = off",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off")).withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "r1-metrics-jvm-test", config);
    try {
      Metrics metrics = Metrics.get(system);
      assertTrue(metrics.endpoint().isEmpty(), "no endpoint unless r1.metrics.port is set");
      String text = metrics.scrape();
      for (String family : List.of("r1_learner_idle_fraction", "jvm_memory_used_bytes", "jvm_gc_collection_seconds",
          "jvm_threads_current", "process_cpu_seconds_total")) {
        assertTrue(text.contains("\n# TYPE " + family + " "), family + " in\n" + text);
      }
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void settingsDefaultToOffAndToTheNodesOwnAddress() {
    Config reference = ConfigFactory.parseString("pekko.remote.artery.canonical.hostname = \"127.0.0.1\"")
        .withFallback(ConfigFactory.defaultReference()).resolve();
    MetricsSettings defaults = MetricsSettings.fromConfig(reference);
    assertFalse(defaults.enabled(), "no endpoint unless a port is configured");
    assertEquals("127.0.0.1", defaults.bindHostname(), "binds the node's canonical address, not 0.0.0.0");
    assertTrue(PrometheusEndpoint.start(defaults, new PrometheusRegistry()).isEmpty());

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
      metrics.r1().queueDepth.labelValues("prompts").set(5);
      assertTrue(send(at, "GET", "/metrics").body().contains("\nr1_queue_depth{queue=\"prompts\"} 5.0\n"));
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
    InetSocketAddress closed = at;
    assertThrows(ConnectException.class, () -> send(closed, "GET", "/metrics"),
        "the endpoint closes with the ActorSystem");
  }
}
