package io.r1cluster.actors.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.regex.Pattern;

/**
 * Named gauges and counters with labels, rendered in the Prometheus text exposition format 0.0.4.
 *
 * <p>A metric <em>family</em> is declared once with its name, help text and label names; each
 * distinct tuple of label values is a child with its own value. A family without labels has one
 * child, present (at 0) from the moment it is declared; a labelled family shows a sample only once
 * {@code labels(...)} has been called for it.
 *
 * <p>Thread-safe: declaring, updating and {@link #scrape() scraping} may happen on any thread at
 * once; updates are lock-free (a CAS on the double's bits for gauges, a {@link DoubleAdder} for
 * counters). Families are rendered in declaration order, children sorted by their label text, so a
 * scrape of the same values is always the same text.
 *
 * <pre>
 * # HELP r1_queue_depth Items waiting in a queue of this node.
 * # TYPE r1_queue_depth gauge
 * r1_queue_depth{queue="prompts"} 12
 * </pre>
 */
public final class MetricsRegistry {
  private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
  private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

  /** The sample types this registry renders; the text is the {@code # TYPE} word. */
  public enum Type {
    GAUGE("gauge"),
    COUNTER("counter");

    final String text;

    Type(String text) {
      this.text = text;
    }
  }

  private final Map<String, Family<?>> byName = new ConcurrentHashMap<>();
  private final List<Family<?>> inOrder = new CopyOnWriteArrayList<>();

  /**
   * Declares a gauge family, or returns the one already declared with the same name, help and label
   * names.
   *
   * @throws IllegalArgumentException on a bad name, or a name already declared differently
   */
  public Gauge gauge(String name, String help, String... labelNames) {
    return declare(name, help, Type.GAUGE, labelNames, Gauge.class);
  }

  /** Declares a counter family; see {@link #gauge}. */
  public Counter counter(String name, String help, String... labelNames) {
    return declare(name, help, Type.COUNTER, labelNames, Counter.class);
  }

  private synchronized <F extends Family<?>> F declare(
      String name, String help, Type type, String[] labelNames, Class<F> kind) {
    if (!METRIC_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("bad metric name '" + name + "'");
    }
    for (String l : labelNames) {
      if (!LABEL_NAME.matcher(l).matches() || l.startsWith("__")) {
        throw new IllegalArgumentException("bad label name '" + l + "' for " + name);
      }
    }
    if (labelNames.length != Arrays.stream(labelNames).distinct().count()) {
      throw new IllegalArgumentException("duplicate label name for " + name + ": " + Arrays.toString(labelNames));
    }
    Family<?> existing = byName.get(name);
    if (existing != null) {
      if (existing.type != type || !existing.help.equals(help) || !Arrays.equals(existing.labelNames, labelNames)) {
        throw new IllegalArgumentException("metric " + name + " is already declared as a " + existing.type.text
            + " with labels " + Arrays.toString(existing.labelNames));
      }
      return kind.cast(existing);
    }
    F family = kind.cast(type == Type.GAUGE ? new Gauge(name, help, labelNames) : new Counter(name, help, labelNames));
    byName.put(name, family);
    inOrder.add(family);
    return family;
  }

  /** The whole registry as Prometheus text exposition format 0.0.4. */
  public String scrape() {
    StringBuilder out = new StringBuilder(256 * Math.max(1, inOrder.size()));
    for (Family<?> f : inOrder) {
      f.render(out);
    }
    return out.toString();
  }

  /** One metric family: name, help, label names, and a child per tuple of label values. */
  public abstract static sealed class Family<C> permits Gauge, Counter {
    final String name;
    final String help;
    final Type type;
    final String[] labelNames;
    private final ConcurrentSkipListMap<String, C> children = new ConcurrentSkipListMap<>();

    Family(String name, String help, Type type, String[] labelNames) {
      this.name = name;
      this.help = help;
      this.type = type;
      this.labelNames = labelNames.clone();
      if (labelNames.length == 0) {
        children.put("", newChild());
      }
    }

    abstract C newChild();

    abstract double valueOf(C child);

    public String name() {
      return name;
    }

    /** The child for these label values (one per label name, in declaration order), made on first use. */
    public C labels(String... values) {
      if (values.length != labelNames.length) {
        throw new IllegalArgumentException(name + " has labels " + Arrays.toString(labelNames)
            + ", got values " + Arrays.toString(values));
      }
      return children.computeIfAbsent(labelText(values), k -> newChild());
    }

