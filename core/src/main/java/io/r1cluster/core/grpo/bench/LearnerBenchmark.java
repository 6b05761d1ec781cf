package io.r1cluster.core.grpo.bench;

import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.demo.DemoModel;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.grpo.Advantages;
import io.r1cluster.core.grpo.GrpoConfig;
import io.r1cluster.core.grpo.GrpoLearner;
import io.r1cluster.core.grpo.LossType;
import io.r1cluster.core.grpo.ScaleRewards;
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
    return batch(groups, g, promptLen, complLen, seed, 128);
  }

  /** {@code groups} groups of {@code g} random completions with token ids below {@code vocab}. */
  static TrainBatch batch(int groups, int g, int promptLen, int complLen, long seed, int vocab) {
    Random r = new Random(seed);
    List<ScoredGroup> out = new ArrayList<>();
    List<float[]> rewards = new ArrayList<>();
    for (int i = 0; i < groups; i++) {
      int[] prompt = new int[promptLen];
      for (int j = 0; j < promptLen; j++) {
        prompt[j] = r.nextInt(vocab);
      }
      List<Completion> cs = new ArrayList<>();
      float[] rw = new float[g];
      float[][] m = new float[g][1];
      for (int k = 0; k < g; k++) {
        int[] ids = new int[complLen];
        float[] lp = new float[complLen];
        for (int j = 0; j < complLen; j++) {
          ids[j] = r.nextInt(vocab);
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
    // --model DIR: a checkpoint (float32 master weights; --param bf16=true computes in bf16) instead of the demo model
    String model = ctx.param("model", null);
    boolean bf16 = Boolean.parseBoolean(ctx.param("bf16", "false"));
    int[] micros = model == null ? new int[] {8, 32} : new int[] {ctx.intParam("micro_batch", 8)};
    int groups = model == null ? 8 : ctx.intParam("groups", 2);
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    for (int micro : micros) {
      GrpoConfig c = new GrpoConfig(0.0, 0.2, 0.2, 0, LossType.BNPO, ScaleRewards.GROUP, 1, GrpoConfig.IsLevel.TOKEN,
          false, 2.0, complLen, micro, 1.0, 1e-4, 1.0, 0.0);
      try (Qwen2Model m = model(model, bf16);
          GrpoLearner l = new GrpoLearner(m, c, LrSchedule.of("constant", 1e-4, 100, 0, Map.of()))) {
        TrainBatch b = batch(groups, 8, promptLen, complLen, 7, m.config().vocabSize()); // 8 x groups sequences per step
        l.step(b, 0); // warm-up
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
          l.step(b, i + 1);
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double tokens = steps * 8.0 * groups * (promptLen + complLen);
        double rate = tokens / secs;
        long rss = peakRssKb();
        ctx.out().printf("micro-batch %d: %.0f tokens/s%n", micro, rate);
        rows.add(List.of(Integer.toString(micro), Integer.toString(8 * groups), BenchReport.fmt(rate, 0),
            BenchReport.fmt(secs / steps, 2), BenchReport.fmt(rss / 1024.0, 0)));
        figures.put("micro" + micro + ".tokens_per_s", rate);
        figures.put("micro" + micro + ".step_s", secs / steps);
        figures.put("micro" + micro + ".peak_rss_mb", rss / 1024.0);
      }
    }
    return new BenchReport("learner", List.of("micro-batch", "sequences/step", "tokens/s", "s/step", "peak RSS MB"),
        rows, figures, List.of((model == null ? "demo-size Qwen2 (hidden 128, 4 layers)" : model)
            + (bf16 ? ", bf16 compute over float32 master weights" : ", float32") + ", sequences of " + promptLen + "+"
            + complLen + " tokens, beta 0, device " + Devices.selected() + "; peak RSS is the whole JVM (VmHWM)"));
  }

  private static Qwen2Model model(String dir, boolean bf16) {
    Qwen2Model m = dir == null ? Qwen2Model.random(DemoModel.config(128), Devices.selected(), 1)
        : Qwen2Model.loadStreaming(Path.of(dir), io.r1cluster.core.model.Qwen2Config.read(Path.of(dir, "config.json")),
            Devices.selected(), ai.djl.ndarray.types.DataType.FLOAT32);
    return m.computeIn(bf16 ? ai.djl.ndarray.types.DataType.BFLOAT16 : ai.djl.ndarray.types.DataType.FLOAT32);
  }

  /** The process's peak resident memory in KiB (VmHWM); -1 where there is no {@code /proc} (not Linux). */
  static long peakRssKb() {
    long bytes = io.r1cluster.core.generate.CheckpointDecode.status(ProcessHandle.current().pid(), "VmHWM");
    return bytes < 0 ? -1 : bytes >> 10;
  }
}
