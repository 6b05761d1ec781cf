package io.r1cluster.core.verify.bench;

import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.verify.MathVerifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code r1 bench verify}: verified pairs/s and latency on 2 threads, for answers as GRPO sees them:
 * the gold is a dataset solution ({@code $…$} or a boxed solution sentence), the prediction a
 * completion in the think/answer layout that ends in a box (half right, half wrong). Mixes:
 * {@code numeric} (integers), {@code fraction}, {@code symbolic} (a polynomial, needs the CAS when
 * the texts differ) and {@code completion} (a 1–2 KB chain of thought with many numbers and
 * equations before the boxed integer: the extraction cost of a typical model output).
 */
public final class VerifyBenchmark implements Benchmark {
  @Override
  public String name() {
    return "verify";
  }

  @Override
  public String description() {
    return "answer verification pairs/s and p50/p99 latency (numeric, fraction, symbolic, long completion)";
  }

  private static String completion(String reasoning, String boxed) {
    return "<think>\n" + reasoning + "\n</think>\n<answer>\nThe answer is $\\boxed{" + boxed + "}$.\n</answer>";
  }

  static List<String[]> pairs(String kind, int n, long seed) {
    Random r = new Random(seed);
    List<String[]> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int a = r.nextInt(2000) - 1000;
      int b = 1 + r.nextInt(50);
      boolean same = r.nextBoolean();
      out.add(switch (kind) {
        case "numeric" -> new String[] {"$" + a + "$",
            completion("We add the terms: " + (a - b) + " + " + b + " = " + a + ".", Integer.toString(same ? a : a + 1))};
        case "fraction" -> new String[] {"The probability is $\\frac{" + a + "}{" + b + "}$.",
            completion("Count the cases and divide.", same ? "\\dfrac{" + (2 * a) + "}{" + (2 * b) + "}" : "\\frac{" + (a + 1) + "}{" + b + "}")};
        case "symbolic" -> new String[] {"$(x+" + b + ")^2$",
            completion("Expand the square.", same ? "x^2+" + (2 * b) + "x+" + (b * b) : "x^2+" + b + "x+" + (b * b))};
        default -> new String[] {"So the total is $\\boxed{" + a + "}$.", completion(chainOfThought(r, a), Integer.toString(same ? a : a - 1))};
      });
    }
    return out;
  }

  /** About 1.5 KB of reasoning with numbers, inline math and equations, as models write it. */
  private static String chainOfThought(Random r, int answer) {
    StringBuilder sb = new StringBuilder("Let me work through this step by step.\n");
    int x = r.nextInt(90) + 10;
    for (int step = 1; sb.length() < 1500; step++) {
      int y = r.nextInt(90) + 10;
      sb.append("Step ").append(step).append(": we have $").append(x).append(" + ").append(y).append(" = ").append(x + y)
          .append("$, and multiplying by ").append(step).append(" gives ").append((x + y) * step)
          .append(". Checking with \\(\\frac{").append(x).append("}{").append(y).append("}\\approx ")
          .append(String.format(java.util.Locale.ROOT, "%.3f", x / (double) y)).append("\\) this is consistent.\n");
      x = y;
    }
    return sb.append("Therefore the result is ").append(answer).append(".").toString();
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int threads = ctx.intParam("threads", 2);
    Map<String, Integer> sizes = new LinkedHashMap<>();
    sizes.put("numeric", ctx.quick() ? 5_000 : 50_000);
    sizes.put("fraction", ctx.quick() ? 5_000 : 50_000);
    sizes.put("symbolic", ctx.quick() ? 100 : 600);
    sizes.put("completion", ctx.quick() ? 2_000 : 20_000);
    long timeoutMs = 5000;
    MathVerifier v = new MathVerifier(MathVerifier.DEFAULT_PRECISION, java.time.Duration.ofMillis(timeoutMs));
    v.verify("$\\sqrt{2}$", "$\\sqrt{2}+0$"); // CAS start-up outside the timed region
    // Symja goes on loading its integration rules on a background thread for a while after
    // start-up: let it finish so that it does not share the cores with the timed region
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals("IntegrateInitializer")) {
        t.join(120_000);
      }
    }
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
        boolean[] ok = new boolean[ps.size()];
        long t0 = System.nanoTime();
        List<Future<?>> fs = new ArrayList<>();
        int chunk = (ps.size() + threads - 1) / threads;
        for (int t = 0; t < threads; t++) {
          int from = t * chunk;
          int to = Math.min(ps.size(), from + chunk);
          fs.add(pool.submit(() -> {
            for (int i = from; i < to; i++) {
              long s = System.nanoTime();
              ok[i] = v.verify(ps.get(i)[0], ps.get(i)[1]);
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
        int verified = 0;
        for (boolean b : ok) {
          verified += b ? 1 : 0;
        }
        double share = verified / (double) ok.length; // the mixes are built half right, half wrong
        ctx.out().printf("%s: %d pairs in %.2fs%n", e.getKey(), ps.size(), secs);
        rows.add(List.of(e.getKey(), Integer.toString(ps.size()), BenchReport.fmt(rate, 0), BenchReport.fmt(p50, 3),
            BenchReport.fmt(p99, 3), BenchReport.fmt(max, 1), BenchReport.fmt(100 * share, 1), Long.toString(timeoutMs)));
        figures.put(e.getKey() + ".pairs_per_s", rate);
        figures.put(e.getKey() + ".p99_ms", p99);
        figures.put(e.getKey() + ".max_ms", max);
        figures.put(e.getKey() + ".verified_share", share);
      }
    } finally {
      pool.shutdownNow();
    }
    figures.put("timeouts", v.timeouts());
    return new BenchReport("verify", List.of("mix", "pairs", "pairs/s", "p50 ms", "p99 ms", "max ms", "verified %", "timeout ms"), rows,
        figures, List.of(threads + " threads; target >= 2,000 pairs/s for typical answers (numeric, fraction, completion); "
            + "out of budget: " + v.timeouts()));
  }
}
