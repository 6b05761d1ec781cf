package io.r1cluster.actors.transport.bench;

import io.aeron.Publication;
import io.aeron.logbuffer.BufferClaim;
import io.r1cluster.actors.transport.AeronSettings;
import io.r1cluster.actors.transport.EmbeddedAeron;
import io.r1cluster.actors.transport.WeightChannels;
import io.r1cluster.actors.transport.WeightKey;
import io.r1cluster.actors.transport.WeightPublisher;
import io.r1cluster.actors.transport.WeightReceiverMain;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.WeightSnapshot;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramSocket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.IdleStrategy;

/**
 * {@code bench weights}: export→import time of a synthetic bf16 snapshot with Qwen2.5-0.5B shapes
 * (hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, vocab 151936, tied embeddings:
 * ~0.99 GB) from this JVM to 1, 2 and 4 receiver JVMs, over IPC and UDP (MDC on loopback).
 * The clock runs from {@code publish()} until every receiver reported the version complete and
 * CRC-verified. Baselines from the same run: a memcpy of the same bytes (direct buffers), and for
 * UDP Aeron's own throughput — a plain publisher/subscriber loop (max-payload frames, the
 * subscriber only counts) with the same channel, settings and receiver count.
 * {@code --quick}: 3 layers and a 16384-token vocabulary (~0.12 GB).
 */
public final class WeightsBenchmark implements Benchmark {

  private static final int WARMUPS = 2;

  @Override
  public String name() {
    return "weights";
  }

  @Override
  public String description() {
    return "Aeron weight push of a ~1 GB bf16 Qwen2.5-0.5B snapshot to 1/2/4 receiver JVMs (IPC, UDP) vs memcpy";
  }

  /** The Qwen2.5-0.5B parameter set (tied embeddings) in bf16, filled with a cheap pseudo-random pattern. */
  static WeightSnapshot qwenSnapshot(long version, int layers, int vocab) {
    int h = 896;
    int kv = 2 * 64; // 2 KV heads × head dim 64
    int inter = 4864;
    List<TensorData> ts = new ArrayList<>();
    ts.add(bf16("model.embed_tokens.weight", vocab, h));
    for (int l = 0; l < layers; l++) {
      String p = "model.layers." + l + ".";
      ts.add(bf16(p + "self_attn.q_proj.weight", h, h));
      ts.add(bf16(p + "self_attn.q_proj.bias", h));
      ts.add(bf16(p + "self_attn.k_proj.weight", kv, h));
      ts.add(bf16(p + "self_attn.k_proj.bias", kv));
      ts.add(bf16(p + "self_attn.v_proj.weight", kv, h));
      ts.add(bf16(p + "self_attn.v_proj.bias", kv));
      ts.add(bf16(p + "self_attn.o_proj.weight", h, h));
      ts.add(bf16(p + "mlp.gate_proj.weight", inter, h));
      ts.add(bf16(p + "mlp.up_proj.weight", inter, h));
      ts.add(bf16(p + "mlp.down_proj.weight", h, inter));
      ts.add(bf16(p + "input_layernorm.weight", h));
      ts.add(bf16(p + "post_attention_layernorm.weight", h));
    }
    ts.add(bf16("model.norm.weight", h));
    return new WeightSnapshot(version, ts);
  }

  private static long seed = 0x9E3779B97F4A7C15L;

