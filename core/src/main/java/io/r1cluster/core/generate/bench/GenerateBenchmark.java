package io.r1cluster.core.generate.bench;

import io.r1cluster.core.InputException;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.demo.DemoModel;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.generate.CheckpointDecode;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code r1 bench generate}: tokens/s of the demo-sized model at batch 1, 16 and 64 with the KV
 * cache and with full-prefix recomputation (the baseline), measured in the same run.
 *
 * <p>{@code r1 bench generate --model DIR} measures a checkpoint instead: cached decode tokens/s at
 * batch 1 and 8 and the peak resident set, once per weight type ({@code --param dtypes=float32,bfloat16},
 * the first the baseline), each in a process of its own ({@link CheckpointDecode}) so that each peak
 * is that dtype's alone. Other parameters: {@code batches=1,8}, {@code new_tokens=32},
 * {@code prompt_len=16}.
 */
public final class GenerateBenchmark implements Benchmark {
  @Override
  public String name() {
    return "generate";
  }

  @Override
  public String description() {
    return "sampling tokens/s with vs without KV cache (demo-size model, batch 1/16/64)";
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    String model = ctx.param("model", null);
    if (model != null) {
      return runCheckpoint(ctx, Path.of(model));
    }
    int newTokens = ctx.intParam("new_tokens", ctx.quick() ? 32 : 128);
    int promptLen = ctx.intParam("prompt_len", 24);
    int[] batches = ctx.quick() ? new int[] {1, 16} : new int[] {1, 16, 64};
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    try (Qwen2Model m = Qwen2Model.random(DemoModel.config(128), Devices.selected(), 1)) {
      Sampler s = new Sampler(m, ids -> "");
      // never stop early: no EOS, sample at temperature 1
      SamplingParams sp = new SamplingParams(1.0, 1.0, 0, 0, newTokens, List.of(), List.of());
      s.generate(prompts(2, promptLen), new SamplingParams(1.0, 1.0, 0, 0, 8, List.of(), List.of()), 0, 0); // warm-up
      for (int b : batches) {
        double with = rate(s, prompts(b, promptLen), sp, true);
        double without = rate(s, prompts(b, promptLen), sp, false);
        ctx.out().printf("batch %d: %.0f tok/s with cache, %.0f without%n", b, with, without);
        rows.add(List.of(Integer.toString(b), Integer.toString(newTokens), BenchReport.fmt(with, 0), BenchReport.fmt(without, 0),
            BenchReport.fmt(with / without, 1) + "x"));
        figures.put("batch" + b + ".kv_tokens_per_s", with);
        figures.put("batch" + b + ".recompute_tokens_per_s", without);
        figures.put("batch" + b + ".speedup", with / without);
      }
    }
    return new BenchReport("generate", List.of("batch", "new tokens", "KV cache tok/s", "recompute tok/s", "speed-up"),
        rows, figures, List.of("demo-size Qwen2 (hidden 128, 4 layers, 4 heads / 2 kv heads, vocab 128), prompt "
            + promptLen + " tokens, CPU; target: KV cache >= 5x recompute at batch 16, 128 new tokens"));
  }

