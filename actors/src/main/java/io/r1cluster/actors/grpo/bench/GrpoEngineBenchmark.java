package io.r1cluster.actors.grpo.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.r1cluster.actors.grpo.GrpoJob;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.RolloutEngine;
import io.r1cluster.actors.grpo.RunSpec;
import io.r1cluster.actors.transport.AeronSettings;
import io.r1cluster.actors.transport.EmbeddedAeron;
import io.r1cluster.actors.transport.WeightChannels;
import io.r1cluster.actors.transport.WeightKey;
import io.r1cluster.actors.transport.WeightPublisher;
import io.r1cluster.actors.transport.WeightReceiver;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.generate.BatchEngine;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.grpo.GrpoTrainer;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * {@code r1 bench grpo-engine}: the main job's GRPO stage (recipes/demo/pipeline.yaml's {@code grpo}
 * settings: 16 prompts × 8 completions per step, lr 1e-4, dr_grpo, 64 + 64 tokens, accuracy + format
 * rewards) on the demo model, in the same run:
 *
 * <ul>
 *   <li><b>actor engine</b>: {@link GrpoJob} on an embedded actor system (every role in this JVM,
 *       rollout entities feeding the node's batched engine, weights over Aeron IPC), at
 *       {@code max_staleness} 0 and 1;
 *   <li><b>baseline</b>: the same steps as one batched generate of the step's 128 sequences (the
 *       same {@link BatchEngine}, all 128 submitted at once) + one learner step, in process, nothing
 *       overlapped ({@link GrpoTrainer}).
 * </ul>
 *
 * Steps/s are steady state: from the end of step 1 to the end of the last step (the first step
 * pays engine start-up on both paths), after one uncounted warm-up run of each path (the JVM's first
 * run of either pays the JIT compilation of the code they share). {@code ratio} = actor / baseline.
 *
 * <p>Also the rollout tokens/s of a node's {@link RolloutEngine} (real Aeron IPC weights) handed 16
 * groups of 8 one by one, against one batch of the same 128 sequences on a {@link BatchEngine}.
 *
 * <p>The three runs alternate {@code rounds} times (default 2) and each path's steps/s is one over
 * the median of its steady-state step times over all rounds, so that a load spike on a shared
 * machine or a GC pause does not decide the ratio.
 *
 * <p>Parameters: {@code steps} (default 12, quick 6), {@code rounds}, {@code model} (default {@code demo}: the demo
 * architecture initialised from seed 42; or an SFT checkpoint folder such as
 * {@code runs/demo-pipeline/sft}), {@code keep} ({@code true} keeps the runs' folders, metrics.jsonl included).
 */
public final class GrpoEngineBenchmark implements Benchmark {

  @Override
  public String name() {
    return "grpo-engine";
  }

  @Override
  public String description() {
    return "main job's GRPO stage: actor engine vs batched generate + learner step (ratio, target >= 1.0 at staleness 0 and 1);"
        + " node rollout tok/s, 16 groups of 8 one by one vs one batch of 128 (target >= 0.8)";
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int steps = ctx.intParam("steps", ctx.quick() ? 6 : 12);
    String model = ctx.param("model", "demo");
    if (steps < 3) {
      throw new IllegalArgumentException("--param steps must be at least 3 (steady state starts after step 1), got " + steps);
    }
    int rounds = ctx.intParam("rounds", 2);
    Path dir = Files.createTempDirectory("r1-bench-grpo-engine-");
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    try {
      Path data = dir.resolve("data");
      DemoDataset.Options d = DemoDataset.Options.defaults();
      DemoDataset.write(data, new DemoDataset.Options(Math.max(512, steps * 16 * 2), 16, 42, 0.7, d.digits(), d.tasks()));
      String modelRef = model.equals("demo") ? "demo" : Path.of(model).toAbsolutePath().toString();

      // the paths run in alternation, `rounds` times; each path's steps/s is 1 / the median of its
      // steady-state step times over all rounds (a load spike on a shared machine or a GC pause
      // stretches a few steps of one path; the median ignores them, a mean or a total would not)
      // warm-up, not counted: whichever path runs first in a fresh JVM pays the JIT compilation of the
      // code both share (model, batch engine, learner) — measured 0.51-0.58 steps/s for a first
      // baseline run against 0.65-0.68 for the same run later in the same JVM
      baseline(ctx, recipe(dir, "warmup-baseline", modelRef, data, 3, 0));
      actors(ctx, recipe(dir, "warmup-actors", modelRef, data, 3, 0));
      ctx.out().println("warm-up done (not counted)");
      List<Double> baseSteps = new ArrayList<>();
      List<List<Double>> actorSteps = List.of(new ArrayList<>(), new ArrayList<>());
      // each round's own ratio (its actor runs against its baseline run): how far apart they lie shows
      // what a single round can tell, which the pooled figure alone hides
      List<List<Double>> roundRatios = List.of(new ArrayList<>(), new ArrayList<>());
      for (int round = 0; round < rounds; round++) {
        List<Double> b = baseline(ctx, recipe(dir, "baseline-" + round, modelRef, data, steps, 0));
        ctx.out().printf("round %d: baseline %.3f steps/s (median step)%n", round, 1 / BenchReport.median(b));
        baseSteps.addAll(b);
        for (int staleness : new int[] {0, 1}) {
          List<Double> a = actors(ctx, recipe(dir, "actors-s" + staleness + "-" + round, modelRef, data, steps, staleness));
          ctx.out().printf("round %d: max_staleness %d actor engine %.3f steps/s (median step), round ratio %.2f%n", round,
              staleness, 1 / BenchReport.median(a), BenchReport.median(b) / BenchReport.median(a));
          actorSteps.get(staleness).addAll(a);
          roundRatios.get(staleness).add(BenchReport.median(b) / BenchReport.median(a));
        }
      }
      double base = 1 / BenchReport.median(baseSteps);
      double[] actor = {1 / BenchReport.median(actorSteps.get(0)), 1 / BenchReport.median(actorSteps.get(1))};
      figures.put("baseline.steps_per_s", base);
      rows.add(List.of("one batched generate + learner step (in process)", "-", BenchReport.fmt(base, 3), "1.00"));
      double worst = Double.MAX_VALUE;
      for (int staleness : new int[] {0, 1}) {
        double ratio = actor[staleness] / base;
        worst = Math.min(worst, ratio);
        ctx.out().printf("max_staleness %d: actor engine %.3f steps/s, baseline %.3f steps/s, ratio %.2f%n", staleness,
            actor[staleness], base, ratio);
        figures.put("staleness" + staleness + ".actor_steps_per_s", actor[staleness]);
        figures.put("staleness" + staleness + ".ratio", ratio);
        figures.put("staleness" + staleness + ".round_ratios", roundRatios.get(staleness));
        rows.add(List.of("actor engine (embedded cluster)", Integer.toString(staleness), BenchReport.fmt(actor[staleness], 3),
            BenchReport.fmt(ratio, 2)));
      }
      figures.put("ratio", worst);
      figures.put("rounds", rounds);

      double[] tok = nodeRollout(ctx, modelRef, dir);
      figures.put("rollout.node_16x8_tokens_per_s", tok[0]);
      figures.put("rollout.batched_128_tokens_per_s", tok[1]);
      figures.put("rollout.ratio", tok[0] / tok[1]);
      ctx.out().printf("rollout: node fed 16 groups of 8 one by one %.0f tok/s, one batch of 128 %.0f tok/s, ratio %.2f%n",
          tok[0], tok[1], tok[0] / tok[1]);
      rows.add(List.of("rollout tok/s: node fed 16 groups of 8 one by one", "-", BenchReport.fmt(tok[0], 0),
          BenchReport.fmt(tok[0] / tok[1], 2)));
      rows.add(List.of("rollout tok/s: one batched generate of the 128", "-", BenchReport.fmt(tok[1], 0), "1.00"));
    } finally {
      if (ctx.param("keep", "false").equals("true")) {
        ctx.out().println("run folders kept in " + dir);
      } else {
        deleteQuietly(dir);
      }
    }
    return new BenchReport("grpo-engine", List.of("path", "max_staleness", "steps/s (rollout: tok/s)", "ratio"), rows,
        figures, List.of("model " + model + "; main job's GRPO settings: 16 prompts x 8 completions per step, 64-token prompts "
            + "and completions, lr 1e-4 constant, dr_grpo, beta 0, T 1.0, rewards accuracy + 0.2 format; " + steps
            + " steps per run, " + rounds + " alternating rounds after a warm-up run of each path (not counted); steps/s = 1 / the median steady-state step time (steps 2.." + steps + ") over all rounds of a path; figure `ratio` = the lower of the two actor/baseline "
            + "ratios, `stalenessS.round_ratios` each round's own ratio (their spread is the noise of one round); targets: ratio >= 1.0, rollout.ratio >= 0.8; " + Runtime.getRuntime().availableProcessors()
            + " cores"));
  }

  static Path recipe(Path dir, String name, String model, Path data, int steps, int staleness) throws IOException {
    Path f = dir.resolve(name + ".yaml");
    Files.writeString(f, """
        model_name_or_path: %s
        torch_dtype: float32
        dataset_name: %s
        dataset_prompt_column: problem
        output_dir: %s
        seed: 42
        max_prompt_length: 64
        max_completion_length: 64
        learning_rate: 1.0e-04
        lr_scheduler_type: constant
        beta: 0.0
        loss_type: dr_grpo
        num_generations: 8
        per_device_train_batch_size: 128
        temperature: 1.0
        max_steps: %d
        reward_funcs: [accuracy, format]
        reward_weights: [1.0, 0.2]
        logging_steps: 1
        save_strategy: "no"
        cluster:
          max_staleness: %d
        """.formatted(model, data, dir.resolve(name), steps, staleness));
    return f;
  }

  /**
   * Step times (s) of the in-process loop, steady state: end of step i-1 to end of step i, i = 2..N,
   * stamped where the loop has logged a step (the point at which the actor path's learner reports one,
   * so both paths are timed by the same clock, the logging between steps included).
   */
  static List<Double> baseline(BenchContext ctx, Path recipe) throws IOException {
    RecipeSettings s = Recipe.load(recipe).settings();
    ctx.out().println("baseline: " + recipe.getFileName());
    long[] stamps = new long[(int) s.training().maxSteps() + 1];
    GrpoTrainer.Result r = new GrpoTrainer(s, new PrintStream(OutputStream.nullOutputStream()))
        .onStep(step -> stamps[(int) Math.min(step, stamps.length - 1)] = System.nanoTime())
        .train();
    io.r1cluster.core.device.NativeHeap.releaseAfter("baseline run"); // as the actor path's GrpoJob.close does
    return steadyStepTimes(stamps, (int) Math.min(r.globalStep(), stamps.length - 1), "in-process");
  }

  /** Seconds from the end of step i-1 to the end of step i, i = 2..last, from the steps' end stamps (ns). */
  static List<Double> steadyStepTimes(long[] stamps, int last, String path) {
    if (last < 3 || stamps[1] == 0 || stamps[last] == 0) {
      throw new IllegalStateException("the " + path + " run reported " + last + " steps; need at least 3");
    }
    List<Double> secs = new ArrayList<>();
    for (int i = 2; i <= last; i++) {
      secs.add((stamps[i] - stamps[i - 1]) / 1e9);
    }
    return secs;
  }

  /** Step times (s) of the embedded actor system, steady state: end of step i-1 to end of step i, i = 2..N. */
  static List<Double> actors(BenchContext ctx, Path recipe) throws Exception {
    Config config = ConfigFactory.parseString("""
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
        r1.grpo.progress-interval = 1h
        """).withFallback(ConfigFactory.load()).resolve();
    ctx.out().println("actor engine: " + recipe.getFileName());
    GrpoJob job = GrpoJob.prepare(recipe, config, "127.0.0.1");
    long[] stamps = new long[job.totalSteps() + 1];
    job.onStep(r -> stamps[Math.min(r.step(), stamps.length - 1)] = System.nanoTime());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "r1bench", config);
    try {
      Cluster c = Cluster.get(system);
      c.manager().tell(Join.create(c.selfMember().address()));
      GrpoNode.start(system);
      GrpoNode.startLearner(system, job, new PrintStream(OutputStream.nullOutputStream()));
      GrpoJob.RunResult r = job.done().get(30, TimeUnit.MINUTES);
      return steadyStepTimes(stamps, r.steps(), "actor");
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
      job.close();
    }
  }

  /**
   * Rollout tokens/s: a {@link RolloutEngine} (weights over Aeron IPC) handed the 16 groups of 8 of
   * one step one by one, and the same 128 sequences submitted to a {@link BatchEngine} at once (one
   * batch from the first step, the engine's best case; same row seeds); best of 2
   * rounds each, after a warm-up round, in alternation.
   */
  static double[] nodeRollout(BenchContext ctx, String model, Path dir) throws Exception {
    RecipeSettings s = Recipe.load(recipe(dir, "rollout", model, dir.resolve("data"), 3, 0)).settings();
    List<Prompt> prompts = Datasets.prompts(s.data(), s.data().trainSplit()).items().subList(0, 16);
    RunSpec.Sampling sampling = new RunSpec.Sampling(8, 64, 64, 1.0, 1.0, 0, 0);
    AeronSettings as = AeronSettings.defaults().withTermLength(16 << 20);
    try (Models.Loaded loaded = Models.load(s.model(), 42, dir); EmbeddedAeron aeron = EmbeddedAeron.launch(as)) {
      String channel = WeightChannels.ipc(as);
      WeightKey key = WeightKey.random();
      WeightPublisher pub = WeightPublisher.create(aeron.aeron(), channel, as, key);
      WeightReceiver rec = WeightReceiver.create(aeron.aeron(), channel, as, pub.publisherId(), key);
      rec.announced(Long.MAX_VALUE); // one process: every version this bench publishes is announced
      rec.start();
      if (!pub.awaitConnected(Duration.ofSeconds(30))) {
        throw new IllegalStateException("weight receiver did not connect");
      }
      pub.publish(new WeightSnapshot(0, loaded.model().toTensors(DType.F32)));
      Tokenizer tok = Tokenizer.load(loaded.tokenizerDir());
      ChatTemplate template = tok.chatTemplate(s.model().chatTemplate());
      try (RolloutEngine engine = RolloutEngine.open(loaded.model().config(), tok, template, sampling, rec, pub, 256, false)) {
        BatchEngine oneBatch = new BatchEngine(loaded.model(), false, 0, ids -> loaded.tokenizer().decode(ids, true),
            new BatchEngine.Options(128, 128, false), "one-batch");
        List<Integer> eos = io.r1cluster.core.generate.StopTokens.of(loaded.tokenizer(), loaded.model().config());
        SamplingParams sp = new SamplingParams(1.0, 1.0, 0, 0, 64, eos, List.of());
        List<int[]> batch = new ArrayList<>();
        for (Prompt p : prompts) {
          int[] e = loaded.tokenizer().encode(template.render(p.messages(), true));
          e = e.length <= 64 ? e : Arrays.copyOfRange(e, e.length - 64, e.length);
          for (int k = 0; k < 8; k++) {
            batch.add(e);
          }
        }
        io.r1cluster.actors.grpo.NoGrad.onThisThread();
        double bestNode = 0;
        double bestBatch = 0;
        for (int round = 0; round < 3; round++) {
          long t0 = System.nanoTime();
          List<CompletableFuture<Group>> fs = new ArrayList<>();
          for (int i = 0; i < prompts.size(); i++) {
            fs.add(engine.submit(prompts.get(i), 1000L * round + i, 0, Duration.ofSeconds(60), Runnable::run));
          }
          long nodeTokens = 0;
          for (CompletableFuture<Group> f : fs) {
            nodeTokens += f.get(10, TimeUnit.MINUTES).completions().stream().mapToLong(c -> c.tokenIds().length).sum();
          }
          double node = nodeTokens / ((System.nanoTime() - t0) / 1e9);
          t0 = System.nanoTime();
          List<BatchEngine.Request> rs = new ArrayList<>();
          for (int r = 0; r < batch.size(); r++) {
            rs.add(new BatchEngine.Request(batch.get(r), sp, Sampler.rowSeed(1000L * round + r / 8, r % 8), null));
          }
          List<Completion> cs = oneBatch.submitAll(rs).stream().map(h -> h.result().join()).toList();
          double batched = cs.stream().mapToLong(c -> c.tokenIds().length).sum() / ((System.nanoTime() - t0) / 1e9);
          ctx.out().printf("rollout round %d%s: node %.0f tok/s, one batch %.0f tok/s%n", round,
              round == 0 ? " (warm-up)" : "", node, batched);
          if (round > 0) {
            bestNode = Math.max(bestNode, node);
            bestBatch = Math.max(bestBatch, batched);
          }
        }
        oneBatch.close();
        return new double[] {bestNode, bestBatch};
      }
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> w = Files.walk(dir)) {
      w.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // temporary files: nothing to do
    }
  }
}