  private static TensorData bf16(String name, long... shape) {
    int n = Math.toIntExact(TensorData.numel(shape) * 2);
    ByteBuffer b = ByteBuffer.allocateDirect(n).order(ByteOrder.LITTLE_ENDIAN);
    long x = seed;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
      x ^= x << 13;
      x ^= x >>> 7;
      x ^= x << 17;
      b.putLong(i, x);
    }
    for (; i < n; i++) {
      b.put(i, (byte) i);
    }
    seed = x;
    return new TensorData(name, DType.BF16, shape, b);
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    boolean quick = ctx.quick();
    int layers = ctx.intParam("layers", quick ? 3 : 24);
    int vocab = ctx.intParam("vocab", quick ? 16384 : 151936);
    int timed = ctx.intParam("repeats", 2);
    List<Integer> counts = new ArrayList<>();
    for (String s : ctx.param("receivers", "1,2,4").split(",")) {
      counts.add(Integer.parseInt(s.trim()));
    }
    AeronSettings settings = AeronSettings.defaults();
    ctx.out().printf("weights: building snapshot (%d layers, vocab %d)…%n", layers, vocab);
    WeightSnapshot base = qwenSnapshot(0, layers, vocab);
    long bytes = base.byteSize();
    double gb = bytes / 1e9;
    double memcpy = memcpyGbPerS(base, 3);
    ctx.out().printf("weights: %.3f GB, memcpy %.2f GB/s%n", gb, memcpy);

    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    figures.put("bytes", bytes);
    figures.put("memcpy_gb_per_s", memcpy);
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(settings)) {
      for (String transport : List.of("ipc", "udp")) {
        for (int n : counts) {
          String control = "localhost:" + freeUdpPort();
          String pubChannel = transport.equals("ipc") ? WeightChannels.ipc(settings)
              : WeightChannels.udpPublication(settings, control);
          String subChannel = transport.equals("ipc") ? pubChannel
              : WeightChannels.udpSubscription(settings, "localhost:0", control);
          String dir = transport.equals("ipc") ? aeron.directory() : "-";
          double ours;
          WeightKey streamKey = WeightKey.random();
          try (WeightPublisher pub = WeightPublisher.create(aeron.aeron(), pubChannel, settings, streamKey);
              Receivers rs = Receivers.spawn(n, "weights", subChannel, dir, pub.publisherId(), bytes, streamKey)) {
            rs.awaitAll("READY", Duration.ofSeconds(60));
            ours = 0;
            // two warm-up versions: JIT, and the receivers' second buffer set gets allocated and touched
            // (a version is assembled beside the previous one, then buffers alternate)
            for (int r = 0; r < WARMUPS + timed; r++) {
              WeightSnapshot s = new WeightSnapshot(r + 1, base.tensors());
              long t0 = System.nanoTime();
              if (pub.publish(s) != WeightPublisher.Outcome.SENT) {
                throw new IllegalStateException("receivers disconnected");
              }
              long t1 = rs.awaitAll("DONE " + (r + 1), Duration.ofMinutes(5));
              double rate = bytes / 1e9 / ((t1 - t0) / 1e9);
              ctx.out().printf("weights: %s ×%d version %d: %.3f GB/s%s%n", transport, n, r + 1, rate,
                  r < WARMUPS ? " (warm-up)" : "");
              if (r >= WARMUPS) {
                ours = Math.max(ours, rate);
              }
            }
          }
          String baselineName;
          double baseline;
          if (transport.equals("ipc")) {
            baselineName = "memcpy";
            baseline = memcpy;
          } else {
            baselineName = "Aeron plain stream";
            baseline = rawStream(aeron, settings, pubChannel, subChannel, n, base, timed, ctx);
          }
          String key = transport + "_" + n;
          figures.put(key + "_gb_per_s", ours);
          figures.put(key + "_baseline_gb_per_s", baseline);
          figures.put(key + "_ratio", ours / baseline);
          rows.add(List.of(transport.toUpperCase(), Integer.toString(n), BenchReport.fmt(gb, 3),
              BenchReport.fmt(ours, 3), baselineName, BenchReport.fmt(baseline, 3), BenchReport.fmt(ours / baseline, 2),
              transport.equals("ipc") ? "≥ 0.30" : "≥ 0.80"));
        }
      }
    }
    List<String> notes = List.of(
        "GB/s = snapshot bytes / (publish start → last receiver has the complete CRC-verified version); best of "
            + timed + " after " + WARMUPS + " warm-up versions.",
        "Receivers are separate JVMs; IPC receivers attach to the publisher's driver, UDP receivers run their own "
            + "drivers (MDC, loopback). memcpy: direct-buffer copy of the same tensors in this JVM.",
        "Settings: term " + (settings.termLength() >> 20) + " MiB, UDP MTU " + settings.mtu() + ", IPC MTU "
            + settings.ipcMtu() + ", socket buffers " + (settings.socketRcvbuf() >> 20) + " MiB, window "
            + (settings.receiverWindow() >> 20) + " MiB, threading " + settings.threadingMode() + ", "
            + Runtime.getRuntime().availableProcessors() + " cores.");
    return new BenchReport("weights",
        List.of("transport", "receivers", "GB", "GB/s", "baseline", "baseline GB/s", "ratio", "target"),
        rows, figures, notes);
  }

  /** Best GB/s of copying every tensor into a second set of direct buffers. */
  static double memcpyGbPerS(WeightSnapshot s, int repeats) {
    List<ByteBuffer> dst = new ArrayList<>();
    for (TensorData t : s.tensors()) {
      dst.add(ByteBuffer.allocateDirect(Math.toIntExact(t.byteSize())));
    }
    double best = 0;
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      for (int i = 0; i < dst.size(); i++) {
        dst.get(i).clear().put(s.tensors().get(i).data());
      }
      long t1 = System.nanoTime();
      best = Math.max(best, s.byteSize() / 1e9 / ((t1 - t0) / 1e9));
    }
    return best;
  }

  /** Aeron's own throughput: max-payload frames of the same bytes, receivers only count. */
  static double rawStream(EmbeddedAeron aeron, AeronSettings settings, String pubChannel, String subChannel,
      int n, WeightSnapshot s, int timed, BenchContext ctx) throws Exception {
    long bytes = s.byteSize();
    double best = 0;
    try (Publication pub = aeron.aeron().addPublication(pubChannel, settings.streamId() + 1);
        Receivers rs = Receivers.spawn(n, "raw", subChannel, "-", 0, bytes, null)) {
      rs.awaitAll("READY", Duration.ofSeconds(60));
      BufferClaim claim = new BufferClaim();
      IdleStrategy idle = EmbeddedAeron.idle();
      int max = pub.maxPayloadLength();
      for (int r = 0; r < WARMUPS + timed; r++) {
        long t0 = System.nanoTime();
        for (TensorData t : s.tensors()) {
          ByteBuffer src = t.data();
          int len = src.remaining();
          for (int off = 0; off < len; ) {
            int chunk = Math.min(max, len - off);
            long res;
            while ((res = pub.tryClaim(chunk, claim)) <= 0) {
              if (res == Publication.CLOSED || res == Publication.MAX_POSITION_EXCEEDED
                  || res == Publication.NOT_CONNECTED) {
                throw new IllegalStateException("raw publication failed: " + res);
              }
              idle.idle();
            }
            idle.reset();
            claim.buffer().putBytes(claim.offset(), src, off, chunk);
            claim.commit();
            off += chunk;
          }
        }
        long t1 = rs.awaitAll("DONE " + (r + 1), Duration.ofMinutes(5));
        double rate = bytes / 1e9 / ((t1 - t0) / 1e9);
        ctx.out().printf("weights: aeron plain stream ×%d round %d: %.3f GB/s%s%n", n, r + 1, rate,
            r < WARMUPS ? " (warm-up)" : "");
        if (r >= WARMUPS) {
          best = Math.max(best, rate);
        }
      }
    }
    return best;
  }

  static int freeUdpPort() throws Exception {
    try (DatagramSocket s = new DatagramSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Receiver JVMs and the lines they print, with arrival times. */
  static final class Receivers implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    private final List<LinkedBlockingQueue<long[]>> lines = new ArrayList<>();
    private final List<LinkedBlockingQueue<String>> texts = new ArrayList<>();

    static Receivers spawn(int n, String mode, String channel, String dir, long arg, long snapshotBytes, WeightKey key)
        throws Exception {
      Receivers rs = new Receivers();
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      long direct = 3 * snapshotBytes + (256L << 20);
      for (int i = 0; i < n; i++) {
        ProcessBuilder pb = new ProcessBuilder(java, "-Xmx512m", "-XX:MaxDirectMemorySize=" + direct,
            "-XX:+UseParallelGC", "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
            "--add-exports", "java.base/jdk.internal.misc=ALL-UNNAMED",
            "-cp", System.getProperty("java.class.path"), WeightReceiverMain.class.getName(),
            mode, channel, dir, Long.toString(mode.equals("raw") ? snapshotBytes : arg));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        rs.processes.add(p);
        if (key != null) {
          p.getOutputStream().write((key.toHex() + "\n").getBytes(StandardCharsets.UTF_8));
          p.getOutputStream().flush();
        }
        LinkedBlockingQueue<String> q = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<long[]> times = new LinkedBlockingQueue<>();
        rs.texts.add(q);
        rs.lines.add(times);
        Thread reader = new Thread(() -> {
          try (BufferedReader in = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
              long now = System.nanoTime();
              q.add(line);
              times.add(new long[] {now});
            }
          } catch (Exception ignored) {
            // process ended
          }
        }, "receiver-" + i + "-out");
        reader.setDaemon(true);
        reader.start();
      }
      return rs;
    }

    /** Waits until every receiver printed {@code expected}; returns the latest arrival time. */
    long awaitAll(String expected, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      long last = 0;
      for (int i = 0; i < processes.size(); i++) {
        while (true) {
          long left = deadline - System.nanoTime();
          String line = texts.get(i).poll(Math.max(1, left), TimeUnit.NANOSECONDS);
          if (line == null) {
            throw new IllegalStateException("receiver " + i + " did not print '" + expected + "' in " + timeout
                + (processes.get(i).isAlive() ? "" : " (exited " + processes.get(i).exitValue() + ")"));
          }
          long at = lines.get(i).take()[0];
          if (line.equals(expected)) {
            last = Math.max(last, at);
            break;
          }
          if (!line.startsWith("DONE") && !line.startsWith("READY")) {
            System.err.println("receiver " + i + ": " + line);
          }
        }
      }
      return last;
    }

    @Override
    public void close() throws Exception {
      for (Process p : processes) {
        p.getOutputStream().close(); // receivers exit when stdin closes
      }
      for (Process p : processes) {
        if (!p.waitFor(20, TimeUnit.SECONDS)) {
          p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      }
    }
  }
}
