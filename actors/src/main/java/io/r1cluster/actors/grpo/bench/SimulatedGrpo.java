package io.r1cluster.actors.grpo.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.r1cluster.actors.grpo.GrpoJob;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.NodeResources;
import io.r1cluster.actors.grpo.RolloutBackend;
import io.r1cluster.actors.grpo.TrainerBackend;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.grpo.GrpoLearner;
import io.r1cluster.core.reward.RewardFunction;
import io.r1cluster.core.reward.RewardScorer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * Simulated backends for the pipeline benchmarks, named as such everywhere they appear: a
 * <b>zero-cost model</b> (a group appears at once) or a <b>fixed-latency rollout engine</b>
 * (sleeps a fixed time per group), and a <b>zero-cost</b> or <b>fixed-latency learner</b>. Only
 * the model is simulated: the actors, sharding, reward pool, ledger, learner singleton and the
 * Aeron publication of each (tiny) weight snapshot are the real ones. A version becomes usable by
 * the simulated rollouts when the simulated learner exports it.
 */
public final class SimulatedGrpo {
  private SimulatedGrpo() {}

  /** Simulated run parameters. */
  record Plan(int prompts, int promptsPerStep, int maxStaleness, int generations, int completionTokens,
      long rolloutMillis, long learnerMillis, int entities, int maxInFlight, int rolloutThreads, int rewardWorkers) {}

  /**
   * What a simulated run measured (steady state: from the second step report to the last);
   * {@code groupsGenerated}: generations the simulated engines finished, counted by the engines.
   */
  record Result(GrpoJob.RunResult run, double seconds, int steps, double groupsPerSecond, double secondsPerStep,
      long groupsGenerated) {
    /** Steady-state figures from the step-report times {@code stamps} (second report to the last). */
    static Result of(GrpoJob.RunResult r, double total, long[] stamps, Plan p, long generated) {
      int steps = r.steps();
      double steady = steps > 2 ? (stamps[steps] - stamps[1]) / 1e9 : total;
      double groups = steps > 2 ? (double) (steps - 1) * p.promptsPerStep() : r.counters().trained();
      return new Result(r, total, steps, groups / steady, steady / Math.max(1, steps - 1), generated);
    }
  }

  static Result run(Plan p) throws Exception {
    return run(p, "");
  }

  /** {@link #run(Plan)} with {@code overrides} (HOCON) over the run's configuration. */
  static Result run(Plan p, String overrides) throws Exception {
    return run(p, overrides, 0);
  }

