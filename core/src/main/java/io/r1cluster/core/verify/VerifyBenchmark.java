package io.r1cluster.core.verify;

import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** {@code r1 bench verify}: verified pairs/s and latency for numeric, fractional and symbolic answers on 2 threads. */
public final class VerifyBenchmark implements Benchmark {
  @Override
  public String name() {
    return "verify";
  }

  @Override
  public String description() {
    return "answer verification pairs/s and p50/p99 latency (numeric, fraction, symbolic)";
  }

  static List<String[]> pairs(String kind, int n, long seed) {
    Random r = new Random(seed);
    List<String[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int a = r.nextInt(2000) - 1000;
      int b = 1 + r.nextInt(50);
      boolean same = r.nextBoolean();
      out.add(switch (kind) {
        case "numeric" -> new String[] {Integer.toString(a), same ? "\\boxed{" + a + "}" : Integer.toString(a + 1)};
        case "fraction" -> new String[] {"\\frac{" + a + "}{" + b + "}", same ? (2 * a) + "/" + (2 * b) : "\\dfrac{" + (a + 1) + "}{" + b + "}"};
        default -> new String[] {"(x+" + b + ")^2", same ? "x^2+" + (2 * b) + "x+" + (b * b) : "x^2+" + b + "x+" + (b * b)};
      });
    }
    return out;
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int threads = ctx.intParam("threads", 2);
    Map<String, Integer> sizes = new LinkedHashMap<>();
    sizes.put("numeric", ctx.quick() ? 5_000 : 50_000);
    sizes.put("fraction", ctx.quick() ? 5_000 : 50_000);
    sizes.put("symbolic", ctx.quick() ? 100 : 600);
    long timeoutMs = 5000;
    MathVerifier v = new MathVerifier(MathVerifier.DEFAULT_PRECISION, java.time.Duration.ofMillis(timeoutMs));
    v.verify("\\sqrt{2}", "\\sqrt{2}+0"); // CAS start-up outside the timed region
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      for (var e : sizes.entrySet()) {
        List<String[]> ps = pairs(e.getKey(), e.getValue(), 42);
        for (String[] p : ps.subList(0, Math.min(200, ps.size()))) {
          v.verify(p[0], p[1]); // warm-up
        }
        long[] lat = new long[ps.size()];
        long t0 = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        int chunk = (ps.size() + threads - 1) / threads;
        for (int t = 0; t < threads; t++) {
          int from = t * chunk;
          int to = Math.min(ps.size(), from + chunk);
          fs.add(pool.submit(() -> {
            for (int i = from; i < to; i++) {
              long s = System.nanoTime();
              v.verify(ps.get(i)[0], ps.get(i)[1]);
              lat[i] = System.nanoTime() - s;
            }
          }));
        }
        for (Future<?> f : fs) {
          f.get();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        Arrays.sort(lat);
        double rate = ps.size() / secs;
        double p50 = lat[lat.length / 2] / 1e6;
        double p99 = lat[(int) (lat.length * 0.99)] / 1e6;
        double max = lat[lat.length - 1] / 1e6;
        ctx.out().printf("%s: %d pairs in %.2fs%n", e.getKey(), ps.size(), secs);
        rows.add(List.of(e.getKey(), Integer.toString(ps.size()), BenchReport.fmt(rate, 0), BenchReport.fmt(p50, 3),
            BenchReport.fmt(p99, 3), BenchReport.fmt(max, 1), Long.toString(timeoutMs)));
        figures.put(e.getKey() + ".pairs_per_s", rate);
        figures.put(e.getKey() + ".p99_ms", p99);
        figures.put(e.getKey() + ".max_ms", max);
      }
    } finally {
      pool.shutdownNow();
    }
    figures.put("timeouts", v.timeouts());
    return new BenchReport("verify", List.of("mix", "pairs", "pairs/s", "p50 ms", "p99 ms", "max ms", "timeout ms"), rows,
        figures, List.of(threads + " threads; target >= 2,000 pairs/s for numeric answers; CAS timeouts: " + v.timeouts()));
  }
}
