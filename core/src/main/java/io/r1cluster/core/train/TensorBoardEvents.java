package io.r1cluster.core.train;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32C;

/**
 * A TensorBoard event file ({@code events.out.tfevents.SECONDS.HOST.PID.N}) of scalar summaries,
 * the file TensorBoard, {@code tensorboard.backend.event_processing} and
 * {@code wandb sync --sync-tensorboard} read. Metric names follow transformers'
 * {@code TensorBoardCallback}: {@code eval_x} becomes {@code eval/x}, {@code test_x} {@code test/x},
 * everything else {@code train/x}; every numeric value of a record is one scalar at the record's step.
 *
 * <p>The file is a sequence of TFRecords, little-endian:
 * <pre>
 *   offset  size  field
 *   0       8     length          uint64, bytes of data
 *   8       4     length_crc      masked CRC-32C of the 8 length bytes
 *   12      n     data            one serialized tensorflow.Event
 *   12+n    4     data_crc        masked CRC-32C of data
 *   masked(c) = ((c >>> 15) | (c << 17)) + 0xa282ead8   (32-bit arithmetic)
 * </pre>
 * Each {@code data} is a protocol-buffer {@code Event} (proto3, written here field by field):
 * <pre>
 *   Event   { double wall_time = 1;  int64 step = 2;  string file_version = 3;
 *             Summary summary = 5;   SessionLog session_log = 6; }
 *   Summary { repeated Value value = 1; }
 *   Value   { string tag = 1;  float simple_value = 2; }
 *   SessionLog { enum status = 1 (START = 1) }
 * </pre>
 * The first record is {@code file_version: "brain.Event:2"}. A resumed run writes, like torch's
 * {@code SummaryWriter(purge_step=N)}, a {@code file_version} and a {@code SessionLog START} event at
 * step N so TensorBoard hides the steps ≥ N that the interrupted run logged after its checkpoint.
 */
public final class TensorBoardEvents implements MetricsSink {
  static final int LENGTH_OFFSET = 0;
  static final int LENGTH_CRC_OFFSET = LENGTH_OFFSET + Long.BYTES;
  static final int HEADER_LENGTH = LENGTH_CRC_OFFSET + Integer.BYTES;
  static final int FOOTER_LENGTH = Integer.BYTES;
  static final int MASK_DELTA = 0xa282ead8;
  static final String FILE_VERSION = "brain.Event:2";

  // protobuf tags: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited, 5 fixed32)
  private static final int EVENT_WALL_TIME = 1 << 3 | 1;
  private static final int EVENT_STEP = 2 << 3;
  private static final int EVENT_FILE_VERSION = 3 << 3 | 2;
  private static final int EVENT_SUMMARY = 5 << 3 | 2;
  private static final int EVENT_SESSION_LOG = 6 << 3 | 2;
  private static final int SUMMARY_VALUE = 1 << 3 | 2;
  private static final int VALUE_TAG = 1 << 3 | 2;
  private static final int VALUE_SIMPLE_VALUE = 2 << 3 | 5;
  private static final int SESSION_LOG_STATUS = 1 << 3;
  private static final int SESSION_LOG_START = 1;
  private static final AtomicInteger UID = new AtomicInteger();

