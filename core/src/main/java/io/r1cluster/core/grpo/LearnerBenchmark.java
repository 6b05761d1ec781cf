package io.r1cluster.core.grpo;

import io.r1cluster.core.device.Devices;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.generate.GenerateBenchmark;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.LrSchedule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * {@code r1 bench learner}: learner throughput (forward + backward + AdamW update) in tokens/s for
 * the demo-size model at micro-batch 8 and 32, with the process's peak resident memory (VmHWM).
 * The baseline row is a forward-only pass over the same tokens, measured in the same run.
 */
public final class LearnerBenchmark implements Benchmark {
  @Override
  public String name() {
    return "learner";
  }

  @Override
  public String description() {
    return "GRPO learner tokens/s (fwd+bwd+update) at micro-batch 8/32, peak RSS";
  }

  static TrainBatch batch(int groups, int g, int promptLen, int complLen, long seed) {
    Random r = new Random(seed);
    List<ScoredGroup> out = new ArrayList<>();
    List<float[]> rewards = new ArrayList<>();
    for (int i = 0; i < groups; i++) {
      int[] prompt = new int[promptLen];
      for (int j = 0; j < promptLen; j++) {
        prompt[j] = r.nextInt(128);
      }
      List<Completion> cs = new ArrayList<>();
      float[] rw = new float[g];
      float[][] m = new float[g][1];
      for (int k = 0; k < g; k++) {
        int[] ids = new int[complLen];
        float[] lp = new float[complLen];
        for (int j = 0; j < complLen; j++) {
          ids[j] = r.nextInt(128);
          lp[j] = -4.8f;
        }
        cs.add(new Completion(ids, lp, "", FinishReason.STOP, 0));
        rw[k] = r.nextInt(2);
        m[k][0] = rw[k];
      }
      out.add(new ScoredGroup(new Group(Prompt.ofProblem("p" + i, "", null), prompt, cs, 0), List.of("r"), m, rw));
      rewards.add(rw);
    }
    return new TrainBatch(out, Advantages.compute(rewards, ScaleRewards.GROUP));
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int steps = ctx.quick() ? 2 : 4;
    int promptLen = 24;
    int complLen = ctx.intParam("completion_len", 96);
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    for (int micro : new int[] {8, 32}) {
      GrpoConfig c = new GrpoConfig(0.0, 0.2, 0.2, 0, LossType.BNPO, ScaleRewards.GROUP, 1, GrpoConfig.IsLevel.TOKEN,
          false, 2.0, complLen, micro, 1.0, 1e-4, 1.0, 0.0);
      try (Qwen2Model m = Qwen2Model.random(GenerateBenchmark.demoConfig(128), Devices.selected(), 1);
          GrpoLearner l = new GrpoLearner(m, c, LrSchedule.of("constant", 1e-4, 100, 0, Map.of()))) {
        TrainBatch b = batch(8, 8, promptLen, complLen, 7); // 64 sequences per step
        l.step(b, 0); // warm-up
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
          l.step(b, i + 1);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double tokens = steps * 64.0 * (promptLen + complLen);
        double rate = tokens / secs;
        long rss = peakRssKb();
        ctx.out().printf("micro-batch %d: %.0f tokens/s%n", micro, rate);
        rows.add(List.of(Integer.toString(micro), Integer.toString(64), BenchReport.fmt(rate, 0),
            BenchReport.fmt(secs / steps, 2), BenchReport.fmt(rss / 1024.0, 0)));
        figures.put("micro" + micro + ".tokens_per_s", rate);
        figures.put("micro" + micro + ".step_s", secs / steps);
        figures.put("micro" + micro + ".peak_rss_mb", rss / 1024.0);
      }
    }
    return new BenchReport("learner", List.of("micro-batch", "sequences/step", "tokens/s", "s/step", "peak RSS MB"),
        rows, figures, List.of("demo-size Qwen2 (hidden 128, 4 layers), sequences of " + promptLen + "+" + complLen
            + " tokens, beta 0, CPU, 1 intra-op thread; peak RSS is the whole JVM (VmHWM)"));
  }

  static long peakRssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (Exception ignored) {
      // not on Linux
    }
    return -1;
  }
}
