package io.r1cluster.actors.grpo.bench;

import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code r1 bench scaling}: GRPO throughput with 1, 2, 4 and 8 rollout members, each a separate
 * ActorSystem on loopback (real Artery, real sharding of the rollout entities, real reward pool,
 * ledger and learner singleton) serving generations with a FIXED-LATENCY ROLLOUT ENGINE (simulated,
 * named as such) of one generation slot; the learner is ZERO-COST. Efficiency = groups/s at N
 * members / (N × groups/s at 1).
 */
public final class ScalingBenchmark implements Benchmark {
  @Override
  public String name() {
    return "scaling";
  }

  @Override
  public String description() {
    return "GRPO groups/s with 1, 2, 4, 8 rollout members (ActorSystems), fixed-latency rollout engine (target >= 90% of linear at 8)";
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    long tg = ctx.intParam("generate_ms", 100);
    int stepsWanted = ctx.intParam("steps", ctx.quick() ? 8 : 16);
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    double base = 0;
    for (int n : new int[] {1, 2, 4, 8}) {
      int pps = 4 * n; // keep every member busy: 4 prompts per member per step
      int entities = 4 * n;
      SimulatedGrpo.Plan plan = new SimulatedGrpo.Plan(stepsWanted * pps, pps, 2, 4, 16, tg, 0, entities, 2, 1, 1);
      SimulatedGrpo.Result r = SimulatedGrpo.runScaling(plan, n);
      if (n == 1) {
        base = r.groupsPerSecond();
      }
      double eff = r.groupsPerSecond() / (n * base);
      ctx.out().printf("%d members: %.1f groups/s, efficiency %.2f%n", n, r.groupsPerSecond(), eff);
      rows.add(List.of(Integer.toString(n), BenchReport.fmt(r.groupsPerSecond(), 1),
          BenchReport.fmt(n * 1000.0 / tg, 1), BenchReport.fmt(eff, 2),
          Long.toString(r.run().counters().trained())));
      figures.put("members" + n + ".groups_per_s", r.groupsPerSecond());
      figures.put("members" + n + ".efficiency", eff);
    }
    return new BenchReport("scaling", List.of("rollout members", "groups/s", "ideal groups/s", "efficiency vs linear",
        "groups trained"), rows, figures, List.of("FIXED-LATENCY ROLLOUT ENGINE (simulated, named as such): " + tg
        + " ms per group, one slot per member; ZERO-COST learner; max_staleness 2, 4 prompts per member per step;"
        + " members are separate ActorSystems on loopback (Artery), the sharding, reward pool, ledger and learner"
        + " singleton are real; steady state from step 2; target: efficiency >= 0.9 at 8 members"));
  }
}
