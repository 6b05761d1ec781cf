package io.r1cluster.core.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code metrics.jsonl}: one JSON object per logging step ({@code step} plus TRL metric names),
 * appended and flushed as training goes, and PNG plots of every metric against the step. Each
 * record also goes to the {@link MetricsSink}s given (e.g. TensorBoard event files for {@code report_to}).
 * The one metrics log of every trainer: SFT and distillation ({@link #log}), GRPO in process and the
 * actors' learner ({@link #step}, which adds the cluster's metric names).
 */
public final class MetricsLog implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private final JsonLines out;
  private final List<MetricsSink> sinks;

  /**
   * Opens {@code file} for appending. When resuming, lines after {@code keepUpToStep} (written by the
   * interrupted run after its last checkpoint) are dropped first so the log has each step once, and a
   * line torn by a kill is cut off ({@link JsonLines}).
   */
  public MetricsLog(Path file, long keepUpToStep) {
    this(file, keepUpToStep, List.of());
  }

  /** {@link #MetricsLog(Path, long)} that also passes every record to {@code sinks} (closed with this log). */
  public MetricsLog(Path file, long keepUpToStep, List<MetricsSink> sinks) {
    this.file = file;
    this.sinks = List.copyOf(sinks);
    this.out = JsonLines.open(file, keepUpToStep);
  }

  public Path file() {
    return file;
  }

  /** Appends one record. */
  public synchronized void log(long step, Map<String, ?> metrics) {
    ObjectNode n = JSON.createObjectNode();
    n.put("step", step);
    metrics.forEach((k, v) -> n.set(k, JSON.valueToTree(v)));
    out.append(n);
    MetricsSink.logAll(sinks, step, metrics);
  }

  /**
   * Appends one optimizer step's record: {@code step}, {@code epoch}, then {@code metrics} in their
   * order, a non-finite value written as {@code null}; the sinks get the metrics and the epoch.
   */
  public synchronized void step(long step, double epoch, Map<String, Double> metrics) {
    ObjectNode n = JSON.createObjectNode();
    n.put("step", step);
    n.put("epoch", epoch);
    metrics.forEach((k, v) -> {
      if (v == null || v.isNaN() || v.isInfinite()) {
        n.putNull(k);
      } else {
        n.put(k, v);
      }
    });
    out.append(n);
    if (!sinks.isEmpty()) {
      Map<String, Object> rec = new LinkedHashMap<>(metrics);
      rec.put("epoch", epoch);
      MetricsSink.logAll(sinks, step, rec);
    }
  }

  /**
   * The end-of-training summary record (transformers' {@code train_runtime} entry): to the sinks only,
   * so {@code metrics.jsonl} keeps one line per logged step; {@code trainer_state.json} has it too.
   */
  public synchronized void summary(long step, Map<String, ?> metrics) {
    MetricsSink.logAll(sinks, step, metrics);
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } finally {
      MetricsSink.closeAll(sinks);
    }
  }

  /** Reads a metrics file: per metric name, the (step, value) pairs in order. */
  public static Map<String, double[][]> read(Path file) {
    Map<String, List<double[]>> series = new LinkedHashMap<>();
    for (JsonNode n : JsonLines.read(file)) {
      double step = n.path("step").asDouble();
      n.fields().forEachRemaining(e -> {
        if (!e.getKey().equals("step") && e.getValue().isNumber()) {
          series.computeIfAbsent(e.getKey(), k -> new ArrayList<>()).add(new double[] {step, e.getValue().asDouble()});
        }
      });
    }
    Map<String, double[][]> out = new LinkedHashMap<>();
    series.forEach((k, v) -> out.put(k, v.toArray(new double[0][])));
    return out;
  }

  /**
   * Draws one PNG per metric ({@code dir/NAME.png}, '/' in names becomes '_') with the metric
   * against the optimizer step; returns the files written.
   */
  public static List<Path> plot(Path metricsFile, Path dir, String titlePrefix) {
    System.setProperty("java.awt.headless", "true");
    List<Path> written = new ArrayList<>();
    try {
      Files.createDirectories(dir);
      for (var e : read(metricsFile).entrySet()) {
        double[][] pts = e.getValue();
        if (pts.length == 0) {
          continue;
        }
        double[] x = new double[pts.length];
        double[] y = new double[pts.length];
        for (int i = 0; i < pts.length; i++) {
          x[i] = pts[i][0];
          y[i] = Double.isFinite(pts[i][1]) ? pts[i][1] : Double.NaN;
        }
        XYChart chart = new XYChartBuilder().width(640).height(400)
            .title(titlePrefix + e.getKey()).xAxisTitle("step").yAxisTitle(e.getKey()).build();
        chart.getStyler().setLegendVisible(false);
        chart.addSeries(e.getKey(), x, y).setMarker(pts.length > 50 ? SeriesMarkers.NONE : SeriesMarkers.CIRCLE);
        Path png = dir.resolve(e.getKey().replace('/', '_') + ".png");
        BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
        written.add(png);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return written;
  }
}
