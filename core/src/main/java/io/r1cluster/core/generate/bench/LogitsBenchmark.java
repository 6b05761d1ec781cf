package io.r1cluster.core.generate.bench;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code r1 [--device D] bench logits --model DIR}: the logits of a checkpoint on the selected device,
 * in float32 and bf16, against float32 on the CPU (the baseline, computed in the same run). Inputs are
 * the checkpoint's {@code inputs.json} when it has one (the transformers fixtures), else two fixed
 * rows (one left-padded). Compared at non-padding positions.
 *
 * <p>Tolerances: float32 on another device max |diff| ≤ 1e-3; bf16 max |diff| ≤ 0.05 · max |logit|
 * (the bound {@code Bf16Test} holds on the CPU). A row over its tolerance fails the run (exit 1 via
 * {@link IllegalStateException}) after the table is printed.
 */
public final class LogitsBenchmark implements Benchmark {
  static final double F32_TOL = 1e-3;
  static final double BF16_REL_TOL = 0.05;

  @Override
  public String name() {
    return "logits";
  }

  @Override
  public String description() {
    return "logits of --model DIR on the selected device (float32, bf16) vs float32 on the CPU";
  }

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    String model = ctx.param("model", null);
    if (model == null) {
      throw new InputException(null, 0, "--model", "bench logits needs --model DIR (a checkpoint folder)");
    }
    Path dir = Path.of(model);
    if (!Files.isRegularFile(dir.resolve(HfCheckpoint.CONFIG_FILE))) {
      throw new InputException(dir, 0, "--model", "not a checkpoint folder (no " + HfCheckpoint.CONFIG_FILE + ")");
    }
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    long[][][] in = inputs(dir, cfg.vocabSize());
    Device dev = Devices.selected();
    float[] ref = logits(dir, cfg, Devices.host(), DataType.FLOAT32, in);
    List<List<String>> rows = new ArrayList<>();
    Map<String, Object> figures = new LinkedHashMap<>();
    List<String> failed = new ArrayList<>();
    for (DataType t : new DataType[] {DataType.FLOAT32, DataType.BFLOAT16}) {
      float[] got = logits(dir, cfg, dev, t, in);
      double maxDiff = 0;
      double maxAbs = 0;
      long[][] mask = in[1];
      int v = cfg.vocabSize();
      int len = mask[0].length;
      for (int i = 0; i < mask.length; i++) {
        for (int j = 0; j < len; j++) {
          if (mask[i][j] == 0) {
            continue;
          }
          for (int k = 0; k < v; k++) {
            int idx = (i * len + j) * v + k;
            maxDiff = Math.max(maxDiff, Math.abs(got[idx] - ref[idx]));
            maxAbs = Math.max(maxAbs, Math.abs(ref[idx]));
          }
        }
      }
      double tol = t == DataType.FLOAT32 ? F32_TOL : BF16_REL_TOL * maxAbs;
      boolean ok = maxDiff <= tol;
      String name = t == DataType.FLOAT32 ? "float32" : "bfloat16";
      rows.add(List.of(dev.toString(), name, String.format("%.3g", maxDiff), String.format("%.3g", maxAbs),
          String.format("%.3g", tol), ok ? "ok" : "OVER"));
      figures.put(name + ".max_abs_diff", maxDiff);
      figures.put(name + ".tolerance", tol);
      figures.put(name + ".ok", ok);
      if (!ok) {
        failed.add(name);
      }
    }
    figures.put("device", dev.toString());
    figures.put("max_abs_logit", maxAbs(ref));
    BenchReport r = new BenchReport("logits", List.of("device", "dtype", "max |diff| vs CPU float32", "max |logit|",
        "tolerance", "result"), rows, figures, List.of(dir + ": float32 tolerance " + F32_TOL + ", bf16 "
            + BF16_REL_TOL + " x max |logit|"));
    if (!failed.isEmpty()) {
      ctx.out().println(r.table());
      throw new IllegalStateException("logits over tolerance on " + dev + " for " + failed);
    }
    return r;
  }

  private static double maxAbs(float[] a) {
    double m = 0;
    for (float x : a) {
      m = Math.max(m, Math.abs(x));
    }
    return m;
  }

  private static float[] logits(Path dir, Qwen2Config cfg, Device device, DataType type, long[][][] in) {
    try (Qwen2Model m = Qwen2Model.loadStreaming(dir, cfg, device, type); NDManager s = Devices.manager(device)) {
      NDArray l = m.logits(s, s.create(in[0]), s.create(in[1]), s.create(in[2]));
      return l.toDevice(Devices.host(), false).toFloatArray();
    }
  }

  /** ids, mask, positions from {@code inputs.json}, or two fixed rows of 8 (the second left-padded by 2). */
  static long[][][] inputs(Path dir, int vocab) throws Exception {
    Path f = dir.resolve("inputs.json");
    if (Files.isRegularFile(f)) {
      JsonNode n = new ObjectMapper().readTree(f.toFile());
      return new long[][][] {longs(n.get("input_ids")), longs(n.get("attention_mask")), longs(n.get("position_ids"))};
    }
    long[][] ids = new long[2][8];
    long[][] mask = new long[2][8];
    long[][] pos = new long[2][8];
    for (int i = 0; i < 2; i++) {
      int pad = i == 0 ? 0 : 2;
      for (int j = 0; j < 8; j++) {
        ids[i][j] = j < pad ? 0 : (7L * j + 13L * i + 5) % vocab;
        mask[i][j] = j < pad ? 0 : 1;
        pos[i][j] = Math.max(0, j - pad);
      }
    }
    return new long[][][] {ids, mask, pos};
  }

  private static long[][] longs(JsonNode n) {
    long[][] out = new long[n.size()][];
    for (int i = 0; i < n.size(); i++) {
      out[i] = new long[n.get(i).size()];
      for (int j = 0; j < out[i].length; j++) {
        out[i][j] = n.get(i).get(j).asLong();
      }
    }
    return out;
  }
}
