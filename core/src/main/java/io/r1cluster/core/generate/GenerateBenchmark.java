package io.r1cluster.core.generate;

import io.r1cluster.core.device.Devices;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code r1 bench generate}: tokens/s of the demo-sized model at batch 1, 16 and 64 with the KV
 * cache and with full-prefix recomputation (the baseline), measured in the same run.
 */
public final class GenerateBenchmark implements Benchmark {
  /** The demo model's shape (tiny Qwen2, tied embeddings). */
  public static Qwen2Config demoConfig(int vocab) {
    return Qwen2Config.of(vocab, 128, 384, 4, 4, 2, 512, true);
  }

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
    int newTokens = ctx.intParam("new_tokens", ctx.quick() ? 32 : 128);
    int promptLen = ctx.intParam("prompt_len", 24);
    int[] batches = ctx.quick() ? new int[] {1, 16} : new int[] {1, 16, 64};
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    try (Qwen2Model m = Qwen2Model.random(demoConfig(128), Devices.selected(), 1)) {
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
