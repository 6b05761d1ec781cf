package io.r1cluster.actors.grpo.bench;

import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code r1 bench async}: what bounded staleness buys. A <b>fixed-latency rollout engine</b> and a
 * <b>fixed-latency learner</b> (see {@link SimulatedGrpo}) with generation time per step Tg ≈
 * training time Tt; the step time at {@code max_staleness} 1 and 2 is compared with synchronous
 * GRPO (0). Ideal speed-up: (Tg + Tt) / max(Tg, Tt).
 */
public final class AsyncBenchmark implements Benchmark {
  @Override
  public String name() {
    return "async";
  }

  @Override
  public String description() {
    return "speed-up of max_staleness 1 and 2 over 0, fixed-latency rollout engine and learner (target >= 0.9 of ideal)";
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int pps = 8;
    int slots = 8; // 4 entities x 2 in flight, 8 rollout threads: one round of generation per step
    long tg = ctx.intParam("generate_ms", 150);
    long tt = ctx.intParam("train_ms", 150);
    int steps = ctx.intParam("steps", ctx.quick() ? 12 : 30);
    double tgStep = Math.ceil(pps / (double) slots) * tg;
    double ideal = (tgStep + tt) / Math.max(tgStep, tt);
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    double sync = 0;
    for (int s : new int[] {0, 1, 2}) {
      SimulatedGrpo.Result r = SimulatedGrpo.run(new SimulatedGrpo.Plan(steps * pps, pps, s, 4, 16, tg, tt, 4, 2, slots, 2));
      if (s == 0) {
        sync = r.secondsPerStep();
      }
      double speedup = sync / r.secondsPerStep();
      double frac = (speedup - 1) / (ideal - 1);
      ctx.out().printf("max_staleness %d: %.0f ms/step, speed-up %.2fx (ideal %.2fx), dropped stale %d%n", s,
          r.secondsPerStep() * 1000, speedup, ideal, r.run().counters().droppedStale());
      rows.add(List.of(Integer.toString(s), BenchReport.fmt(r.secondsPerStep() * 1000, 0), BenchReport.fmt(speedup, 2) + "x",
          BenchReport.fmt(ideal, 2) + "x", s == 0 ? "-" : BenchReport.fmt(speedup / ideal, 2),
          Long.toString(r.run().counters().droppedStale())));
      figures.put("staleness" + s + ".ms_per_step", r.secondsPerStep() * 1000);
      figures.put("staleness" + s + ".speedup", speedup);
      figures.put("staleness" + s + ".fraction_of_ideal", speedup / ideal);
      figures.put("staleness" + s + ".gain_fraction", frac);
    }
    return new BenchReport("async", List.of("max_staleness", "ms/step", "speed-up vs 0", "ideal", "fraction of ideal",
        "dropped stale"), rows, figures, List.of("FIXED-LATENCY ROLLOUT ENGINE (" + tg + " ms per group, " + slots
        + " at once) and FIXED-LATENCY LEARNER (" + tt + " ms per step), simulated and named as such; " + pps
        + " prompts/step, so Tg = " + (long) tgStep + " ms, Tt = " + tt + " ms; ideal = (Tg+Tt)/max(Tg,Tt); "
        + "the actors, ledger and Aeron publish are real; steady state from step 2"));
  }
}
