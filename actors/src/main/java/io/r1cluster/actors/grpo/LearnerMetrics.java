package io.r1cluster.actors.grpo;

import io.r1cluster.actors.metrics.R1Metrics;
import java.io.PrintStream;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What the learner reports per step besides the GRPO loss: the cluster's metric names
 * ({@code staleness/*} come from the learner; {@code queue/*}, {@code ledger/*},
 * {@code rollout/tokens_per_s}, {@code learner/idle_frac}, {@code weights/push_ms},
 * {@code weights/version} are added here), their share of the node's Prometheus series, and the
 * periodic progress line. The records themselves go to {@code metrics.jsonl} through the trainers'
 * one {@link io.r1cluster.core.train.MetricsLog}.
 */
final class LearnerMetrics {
  private final PrintStream progress;
  private final long intervalNanos;
  private final long startNanos = System.nanoTime();
  private long lastProgress;

  /** Progress lines to {@code progress}, at most one per {@code interval} unless forced. */
  LearnerMetrics(PrintStream progress, Duration interval) {
    this.progress = progress;
    this.intervalNanos = interval.toNanos();
    this.lastProgress = startNanos;
  }

  /**
   * One step's line: the learner's metrics plus the cluster's ({@code queue/*}, {@code ledger/*},
   * throughput, idle fraction, step and push times, published version, global step).
   */
  static Map<String, Double> stepMetrics(Map<String, Double> learner, PromptLedger.Counters c, double tokensPerSecond,
      double idleFraction, double stepSeconds, double pushMillis, long publishedVersion, int globalStep) {
    Map<String, Double> m = new LinkedHashMap<>(learner);
    m.put("queue/in_flight", (double) c.inFlight());
    m.put("queue/buffered", (double) c.buffered());
    m.put("queue/budget", (double) c.budget());
    m.put("ledger/dispatched", (double) c.dispatched());
    m.put("ledger/completed", (double) c.completed());
    m.put("ledger/retried", (double) c.retried());
    m.put("ledger/dropped_stale", (double) c.droppedStale());
    m.put("ledger/duplicate_ignored", (double) c.duplicateIgnored());
    m.put("ledger/trained", (double) c.trained());
    m.put("ledger/filtered", (double) c.filtered());
    m.put("ledger/trained_twice", (double) c.trainedTwice());
    m.put("rollout/tokens_per_s", tokensPerSecond);
    m.put("learner/idle_frac", idleFraction);
    m.put("learner/step_s", stepSeconds);
    m.put("weights/push_ms", pushMillis);
    m.put("weights/version", (double) publishedVersion);
    m.put("global_step", (double) globalStep);
    return m;
  }

  /** The learner's share of the node's Prometheus series (r1.metrics; served when its port is set). */
  static void exportToPrometheus(R1Metrics r1, Map<String, Double> m) {
    r1.learnerIdleFraction.set(m.getOrDefault("learner/idle_frac", 0.0));
    r1.weightsPushMs.set(m.getOrDefault("weights/push_ms", 0.0));
    r1.weightsVersion.set(m.getOrDefault("weights/version", 0.0));
    r1.stalenessMean.set(m.getOrDefault("staleness/mean", 0.0));
    r1.queueDepth.labelValues("in_flight").set(m.getOrDefault("queue/in_flight", 0.0));
    r1.queueDepth.labelValues("scored_groups").set(m.getOrDefault("queue/buffered", 0.0));
  }

  /** Prints a progress line when the interval has passed (or {@code force}). */
  void progress(int step, int total, Map<String, Double> m, boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastProgress < intervalNanos) {
      return;
    }
    lastProgress = now;
    double secs = (now - startNanos) / 1e9;
    double rate = step / Math.max(1e-9, secs);
    long eta = rate > 0 ? Math.round((total - step) / rate) : -1;
    progress.printf("[grpo] step %d/%d (%.0f%%) | %.2f steps/s | ETA %s | reward %.3f | v%d | in flight %d/%d | stale dropped %d | retried %d%n",
        step, total, 100.0 * step / Math.max(1, total), rate, eta < 0 ? "?" : fmt(eta), m.getOrDefault("reward", Double.NaN),
        m.getOrDefault("weights/version", 0.0).longValue(), m.getOrDefault("queue/in_flight", 0.0).longValue(),
        m.getOrDefault("queue/budget", 0.0).longValue(), m.getOrDefault("ledger/dropped_stale", 0.0).longValue(),
        m.getOrDefault("ledger/retried", 0.0).longValue());
  }

  private static String fmt(long s) {
    return String.format("%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60);
  }
}
