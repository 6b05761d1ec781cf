package io.r1cluster.actors.metrics;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * One {@link PrometheusRegistry} per ActorSystem, with the {@link R1Metrics} and the Prometheus
 * client's JVM and process series ({@code jvm_memory_*}, {@code jvm_gc_*}, {@code jvm_threads_*},
 * {@code process_cpu_seconds_total}, …) registered and, when {@code r1.metrics.port} is not 0, its
 * {@link PrometheusEndpoint} started; the endpoint closes in coordinated shutdown. Any actor reaches
 * it with {@code Metrics.get(context.getSystem()).r1()}. The node's main calls
 * {@code Metrics.get(system)} once at start-up so that the endpoint is up (and a port clash fails
 * the start) before any role reports.
 */
public final class Metrics implements Extension {
  private static final Id ID = new Id();

  private final PrometheusRegistry registry;
  private final R1Metrics r1;
  private final Optional<PrometheusEndpoint> endpoint;

  private Metrics(ActorSystem<?> system) {
    this.registry = new PrometheusRegistry();
    this.r1 = R1Metrics.declare(registry);
    JvmMetrics.builder().register(registry);
    this.endpoint = PrometheusEndpoint.start(MetricsSettings.fromConfig(system.settings().config()), registry);
    endpoint.ifPresent(e -> {
      system.log().info("Prometheus metrics on http://{}:{}{}", e.address().getHostString(),
          e.address().getPort(), PrometheusEndpoint.PATH);
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
          "r1-metrics-endpoint", () -> {
            e.close();
            return CompletableFuture.completedFuture(Done.getInstance());
          });
    });
  }

  public static Metrics get(ActorSystem<?> system) {
    return ID.apply(system);
  }

  public PrometheusRegistry registry() {
    return registry;
  }

  public R1Metrics r1() {
    return r1;
  }

  /** The whole registry as the endpoint serves it to a plain scrape (text format 0.0.4). */
  public String scrape() {
    return scrape(registry);
  }

  /** {@code registry} in the Prometheus text exposition format 0.0.4. */
  public static String scrape(PrometheusRegistry registry) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      PrometheusTextFormatWriter.create().write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** The running endpoint; empty when {@code r1.metrics.port = 0}. */
  public Optional<PrometheusEndpoint> endpoint() {
    return endpoint;
  }

  private static final class Id extends ExtensionId<Metrics> {
    @Override
    public Metrics createExtension(ActorSystem<?> system) {
      return new Metrics(system);
    }
  }
}
