package io.r1cluster.actors.grpo.bench;

import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code r1 bench pipeline}: groups/s through rollout entities → reward pool → ledger → learner
 * singleton in one JVM, with a <b>zero-cost model</b> and a <b>zero-cost learner</b> (see
 * {@link SimulatedGrpo}), so the figure is the actor pipeline's own ceiling.
 */
public final class PipelineBenchmark implements Benchmark {
  @Override
  public String name() {
    return "pipeline";
  }

  @Override
  public String description() {
    return "groups/s through rollout -> reward -> learner actors, zero-cost model and learner, one JVM (target >= 10,000)";
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int pps = ctx.intParam("prompts_per_step", 512);
    int prompts = ctx.intParam("prompts", ctx.quick() ? 20_000 : 100_000);
    int g = ctx.intParam("generations", 8);
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    // warm-up (JIT, sharding allocation), not reported
    SimulatedGrpo.run(new SimulatedGrpo.Plan(Math.min(prompts, 10 * pps), pps, 1, g, 16, 0, 0, 8, 64, 2, 4));
    for (int staleness : new int[] {0, 1, 2}) {
      SimulatedGrpo.Result r = SimulatedGrpo.run(
          new SimulatedGrpo.Plan(prompts, pps, staleness, g, 16, 0, 0, 8, 64, 2, 4));
      ctx.out().printf("max_staleness %d: %.0f groups/s (%d steps, %.3f s/step)%n", staleness, r.groupsPerSecond(),
          r.steps(), r.secondsPerStep());
      rows.add(List.of(Integer.toString(staleness), Integer.toString(pps), Integer.toString(r.steps()),
          BenchReport.fmt(r.groupsPerSecond(), 0), BenchReport.fmt(r.groupsPerSecond() / 10_000.0, 2) + "x"));
      figures.put("staleness" + staleness + ".groups_per_s", r.groupsPerSecond());
      figures.put("staleness" + staleness + ".dropped_stale", r.run().counters().droppedStale());
    }
    return new BenchReport("pipeline", List.of("max_staleness", "prompts/step", "steps", "groups/s", "vs 10,000 target"),
        rows, figures, List.of("ZERO-COST MODEL and ZERO-COST LEARNER (simulated, named as such): only the actors are real "
            + "(sharded rollout entities, reward pool, ledger, learner singleton, Aeron IPC publish of a 1-tensor snapshot "
            + "per step); " + g + " completions x 16 tokens per group; one JVM, steady state from step 2"));
  }
}