    C unlabelled() {
      if (labelNames.length != 0) {
        throw new IllegalStateException(name + " has labels " + Arrays.toString(labelNames) + ": use labels(...)");
      }
      return children.get("");
    }

    private String labelText(String[] values) {
      if (values.length == 0) {
        return "";
      }
      StringBuilder b = new StringBuilder("{");
      for (int i = 0; i < values.length; i++) {
        if (values[i] == null) {
          throw new IllegalArgumentException(name + ": label " + labelNames[i] + " is null");
        }
        if (i > 0) {
          b.append(',');
        }
        b.append(labelNames[i]).append("=\"");
        escapeLabelValue(values[i], b);
        b.append('"');
      }
      return b.append('}').toString();
    }

    void render(StringBuilder out) {
      out.append("# HELP ").append(name).append(' ');
      escapeHelp(help, out);
      out.append('\n').append("# TYPE ").append(name).append(' ').append(type.text).append('\n');
      List<Map.Entry<String, C>> snapshot = new ArrayList<>(children.entrySet());
      for (Map.Entry<String, C> e : snapshot) {
        out.append(name).append(e.getKey()).append(' ').append(formatValue(valueOf(e.getValue()))).append('\n');
      }
    }
  }

  /** A value that goes up and down. Without labels, set it directly. */
  public static final class Gauge extends Family<Gauge.Child> {
    Gauge(String name, String help, String[] labelNames) {
      super(name, help, Type.GAUGE, labelNames);
    }

    @Override
    Child newChild() {
      return new Child();
    }

    @Override
    double valueOf(Child child) {
      return child.get();
    }

    public void set(double value) {
      unlabelled().set(value);
    }

    public void inc(double delta) {
      unlabelled().inc(delta);
    }

    public double get() {
      return unlabelled().get();
    }

    /** One gauge value. */
    public static final class Child {
      private final AtomicLong bits = new AtomicLong(Double.doubleToRawLongBits(0.0));

      public void set(double value) {
        bits.set(Double.doubleToRawLongBits(value));
      }

      public void inc(double delta) {
        long prev;
        long next;
        do {
          prev = bits.get();
          next = Double.doubleToRawLongBits(Double.longBitsToDouble(prev) + delta);
        } while (!bits.compareAndSet(prev, next));
      }

      public double get() {
        return Double.longBitsToDouble(bits.get());
      }
    }
  }

  /** A value that only goes up (reset only when the process restarts). */
  public static final class Counter extends Family<Counter.Child> {
    Counter(String name, String help, String[] labelNames) {
      super(name, help, Type.COUNTER, labelNames);
    }

    @Override
    Child newChild() {
      return new Child();
    }

    @Override
    double valueOf(Child child) {
      return child.get();
    }

    public void inc() {
      unlabelled().inc(1);
    }

    public void inc(double amount) {
      unlabelled().inc(amount);
    }

    public double get() {
      return unlabelled().get();
    }

    /** One counter value. */
    public static final class Child {
      private final DoubleAdder sum = new DoubleAdder();

      public void inc() {
        inc(1);
      }

      /** @throws IllegalArgumentException if {@code amount} is negative or NaN */
      public void inc(double amount) {
        if (!(amount >= 0)) {
          throw new IllegalArgumentException("a counter cannot go down: " + amount);
        }
        sum.add(amount);
      }

      public double get() {
        return sum.sum();
      }
    }
  }

  /** Sample values as Prometheus writes them: integers without a fraction, {@code NaN}, {@code +Inf}, {@code -Inf}. */
  static String formatValue(double v) {
    if (Double.isNaN(v)) {
      return "NaN";
    }
    if (Double.isInfinite(v)) {
      return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == Math.rint(v) && Math.abs(v) < 1e15) {
      return Long.toString((long) v);
    }
    return Double.toString(v);
  }

  private static void escapeHelp(String s, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        default -> out.append(c);
      }
    }
  }

  private static void escapeLabelValue(String s, StringBuilder out) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '\\' -> out.append("\\\\");
        case '"' -> out.append("\\\"");
        case '\n' -> out.append("\\n");
        default -> out.append(c);
      }
    }
  }
}
