package io.r1cluster.core.generate;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Decode speed and peak memory of one checkpoint in one weight type, measured in a process of its
 * own so that its peak resident set is its own ({@code r1 bench generate --model DIR} starts one per
 * dtype and reads the child's {@code VmHWM} from {@code /proc/PID/status}, from outside).
 *
 * <p>Protocol with the parent: the child loads the checkpoint, measures, prints one line
 * {@code R1-DECODE {json}} on stdout and then blocks until its stdin closes, so the parent reads the
 * peak of a process that has done all its work but has not exited. Everything else the child prints
 * is progress.
 *
 * <p>Decode rate at batch B with N new tokens: {@code B·(N−1) / (t(N) − t(1))}, where t(n) is the
 * wall time of a generate call that makes n tokens per row from the same prompts; the difference
 * removes the prefill (the prompt pass and the first token), leaving N−1 cached single-token steps.
 * Sampling is greedy with no EOS, so every row makes exactly N tokens.
 */
public final class CheckpointDecode {
  /** The prefix of the result line. */
  public static final String RESULT = "R1-DECODE ";
  private static final ObjectMapper JSON = new ObjectMapper();

  private CheckpointDecode() {}

  /** One child's figures and the peak resident set the parent read for it (bytes; -1 when unreadable). */
  public record Result(Map<String, Object> figures, long peakRssBytes, long rssBytes) {}

  /**
   * Child entry point: {@code DIR DTYPE DEVICE BATCHES NEW_TOKENS PROMPT_LEN}, e.g.
   * {@code ckpt bfloat16 cpu 1,8 32 16}.
   */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args[0]);
    DataType dtype = dtype(args[1]);
    Devices.select(Devices.parse(args[2], "--device"));
    Device device = Devices.selected();
    List<Integer> batches = new ArrayList<>();
    for (String b : args[3].split(",")) {
      batches.add(Integer.parseInt(b.trim()));
    }
    int newTokens = Integer.parseInt(args[4]);
    int promptLen = Integer.parseInt(args[5]);
    PrintStream out = System.out;
    Map<String, Object> fig = new LinkedHashMap<>();
    long t0 = System.nanoTime();
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    try (Qwen2Model m = Qwen2Model.loadStreaming(dir, cfg, device, dtype)) {
      double load = (System.nanoTime() - t0) / 1e9;
      fig.put("load_s", load);
      fig.put("rss_after_load_bytes", status(ProcessHandle.current().pid(), "VmRSS"));
      out.printf(Locale.ROOT, "%s: loaded in %.1f s on %s%n", args[1], load, device);
      Sampler s = new Sampler(m, ids -> "");
      s.generate(prompts(1, promptLen, cfg.vocabSize()), SamplingParams.greedy(2, List.of()), 0, 0); // warm-up
      for (int b : batches) {
        List<int[]> p = prompts(b, promptLen, cfg.vocabSize());
        s.generate(p, SamplingParams.greedy(2, List.of()), 0, 0); // warm-up at this batch size
        double c0 = cpuSeconds();
        double t1 = time(s, p, 1);
        double c1 = cpuSeconds();
        double tn = time(s, p, newTokens);
        double c2 = cpuSeconds();
        double decode = b * (newTokens - 1) / (tn - t1);
        // CPU time of this process (all its threads) per decoded token: the work, whatever else the machine runs
        double cpuPerToken = ((c2 - c1) - (c1 - c0)) / (b * (newTokens - 1));
        fig.put("batch" + b + ".decode_tokens_per_s", decode);
        fig.put("batch" + b + ".decode_cpu_s_per_token", cpuPerToken);
        fig.put("batch" + b + ".prefill_s", t1);
        out.printf(Locale.ROOT, "%s batch %d: prefill %.2f s, decode %.2f tok/s, %.3f CPU-s/token (load average %s)%n",
            args[1], b, t1, decode, cpuPerToken, loadAverage());
      }
    }
    out.println(RESULT + JSON.writeValueAsString(fig));
    out.flush();
    // hold until the parent has read our peak resident set
    while (System.in.read() >= 0) {
      // drain
    }
  }

  private static double time(Sampler s, List<int[]> prompts, int n) {
    long t0 = System.nanoTime();
    s.generate(prompts, SamplingParams.greedy(n, List.of()), 0, 0);
    return (System.nanoTime() - t0) / 1e9;
  }

  /** {@code b} prompts of {@code len} token ids below {@code vocab}, different per row. */
  static List<int[]> prompts(int b, int len, int vocab) {
    List<int[]> out = new ArrayList<>();
    for (int i = 0; i < b; i++) {
      int[] p = new int[len];
      for (int j = 0; j < len; j++) {
        p[j] = (int) ((i * 7919L + j * 104729L + 11) % vocab);
      }
      out.add(p);
    }
    return out;
  }

  /** {@code float32} / {@code fp32} or {@code bfloat16} / {@code bf16}. */
  public static DataType dtype(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "float32", "fp32", "f32" -> DataType.FLOAT32;
      case "bfloat16", "bf16" -> DataType.BFLOAT16;
      default -> throw new InputException(null, 0, "dtypes", "'" + s + "' is not a weight type: use float32 or bfloat16");
    };
  }

  /**
   * Runs the child for {@code dtype} in a new JVM with this JVM's options and class path, relays its
   * progress to {@code progress}, and reads its peak resident set before letting it exit.
   */
  public static Result runChild(Path dir, String dtype, Device device, String batches, int newTokens, int promptLen,
      PrintStream progress) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (!a.startsWith("-agentlib:jdwp") && !a.startsWith("-javaagent")) {
        cmd.add(a);
      }
    }
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(CheckpointDecode.class.getName());
    cmd.addAll(List.of(dir.toString(), dtype, device.isGpu() ? "cuda:" + device.getDeviceId() : "cpu", batches,
        Integer.toString(newTokens), Integer.toString(promptLen)));
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        if (line.startsWith(RESULT)) {
          @SuppressWarnings("unchecked")
          Map<String, Object> fig = JSON.readValue(line.substring(RESULT.length()), LinkedHashMap.class);
          long peak = status(p.pid(), "VmHWM");
          long rss = status(p.pid(), "VmRSS");
          p.getOutputStream().close();
          r.transferTo(java.io.Writer.nullWriter());
          if (p.waitFor() != 0) {
            throw new IllegalStateException("the " + dtype + " decode process exited with " + p.exitValue());
          }
          return new Result(fig, peak, rss);
        }
        progress.println("  " + line);
      }
      throw new IllegalStateException("the " + dtype + " decode process exited with " + p.waitFor()
          + " before reporting (its errors are above)");
    } finally {
      p.destroy();
    }
  }

  /** User + system CPU seconds of this process so far ({@code /proc/self/stat}, 100 ticks/s); NaN off Linux. */
  static double cpuSeconds() {
    try {
      String st = Files.readString(Path.of("/proc/self/stat"));
      String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
    } catch (IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** The 1-minute load average ({@code /proc/loadavg}), "?" off Linux. */
  public static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static final Pattern KB = Pattern.compile("(\\d+)\\s*kB");

  /** A {@code kB} field of {@code /proc/PID/status} in bytes; -1 where there is no such file (not Linux). */
  public static long status(long pid, String field) {
    Path f = Path.of("/proc", Long.toString(pid), "status");
    try {
      for (String l : Files.readAllLines(f)) {
        if (l.startsWith(field + ":")) {
          Matcher m = KB.matcher(l);
          return m.find() ? Long.parseLong(m.group(1)) * 1024 : -1;
        }
      }
    } catch (IOException e) {
      return -1;
    }
    return -1;
  }
}
