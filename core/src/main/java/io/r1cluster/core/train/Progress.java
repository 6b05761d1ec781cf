package io.r1cluster.core.train;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress line for long work: {@code task  step/total  pct  rate unit/s  ETA}, printed at most
 * every {@code minIntervalMs} (and at the end), one line each, so it reads well in a terminal and
 * in CI logs alike.
 */
public final class Progress {
  private final String task;
  private final long total;
  private final String unit;
  private final PrintStream out;
  private final long minIntervalMs;
  private final long startNanos = System.nanoTime();
  private final long startDone;
  private long lastPrint;

  public Progress(String task, long startDone, long total, String unit, PrintStream out, long minIntervalMs) {
    this.task = task;
    this.total = total;
    this.unit = unit;
    this.out = out;
    this.minIntervalMs = minIntervalMs;
    this.startDone = startDone;
  }

  /** Reports {@code done} units finished; {@code extra} is appended (e.g. the loss). */
  public void update(long done, String extra) {
    long now = System.nanoTime();
    boolean last = done >= total;
    if (!last && (now - lastPrint) / 1_000_000 < minIntervalMs) {
      return;
    }
    lastPrint = now;
    double secs = Math.max(1e-9, (now - startNanos) / 1e9);
    double rate = (done - startDone) / secs;
    long eta = rate > 0 ? (long) ((total - done) / rate) : -1;
    out.println(String.format(Locale.ROOT, "%s %d/%d %5.1f%% %.2f %s/s ETA %s%s", task, done, total,
        100.0 * done / Math.max(1, total), rate, unit, eta < 0 ? "?" : fmt(eta), extra == null ? "" : "  " + extra));
    out.flush();
  }

  static String fmt(long s) {
    return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
        : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
  }
}