  /** Decode speed and peak RSS of a checkpoint per dtype, each dtype in its own process; ratios against the first. */
  private BenchReport runCheckpoint(BenchContext ctx, Path dir) throws Exception {
    if (!Files.isRegularFile(dir.resolve(HfCheckpoint.CONFIG_FILE))) {
      throw new InputException(dir, 0, "--model", "not a checkpoint folder (no " + HfCheckpoint.CONFIG_FILE + ")");
    }
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    List<String> dtypes = List.of(ctx.param("dtypes", "float32,bfloat16").split(","));
    String loadBefore = CheckpointDecode.loadAverage();
    for (String d : dtypes) {
      CheckpointDecode.dtype(d.trim());
    }
    String batchList = ctx.param("batches", "1,8");
    List<Integer> batches = new ArrayList<>();
    for (String b : batchList.split(",")) {
      try {
        batches.add(Integer.parseInt(b.trim()));
      } catch (NumberFormatException e) {
        throw new InputException(null, 0, "batches", "'" + batchList + "' is not a list of batch sizes like 1,8");
      }
    }
    int newTokens = ctx.intParam("new_tokens", ctx.quick() ? 8 : 32);
    int promptLen = ctx.intParam("prompt_len", 16);
    if (newTokens < 2 || promptLen < 1) {
      throw new InputException(null, 0, "new_tokens", "need new_tokens >= 2 and prompt_len >= 1");
    }
    var device = Devices.selected();
    Map<String, CheckpointDecode.Result> res = new LinkedHashMap<>();
    for (String d : dtypes) {
      ctx.out().printf("%s: %s …%n", dir, d.trim());
      res.put(d.trim(), CheckpointDecode.runChild(dir, d.trim(), device, batchList, newTokens, promptLen, ctx.out()));
    }
    String base = dtypes.get(0).trim();
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    for (var e : res.entrySet()) {
      String d = e.getKey();
      CheckpointDecode.Result r = e.getValue();
      double peakMib = r.peakRssBytes() / 1048576.0;
      double basePeak = res.get(base).peakRssBytes() / 1048576.0;
      figures.put(d + ".peak_rss_mib", peakMib);
      figures.put(d + ".load_s", r.figures().get("load_s"));
      figures.put(d + ".rss_after_load_mib", ((Number) r.figures().get("rss_after_load_bytes")).doubleValue() / 1048576.0);
      for (int b : batches) {
        double tps = ((Number) r.figures().get("batch" + b + ".decode_tokens_per_s")).doubleValue();
        double baseTps = ((Number) res.get(base).figures().get("batch" + b + ".decode_tokens_per_s")).doubleValue();
        double cpt = ((Number) r.figures().get("batch" + b + ".decode_cpu_s_per_token")).doubleValue();
        double baseCpt = ((Number) res.get(base).figures().get("batch" + b + ".decode_cpu_s_per_token")).doubleValue();
        figures.put(d + ".batch" + b + ".decode_tokens_per_s", tps);
        figures.put(d + ".batch" + b + ".decode_cpu_s_per_token", cpt);
        if (!d.equals(base)) {
          figures.put(d + "_vs_" + base + ".batch" + b + ".speedup", tps / baseTps);
          figures.put(d + "_vs_" + base + ".batch" + b + ".cpu_speedup", baseCpt / cpt);
        }
        rows.add(List.of(d, Integer.toString(b), BenchReport.fmt(tps, 2), BenchReport.fmt(tps / baseTps, 2) + "x",
            BenchReport.fmt(cpt, 3), BenchReport.fmt(baseCpt / cpt, 2) + "x",
            BenchReport.fmt(peakMib, 0), BenchReport.fmt(peakMib / basePeak, 2) + "x"));
      }
      if (!d.equals(base)) {
        figures.put(d + "_vs_" + base + ".peak_rss_ratio", peakMib / basePeak);
      }
    }
    figures.put("device", device.toString());
    figures.put("new_tokens", newTokens);
    figures.put("prompt_len", promptLen);
    String loadAfter = CheckpointDecode.loadAverage();
    figures.put("load_average_before", loadBefore);
    figures.put("load_average_after", loadAfter);
    return new BenchReport("generate", List.of("dtype", "batch", "decode tok/s", "vs " + base, "CPU-s/token",
        "tokens per CPU-s vs " + base, "peak RSS MiB", "RSS vs " + base), rows, figures, List.of(dir + ": hidden " + cfg.hiddenSize() + ", " + cfg.numHiddenLayers()
            + " layers, " + cfg.numAttentionHeads() + "/" + cfg.numKeyValueHeads() + " heads, vocab " + cfg.vocabSize()
            + "; greedy, KV cache, prompt " + promptLen + " tokens, decode rate = B(N-1)/(t(N)-t(1)) with N = "
            + newTokens + "; one process per dtype, peak RSS = its VmHWM read from /proc/PID/status; device " + device,
            "CPU-s/token: user+system CPU time of the child per decoded token (robust to other load; load average "
                + loadBefore + " before, " + loadAfter + " after)",
            "targets (issue 16, CPU): bfloat16 >= 1.5x float32 tok/s at batch 1, bfloat16 peak RSS <= 0.6x float32"));
  }

  static List<int[]> prompts(int b, int len) {
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < b; i++) {
      int[] p = new int[len];
      for (int j = 0; j < len; j++) {
        p[j] = (i * 31 + j * 7) % 128;
      }
      out.add(p);
    }
    return out;
  }

  static double rate(Sampler s, List<int[]> prompts, SamplingParams sp, boolean cache) {
    long t0 = System.nanoTime();
    var out = s.generate(prompts, sp, 42, 0, cache);
    double secs = (System.nanoTime() - t0) / 1e9;
    long tokens = out.stream().mapToLong(c -> c.tokenIds().length).sum();
    return tokens / secs;
  }
}