  /**
   * {@link #run(Plan, String)} with a reward that takes {@code rewardMillis} per group (a slow
   * verifier, such as sandboxed code; 0: no cost).
   */
  static Result run(Plan p, String overrides, long rewardMillis) throws Exception {
    Path dir = Files.createTempDirectory("r1-bench-grpo-");
    Path recipe = writeRecipe(dir, p);
    Config config = ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseString("""
        pekko.loglevel = WARNING
        pekko.loglevel = ${?R1_BENCH_LOGLEVEL}
        pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
        pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.roles = [seed, learner, rollout, reward]
        pekko.cluster.jmx.enabled = off
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.log-dead-letters = off
        r1.grpo.rollout.entities = %d
        r1.grpo.rollout.max-in-flight = %d
        r1.grpo.rollout.slots = %d
        r1.grpo.reward.workers-per-node = %d
        r1.grpo.progress-interval = 1h
        """.formatted(p.entities(), p.maxInFlight(), p.rolloutThreads(), p.rewardWorkers())))
        .withFallback(ConfigFactory.load()).resolve();
    AtomicLong board = new AtomicLong(-1);
    List<Prompt> prompts = prompts(p);
    GrpoJob job = GrpoJob.simulated(recipe, prompts, () -> new SimulatedLearner(board, p.learnerMillis()), config);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "r1bench", config);
    long[] stamps = new long[job.totalSteps() + 1];
    try {
      Cluster c = Cluster.get(system);
      c.manager().tell(Join.create(c.selfMember().address()));
      SimulatedRollout rollout = new SimulatedRollout(board, p);
      NodeResources.get(system).rollout().complete(rollout);
      NodeResources.get(system).reward().complete(new RewardScorer(List.of(new ZeroCostReward(rewardMillis)), List.of(1.0)));
      GrpoNode.startWorkers(system);
      job.onStep(r -> stamps[Math.min(r.step(), stamps.length - 1)] = System.nanoTime());
      long t0 = System.nanoTime();
      GrpoNode.startLearner(system, job, new PrintStream(OutputStream.nullOutputStream()));
      GrpoJob.RunResult r = job.done().get(10, TimeUnit.MINUTES);
      double total = (System.nanoTime() - t0) / 1e9;
      return Result.of(r, total, stamps, p, rollout.generated.get());
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      job.close();
      deleteQuietly(dir);
    }
  }

  /**
   * Like {@link #run} but with the rollouts on {@code members} separate ActorSystems (real Artery
   * remoting on loopback, role {@code rollout} only) and the learner, reward pool and seed on
   * another; every member serves generations with its own fixed-latency rollout engine.
   */
  static Result runScaling(Plan p, int members) throws Exception {
    return runScaling(p, members, -1, 0).result();
  }

  /**
   * A scaling run where members were added mid-run: throughput before and after, and the groups each
   * member's simulated engine generated (counted by the engines; the first members first, in the
   * order they were started, then the added ones).
   */
  record Grown(Result result, double groupsPerSecondBefore, double groupsPerSecondAfter, long[] generatedPerMember) {}

  /**
   * {@link #runScaling(Plan, int)}, and when the learner reports step {@code addAtStep} another
   * {@code addMembers} rollout ActorSystems join the running cluster (Cluster Sharding rebalances
   * rollout entities onto them); a negative {@code addMembers} makes that many members leave
   * gracefully instead (coordinated shutdown, as on SIGTERM).
   */
  static Grown runScaling(Plan p, int members, int addAtStep, int addMembers) throws Exception {
    return runScaling(p, members, addAtStep, addMembers, "");
  }

  /** {@link #runScaling(Plan, int, int, int)} with {@code overrides} (HOCON) over every node's configuration. */
  static Grown runScaling(Plan p, int members, int addAtStep, int addMembers, String overrides) throws Exception {
    Path dir = Files.createTempDirectory("r1-bench-scaling-");
    Path recipe = writeRecipe(dir, p);
    String common = """
        pekko.loglevel = WARNING
        pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
        pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.cluster.jmx.enabled = off
        pekko.coordinated-shutdown.exit-jvm = off
        pekko.log-dead-letters = off
        r1.grpo.rollout.entities = %d
        r1.grpo.rollout.max-in-flight = %d
        r1.grpo.rollout.slots = %d
        r1.grpo.reward.workers-per-node = %d
        r1.grpo.progress-interval = 1h
        # a reply lost with a member that left is re-dispatched after this (generations take 100s of ms)
        r1.grpo.dispatch-timeout = 10s
        """.formatted(p.entities(), p.maxInFlight(), p.rolloutThreads(), p.rewardWorkers()) + "\n" + overrides + "\n";
    Config learnerConfig = ConfigFactory.parseString(common + """
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.roles = [seed, learner, reward]
        """).withFallback(ConfigFactory.load()).resolve();
    AtomicLong board = new AtomicLong(-1);
    List<Prompt> prompts = prompts(p);
    GrpoJob job = GrpoJob.simulated(recipe, prompts, () -> new SimulatedLearner(board, p.learnerMillis()), learnerConfig);
    List<ActorSystem<Void>> systems = new ArrayList<>();
    ActorSystem<Void> learner = ActorSystem.create(Behaviors.empty(), "r1bench", learnerConfig);
    systems.add(learner);
    long[] stamps = new long[job.totalSteps() + 1];
    try {
      Cluster lc = Cluster.get(learner);
      lc.manager().tell(Join.create(lc.selfMember().address()));
      NodeResources.get(learner).reward().complete(new RewardScorer(List.of(new ZeroCostReward()), List.of(1.0)));
      GrpoNode.startWorkers(learner);
      List<SimulatedRollout> engines = java.util.Collections.synchronizedList(new ArrayList<>());
      java.util.function.Supplier<ActorSystem<Void>> newMember = () -> {
        Config mc = ConfigFactory.parseString(common + """
            pekko.remote.artery.canonical.port = 0
            pekko.cluster.roles = [rollout]
            r1.grpo.reward.workers-per-node = 1
            """).withFallback(ConfigFactory.load()).resolve();
        ActorSystem<Void> member = ActorSystem.create(Behaviors.empty(), "r1bench", mc);
        Cluster.get(member).manager().tell(Join.create(lc.selfMember().address()));
        SimulatedRollout engine = new SimulatedRollout(board, p);
        engines.add(engine);
        NodeResources.get(member).rollout().complete(engine);
        NodeResources.get(member).reward().complete(new RewardScorer(List.of(new ZeroCostReward()), List.of(1.0)));
        GrpoNode.startWorkers(member);
        return member;
      };
      for (int m = 0; m < members; m++) {
        systems.add(newMember.get());
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (countUp(lc) < members + 1) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only " + countUp(lc) + " of " + (members + 1) + " nodes Up after 60 s");
        }
        Thread.sleep(50);
      }
      // and until the members' rollout regions have registered with the shard coordinator (a region
      // registers on a 2 s retry): before that, the first requests wait in the learner's proxy with
      // no entity to report them, which a short dispatch-timeout takes for a dead node
      if (members > 0) {
        awaitRolloutRegions(systems.get(1), members, deadline);
      }
      List<ActorSystem<Void>> added = java.util.Collections.synchronizedList(new ArrayList<>());
      job.onStep(r -> {
        stamps[Math.min(r.step(), stamps.length - 1)] = System.nanoTime();
        if (r.step() == addAtStep && addMembers > 0) {
          // join from another thread: never block the learner's step report
          new Thread(() -> {
            for (int m = 0; m < addMembers; m++) {
              added.add(newMember.get());
            }
          }, "add-members").start();
        } else if (r.step() == addAtStep && addMembers < 0) {
          // graceful leave, as on SIGTERM: coordinated shutdown, shards handed over
          for (int m = 0; m < -addMembers; m++) {
            systems.get(systems.size() - 1 - m).terminate();
          }
        }
      });
      long t0 = System.nanoTime();
      GrpoNode.startLearner(learner, job, new PrintStream(OutputStream.nullOutputStream()));
      GrpoJob.RunResult r = job.done().get(10, TimeUnit.MINUTES);
      systems.addAll(added);
      double total = (System.nanoTime() - t0) / 1e9;
      int steps = r.steps();
      long[] perMember = engines.stream().mapToLong(e -> e.generated.get()).toArray();
      Result res = Result.of(r, total, stamps, p, java.util.Arrays.stream(perMember).sum());
      if (addAtStep < 1 || steps < addAtStep + 4) {
        return new Grown(res, Double.NaN, Double.NaN, perMember);
      }
      // before: steps 1..addAtStep; after: from two steps past the join (rebalancing done) to the end
      double before = (addAtStep - 1) * (double) p.promptsPerStep() / ((stamps[addAtStep] - stamps[1]) / 1e9);
      int from = addAtStep + 2;
      double after = (steps - from) * (double) p.promptsPerStep() / ((stamps[steps] - stamps[from]) / 1e9);
      return new Grown(res, before, after, perMember);
    } finally {
      for (int i = systems.size() - 1; i >= 0; i--) {
        systems.get(i).terminate();
      }
      for (ActorSystem<Void> s : systems) {
        s.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      }
      job.close();
      deleteQuietly(dir);
    }
  }

  /**
   * Waits until {@code n} rollout shard regions are registered with the coordinator, as {@code system}
   * sees it (a member's region registers on a 2 s retry; until then requests for its shards wait in the
   * asker's proxy, where no entity reports them). Also used by the multi-system tests.
   */
  public static void awaitRolloutRegions(ActorSystem<?> system, int n, long deadlineNanos) throws Exception {
    while (true) {
      org.apache.pekko.cluster.sharding.ShardRegion.ClusterShardingStats stats = org.apache.pekko.actor.typed.javadsl.AskPattern
          .<org.apache.pekko.cluster.sharding.typed.ClusterShardingQuery,
              org.apache.pekko.cluster.sharding.ShardRegion.ClusterShardingStats>ask(
              org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding.get(system).shardState(),
              replyTo -> new org.apache.pekko.cluster.sharding.typed.GetClusterShardingStats(io.r1cluster.actors.grpo.RolloutWorker.TYPE_KEY,
                  java.time.Duration.ofSeconds(3), replyTo),
              java.time.Duration.ofSeconds(10), system.scheduler())
          .toCompletableFuture().get(15, TimeUnit.SECONDS);
      int regions = stats.getRegions().size();
      if (regions >= n) {
        return;
      }
      if (System.nanoTime() > deadlineNanos) {
        throw new IllegalStateException("only " + regions + " of " + n + " rollout regions registered in time");
      }
      Thread.sleep(100);
    }
  }

  /** The simulated run's recipe (GRPO keys + cluster section) in {@code dir}. */
  private static Path writeRecipe(Path dir, Plan p) throws IOException {
    Path recipe = dir.resolve("sim.yaml");
    Files.writeString(recipe, """
        model_name_or_path: simulated
        output_dir: %s
        num_generations: %d
        num_train_epochs: 1
        lr_scheduler_type: constant
        beta: 0.0
        reward_funcs: [format]
        cluster:
          max_staleness: %d
          prompts_per_step: %d
        """.formatted(dir.resolve("out"), p.generations(), p.maxStaleness(), p.promptsPerStep()));
    return recipe;
  }

  private static List<Prompt> prompts(Plan p) {
    List<Prompt> prompts = new ArrayList<>();
    for (int i = 0; i < p.prompts(); i++) {
      prompts.add(Prompt.ofProblem("p" + i, "What is " + i + " + 1?", Integer.toString(i + 1)));
    }
    return prompts;
  }

  private static int countUp(Cluster c) {
    int n = 0;
    for (org.apache.pekko.cluster.Member m : c.state().getMembers()) {
      n += m.status() == org.apache.pekko.cluster.MemberStatus.up() ? 1 : 0;
    }
    return n;
  }

  private static void deleteQuietly(Path dir) {
    try (var s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException e) {
      // a temp dir left behind
    }
  }

  /** Zero-cost model (rolloutMillis 0) or fixed-latency rollout engine: groups of fixed tokens. */
  static final class SimulatedRollout implements RolloutBackend {
    private final AtomicLong board;
    private final Plan plan;
    /** Groups this engine finished generating. */
    final AtomicLong generated = new AtomicLong();

    SimulatedRollout(AtomicLong board, Plan plan) {
      this.board = board;
      this.plan = plan;
    }

    @Override
    public Group generate(Prompt prompt, long seed, long minVersion, Duration wait)
        throws TimeoutException, InterruptedException {
      long deadline = System.nanoTime() + wait.toNanos();
      while (board.get() < Math.max(0, minVersion)) {
        if (System.nanoTime() > deadline) {
          throw new TimeoutException("simulated weights v" + minVersion + " not exported");
        }
        Thread.sleep(1);
      }
      long v = board.get();
      if (plan.rolloutMillis() > 0) {
        Thread.sleep(plan.rolloutMillis());
      }
      List<Completion> cs = new ArrayList<>(plan.generations());
      for (int i = 0; i < plan.generations(); i++) {
        int[] ids = new int[plan.completionTokens()];
        float[] lp = new float[ids.length];
        ids[0] = (int) ((seed + i) & 0xff);
        cs.add(new Completion(ids, lp, "", FinishReason.STOP, v));
      }
      generated.incrementAndGet();
      return new Group(prompt, new int[] {1, 2, 3}, cs, v);
    }

    @Override
    public void close() {}
  }

  /** Zero-cost learner (learnerMillis 0) or fixed-latency learner; exports a one-tensor snapshot. */
  static final class SimulatedLearner implements TrainerBackend {
    private final AtomicLong board;
    private final long millis;

    SimulatedLearner(AtomicLong board, long millis) {
      this.board = board;
      this.millis = millis;
    }

    @Override
    public GrpoLearner.StepResult step(TrainBatch batch, long version) {
      if (millis > 0) {
        try {
          Thread.sleep(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      return new GrpoLearner.StepResult(version + 1, false, Map.of("loss", 0.0));
    }

    @Override
    public WeightSnapshot export(long version) {
      board.accumulateAndGet(version, Math::max);
      return new WeightSnapshot(version, List.of(TensorData.ofFloats("simulated.weight", new long[] {4}, new float[4])));
    }

    @Override
    public void close() {}
  }

  /** A zero-cost reward: 1 for even rows, 0 for odd (so groups have spread); optionally slowed down. */
  static final class ZeroCostReward implements RewardFunction {
    private final long millis;

    ZeroCostReward() {
      this(0);
    }

    /** Takes {@code millis} per group (a simulated slow verifier). */
    ZeroCostReward(long millis) {
      this.millis = millis;
    }

    @Override
    public String name() {
      return "zero_cost";
    }

    @Override
    public float[] score(io.r1cluster.core.reward.RewardInput in) {
      if (millis > 0) {
        try {
          Thread.sleep(millis);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      float[] out = new float[in.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = (i & 1) == 0 ? 1f : 0f;
      }
      return out;
    }
  }
}
