package io.r1cluster.actors.metrics;

import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The metrics every r1 node declares, so that a scrape shows the same series on every node (at 0
 * until the role that owns a value sets it) and dashboards, the HPA and the README can rely on the
 * names. The roles fill them in:
 *
 * <ul>
 *   <li>{@value #ROLLOUT_TOKENS_PER_SECOND} — completion tokens generated per second by this node's
 *       rollout workers (rollout)
 *   <li>{@value #QUEUE_DEPTH}{@code {queue=...}} — items waiting in a named queue of this node, e.g.
 *       {@code queue="prompts"} (admitted, not yet generating) or {@code queue="scored_groups"}
 *       (waiting for the learner)
 *   <li>{@value #STALENESS_MEAN} — mean {@code learner version − group version} of the groups in the
 *       last step (learner)
 *   <li>{@value #WEIGHTS_VERSION} — policy version this node serves (rollout) or last published
 *       (learner)
 *   <li>{@value #WEIGHTS_PUSH_MS} — milliseconds the last weight push took, publish to last receiver
 *       complete (learner)
 *   <li>{@value #LEARNER_IDLE_FRACTION} — share of wall time, over the last steps, that the learner
 *       waited for scored groups (0..1): high means rollouts are the bottleneck. The rollout HPA in
 *       {@code k8s/base/hpa.yaml} scales on it.
 * </ul>
 *
 * <p>They are Prometheus client gauges ({@code set}, {@code inc}, {@code get}; a labelled one through
 * {@code labelValues(...)}), registered in one {@link PrometheusRegistry} per ActorSystem, next to
 * the client's JVM and process series (see {@link Metrics}).
 */
public final class R1Metrics {
  public static final String ROLLOUT_TOKENS_PER_SECOND = "r1_rollout_tokens_per_second";
  public static final String QUEUE_DEPTH = "r1_queue_depth";
  public static final String QUEUE_LABEL = "queue";
  public static final String STALENESS_MEAN = "r1_staleness_mean";
  public static final String WEIGHTS_VERSION = "r1_weights_version";
  public static final String WEIGHTS_PUSH_MS = "r1_weights_push_ms";
  public static final String LEARNER_IDLE_FRACTION = "r1_learner_idle_fraction";

  public final Gauge rolloutTokensPerSecond;
  public final Gauge queueDepth;
  public final Gauge stalenessMean;
  public final Gauge weightsVersion;
  public final Gauge weightsPushMs;
  public final Gauge learnerIdleFraction;

  private R1Metrics(PrometheusRegistry r) {
    rolloutTokensPerSecond = gauge(r, ROLLOUT_TOKENS_PER_SECOND,
        "Completion tokens generated per second by this node's rollout workers.");
    queueDepth = gauge(r, QUEUE_DEPTH, "Items waiting in a queue of this node.", QUEUE_LABEL);
    stalenessMean = gauge(r, STALENESS_MEAN,
        "Mean policy-version lag (learner version - group version) of the groups in the last step.");
    weightsVersion = gauge(r, WEIGHTS_VERSION, "Policy weights version this node serves or last published.");
    weightsPushMs = gauge(r, WEIGHTS_PUSH_MS, "Milliseconds the last weight push took, publish to complete.");
    learnerIdleFraction = gauge(r, LEARNER_IDLE_FRACTION,
        "Share of wall time the learner waited for scored groups (0..1); high means rollouts are the bottleneck.");
  }

  private static Gauge gauge(PrometheusRegistry registry, String name, String help, String... labelNames) {
    return Gauge.builder().name(name).help(help).labelNames(labelNames).register(registry);
  }

  /**
   * Registers the r1 metrics in {@code registry}.
   *
   * @throws IllegalArgumentException if {@code registry} already has a metric of one of these names
   */
  public static R1Metrics declare(PrometheusRegistry registry) {
    return new R1Metrics(registry);
  }
}