  private final Path file;
  private final OutputStream out;
  private final ByteBuffer header = ByteBuffer.allocate(HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
  private final ByteBuffer footer = ByteBuffer.allocate(FOOTER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);

  /**
   * Creates a new event file in {@code dir} (made if missing). {@code purgeStep} &gt; 0 (a resumed
   * run's first new step) marks the steps from there on, logged by an earlier run, as orphaned.
   */
  public TensorBoardEvents(Path dir, long purgeStep) {
    try {
      Files.createDirectories(dir);
      String name = String.format("events.out.tfevents.%d.%s.%d.%d", System.currentTimeMillis() / 1000, host(),
          ProcessHandle.current().pid(), UID.getAndIncrement());
      this.file = dir.resolve(name);
      this.out = Files.newOutputStream(file);
      long now = System.currentTimeMillis();
      write(event(now, 0, w -> w.string(EVENT_FILE_VERSION, FILE_VERSION)));
      if (purgeStep > 0) {
        write(event(now, purgeStep, w -> w.string(EVENT_FILE_VERSION, FILE_VERSION)));
        write(event(now, purgeStep, w -> w.message(EVENT_SESSION_LOG, s -> s.varint(SESSION_LOG_STATUS, SESSION_LOG_START))));
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("creating a TensorBoard event file in " + dir, e);
    }
  }

  /** The event file. */
  public Path file() {
    return file;
  }

  /** The TensorBoard tag of a logged metric name (transformers' {@code rewrite_logs}). */
  public static String tag(String metric) {
    if (metric.startsWith("eval_")) {
      return "eval/" + metric.substring(5);
    }
    if (metric.startsWith("test_")) {
      return "test/" + metric.substring(5);
    }
    return "train/" + metric;
  }

  /** One event at {@code step} holding a scalar for every numeric value of {@code metrics}; flushed. */
  @Override
  public synchronized void log(long step, Map<String, ?> metrics) {
    byte[] ev = event(System.currentTimeMillis(), step, w -> w.message(EVENT_SUMMARY, s -> {
      for (var e : metrics.entrySet()) {
        if (e.getValue() instanceof Number n) {
          s.message(SUMMARY_VALUE, v -> {
            v.string(VALUE_TAG, tag(e.getKey()));
            v.fixed32(VALUE_SIMPLE_VALUE, Float.floatToIntBits(n.floatValue()));
          });
        }
      }
    }));
    try {
      write(ev);
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("closing " + file, e);
    }
  }

  /** The masked CRC-32C TFRecord stores. */
  static int maskedCrc(byte[] b, int off, int len) {
    CRC32C crc = new CRC32C();
    crc.update(b, off, len);
    int c = (int) crc.getValue();
    return ((c >>> 15) | (c << 17)) + MASK_DELTA;
  }

  private void write(byte[] data) throws IOException {
    header.clear();
    header.putLong(LENGTH_OFFSET, data.length);
    header.putInt(LENGTH_CRC_OFFSET, maskedCrc(header.array(), LENGTH_OFFSET, Long.BYTES));
    footer.clear();
    footer.putInt(0, maskedCrc(data, 0, data.length));
    out.write(header.array(), 0, HEADER_LENGTH);
    out.write(data);
    out.write(footer.array(), 0, FOOTER_LENGTH);
  }

  private static byte[] event(long wallMillis, long step, java.util.function.Consumer<Proto> body) {
    Proto p = new Proto();
    p.fixed64(EVENT_WALL_TIME, Double.doubleToLongBits(wallMillis / 1000.0));
    if (step != 0) { // proto3: a zero scalar is left out
      p.varint(EVENT_STEP, step);
    }
    body.accept(p);
    return p.bytes();
  }

  private static String host() {
    try {
      return InetAddress.getLocalHost().getHostName().replaceAll("[^A-Za-z0-9._-]", "_");
    } catch (IOException e) {
      return "localhost";
    }
  }

  /** A minimal protocol-buffer writer: varints, fixed32/64, strings and nested messages. */
  private static final class Proto {
    private final ByteArrayOutputStream buf = new ByteArrayOutputStream(64);

    void varint(int tag, long v) {
      raw(tag);
      raw(v);
    }

    void fixed32(int tag, int v) {
      raw(tag);
      for (int i = 0; i < 4; i++) {
        buf.write(v >>> (8 * i));
      }
    }

    void fixed64(int tag, long v) {
      raw(tag);
      for (int i = 0; i < 8; i++) {
        buf.write((int) (v >>> (8 * i)));
      }
    }

    void string(int tag, String s) {
      bytes(tag, s.getBytes(StandardCharsets.UTF_8));
    }

    void message(int tag, java.util.function.Consumer<Proto> body) {
      Proto inner = new Proto();
      body.accept(inner);
      bytes(tag, inner.bytes());
    }

    private void bytes(int tag, byte[] b) {
      raw(tag);
      raw(b.length);
      buf.write(b, 0, b.length);
    }

    private void raw(long v) {
      while ((v & ~0x7FL) != 0) {
        buf.write((int) ((v & 0x7F) | 0x80));
        v >>>= 7;
      }
      buf.write((int) v);
    }

    byte[] bytes() {
      return buf.toByteArray();
    }
  }
}
