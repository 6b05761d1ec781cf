package io.r1cluster.core.generate.bench;

import ai.djl.Device;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.generate.BatchEngine;
import io.r1cluster.core.generate.CheckpointDecode;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * {@code r1 [--device D] bench weight-swap}: how a rollout engine takes a new policy version, on a
 * model of Qwen2.5-0.5B's shapes (494 M parameters, float32, random weights): written into the model
 * it runs ({@link BatchEngine#updateWeightsInPlace}, what the rollout engine does from the second
 * version on) against the baseline of building a new model from the snapshot and swapping it in
 * ({@link Qwen2Model#fromTensors} + {@link BatchEngine#updateWeights}, what it did before), in the
 * same run, alternating. The snapshot is held in Java heap buffers, as a weight receiver's leased
 * buffers are outside PyTorch's memory.
 *
 * <p>Figures: each path's median time from handing the weights over to the engine running them, the
 * ratio (baseline / in place), and the growth of the process's resident memory during each swap
 * (peak minus before, Linux {@code /proc/self/status} VmHWM after resetting it). A rebuilt model sits
 * beside the running one until the swap, so the baseline needs a second model's worth of memory on the
 * device; the first baseline swap shows it on the host, later ones partly reuse what the previous swap
 * freed (glibc keeps freed memory under the launcher's malloc settings), so the figure is the largest
 * over the rounds. Parameters: {@code rounds} (default 3, quick 2), {@code layers} (default 24, the
 * real model's; fewer for a quicker, smaller run).
 */
public final class WeightSwapBenchmark implements Benchmark {

  @Override
  public String name() {
    return "weight-swap";
  }

  @Override
  public String description() {
    return "a new policy version written into the rollout engine's model in place vs a new model built and swapped in"
        + " (Qwen2.5-0.5B shapes): time and peak memory per version";
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int rounds = ctx.intParam("rounds", ctx.quick() ? 2 : 3);
    int layers = ctx.intParam("layers", 24);
    if (rounds < 1 || layers < 1) {
      throw new IllegalArgumentException("--param rounds and layers must be at least 1");
    }
    Qwen2Config cfg = Qwen2Config.of(151936, 896, 4864, layers, 14, 2, 32768, true);
    Device dev = Devices.selected();
    long params = Qwen2Model.parameterShapes(cfg).values().stream().mapToLong(TensorData::numel).sum();
    ctx.out().printf("weight-swap: %d layers, %.0f M parameters, float32 on %s, %d rounds%n", layers, params / 1e6, dev,
        rounds);
    Map<String, TensorData> snapshot = snapshot(cfg, 5);
    Qwen2Model running = Qwen2Model.random(cfg, dev, 1);
    boolean canWrite = running.overwritable();
    List<Double> inPlaceMs = new ArrayList<>();
    List<Double> rebuildMs = new ArrayList<>();
    long inPlacePeak = 0;
    long rebuildPeak = 0;
    try (BatchEngine engine = new BatchEngine(running, true, 0, ids -> "", new BatchEngine.Options(8, 64, false),
        "weight-swap")) {
      engine.withModel(m -> 0).get(10, TimeUnit.MINUTES);
      long version = 1;
      for (int round = 0; round < rounds; round++) {
        if (canWrite) {
          long v = version++;
          long[] r = swap(engine, () -> engine.updateWeightsInPlace(write(snapshot), v));
          inPlaceMs.add(r[0] / 1e6);
          inPlacePeak = Math.max(inPlacePeak, r[1]);
          ctx.out().printf("round %d: in place %.0f ms, memory +%d MiB%n", round, r[0] / 1e6, r[1] >> 10);
        }
        long v = version++;
        long[] r = swap(engine, () -> engine.updateWeights(Qwen2Model.fromTensors(cfg, snapshot, dev), v));
        rebuildMs.add(r[0] / 1e6);
        rebuildPeak = Math.max(rebuildPeak, r[1]);
        ctx.out().printf("round %d: new model %.0f ms, memory +%d MiB%n", round, r[0] / 1e6, r[1] >> 10);
      }
      if (canWrite) { // the last swap was a rebuild: write once more and check the result bit for bit
        engine.updateWeightsInPlace(write(snapshot), version);
        engine.withModel(m -> {
          for (TensorData t : m.toTensors(DType.F32)) {
            if (!t.data().equals(snapshot.get(t.name()).data())) {
              throw new IllegalStateException("in-place write: " + t.name() + " differs from the snapshot");
            }
          }
          return 0;
        }).get(10, TimeUnit.MINUTES);
      }
    }
    Map<String, Object> figures = new LinkedHashMap<>();
    List<List<String>> rows = new ArrayList<>();
    double rebuild = BenchReport.median(rebuildMs);
    figures.put("rebuild.ms", rebuild);
    figures.put("rebuild.peak_rss_mib", rebuildPeak >> 10);
    if (canWrite) {
      double inPlace = BenchReport.median(inPlaceMs);
      figures.put("in_place.ms", inPlace);
      figures.put("in_place.peak_rss_mib", inPlacePeak >> 10);
      figures.put("ratio", rebuild / inPlace);
      rows.add(List.of("written into the running model (in place)", BenchReport.fmt(inPlace, 0),
          Long.toString(inPlacePeak >> 10), BenchReport.fmt(rebuild / inPlace, 2)));
    }
    rows.add(List.of("new model built, then swapped in (baseline)", BenchReport.fmt(rebuild, 0),
        Long.toString(rebuildPeak >> 10), "1.00"));
    return new BenchReport("weight-swap", List.of("path", "ms per version (median)", "peak memory growth MiB", "speed-up"),
        rows, figures, List.of(String.format("Qwen2.5-0.5B shapes with %d layers, %.0f M parameters, float32, random "
            + "weights, on %s; %d rounds, alternating; ms from handing the weights to the engine until it runs them; "
            + "memory: resident set growth during a swap (largest over the rounds)%s", layers, params / 1e6, dev, rounds,
            canWrite ? "" : "; this model is packed (bf16 on the CPU) and can only be rebuilt")));
  }

  /** Runs one swap; returns {nanoseconds until the engine runs the new version, resident growth in KiB}. */
  private static long[] swap(BatchEngine engine, Runnable handOver) throws Exception {
    System.gc();
    resetPeak();
    long pid = ProcessHandle.current().pid();
    long before = CheckpointDecode.status(pid, "VmRSS") >> 10;
    long t0 = System.nanoTime();
    handOver.run();
    engine.withModel(m -> 0).get(10, TimeUnit.MINUTES); // runs after the swap
    long t = System.nanoTime() - t0;
    return new long[] {t, Math.max(0, (CheckpointDecode.status(pid, "VmHWM") >> 10) - before)};
  }

  /** A write of {@code snapshot} that keeps it (the next round writes it again). */
  private static BatchEngine.WeightWrite write(Map<String, TensorData> snapshot) {
    return new BatchEngine.WeightWrite() {
      @Override
      public void writeInto(Qwen2Model model) {
        model.overwrite(snapshot);
      }

      @Override
      public void close() {
        // the snapshot is the benchmark's, kept for the next round
      }
    };
  }

  /** Random float32 weights for every parameter of {@code cfg}, in Java heap buffers. */
  static Map<String, TensorData> snapshot(Qwen2Config cfg, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (var e : Qwen2Model.parameterShapes(cfg).entrySet()) {
      int n = Math.toIntExact(TensorData.numel(e.getValue()));
      ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int i = 0; i < n; i++) {
        b.putFloat(i * 4, (float) (rnd.nextDouble() * 0.04 - 0.02));
      }
      out.put(e.getKey(), new TensorData(e.getKey(), DType.F32, e.getValue(), b));
    }
    return out;
  }


  /** Resets the peak resident set size (VmHWM) of this process; a no-op where the kernel does not allow it. */
  private static void resetPeak() {
    try {
      Files.writeString(Path.of("/proc/self/clear_refs"), "5");
    } catch (IOException | RuntimeException e) {
      // not Linux, or not permitted: the peak then counts from the process start
    }
  }
}
