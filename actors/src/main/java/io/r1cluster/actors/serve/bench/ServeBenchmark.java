package io.r1cluster.actors.serve.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.actors.serve.Serving;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import io.r1cluster.core.device.Devices;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code r1 bench serve}: aggregate completion tokens/s of {@code r1 serve} on the demo model with 32
 * concurrent clients against the same requests sent one at a time, in the same run, over real
 * HTTP on loopback. Each request is a streamed {@code /v1/completions} call with a fixed length
 * ({@code ignore_eos}), so both phases generate the same number of tokens; time to first token is
 * the time to the first SSE event. Figure {@code ratio} = concurrent / sequential tokens/s (target ≥ 4).
 */
public final class ServeBenchmark implements Benchmark {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Override
  public String name() {
    return "serve";
  }

  @Override
  public String description() {
    return "r1 serve: 32 concurrent clients vs the same requests one at a time (tokens/s ratio, TTFT p50/p99)";
  }

  /** One finished request: completion tokens and time to first token (seconds). */
  record Done(int tokens, double ttft) {}

  @Override
  public BenchReport run(BenchContext ctx) throws Exception {
    int clients = ctx.intParam("clients", 32);
    int perClient = ctx.intParam("per_client", ctx.quick() ? 1 : 2);
    int maxTokens = ctx.intParam("max_tokens", ctx.quick() ? 32 : 64);
    int requests = clients * perClient;
    try (Serving s = Serving.start("demo", Devices.selected(), Serving.Options.defaults().withPort(0)
        .withQueue(Math.max(64, clients), 4 * requests))) {
      String url = s.baseUrl() + "/completions";
      HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(30)).build();
      ctx.out().printf("serving demo at %s; %d requests of %d tokens%n", s.baseUrl(), requests, maxTokens);
      for (int i = 0; i < 3; i++) {
        call(http, url, -1 - i, maxTokens); // warm-up: JIT, native kernels, connection
      }
      long t0 = System.nanoTime();
      List<Done> seq = new ArrayList<>();
      for (int i = 0; i < requests; i++) {
        seq.add(call(http, url, i, maxTokens));
      }
      double seqSeconds = (System.nanoTime() - t0) / 1e9;
      ctx.out().printf("one at a time: %d requests in %.1f s%n", requests, seqSeconds);
      ExecutorService pool = Executors.newFixedThreadPool(clients);
      List<Done> conc = new ArrayList<>();
      double concSeconds;
      try {
        long t1 = System.nanoTime();
        List<Future<List<Done>>> fs = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
          int client = c;
          fs.add(pool.submit(() -> {
            List<Done> mine = new ArrayList<>();
            for (int k = 0; k < perClient; k++) {
              mine.add(call(http, url, client * perClient + k, maxTokens));
            }
            return mine;
          }));
        }
        for (Future<List<Done>> f : fs) {
          conc.addAll(f.get());
        }
        concSeconds = (System.nanoTime() - t1) / 1e9;
      } finally {
        pool.shutdownNow();
      }
      ctx.out().printf("%d clients at once: %d requests in %.1f s%n", clients, requests, concSeconds);
      double seqRate = tokens(seq) / seqSeconds;
      double concRate = tokens(conc) / concSeconds;
      double ratio = concRate / seqRate;
      Map<String, Object> fig = new LinkedHashMap<>();
      fig.put("model", "demo");
      fig.put("device", Devices.selected().toString());
      fig.put("clients", clients);
      fig.put("requests", requests);
      fig.put("max_tokens", maxTokens);
      fig.put("sequential_tokens_per_s", round(seqRate));
      fig.put("concurrent_tokens_per_s", round(concRate));
      fig.put("ratio", round(ratio));
      fig.put("target_ratio", 4.0);
      fig.put("sequential_ttft_p50_ms", round(1000 * pct(seq, 50)));
      fig.put("sequential_ttft_p99_ms", round(1000 * pct(seq, 99)));
      fig.put("concurrent_ttft_p50_ms", round(1000 * pct(conc, 50)));
      fig.put("concurrent_ttft_p99_ms", round(1000 * pct(conc, 99)));
      List<List<String>> rows = List.of(
          List.of("one at a time", String.valueOf(requests), BenchReport.fmt(seqSeconds, 1), BenchReport.fmt(seqRate, 0),
              BenchReport.fmt(1000 * pct(seq, 50), 0), BenchReport.fmt(1000 * pct(seq, 99), 0)),
          List.of(clients + " concurrent clients", String.valueOf(requests), BenchReport.fmt(concSeconds, 1),
              BenchReport.fmt(concRate, 0), BenchReport.fmt(1000 * pct(conc, 50), 0),
              BenchReport.fmt(1000 * pct(conc, 99), 0)));
      return new BenchReport("serve", List.of("clients", "requests", "seconds", "completion tok/s", "TTFT p50 ms",
          "TTFT p99 ms"), rows, fig, List.of(
          String.format(java.util.Locale.ROOT, "ratio (concurrent / one at a time) = %.2f (target >= 4)", ratio),
          "demo model, streamed /v1/completions of " + maxTokens + " tokens each (ignore_eos), HTTP/1.1 on loopback,"
              + " device " + Devices.selected()));
    }
  }

  private static double round(double x) {
    return Math.round(x * 100) / 100.0;
  }

  private static long tokens(List<Done> ds) {
    return ds.stream().mapToLong(Done::tokens).sum();
  }

  private static double pct(List<Done> ds, int p) {
    double[] t = ds.stream().mapToDouble(Done::ttft).sorted().toArray();
    if (t.length == 0) {
      return Double.NaN;
    }
    int i = (int) Math.ceil(p / 100.0 * t.length) - 1;
    return t[Math.max(0, Math.min(t.length - 1, i))];
  }

  /** One streamed completion; returns its completion tokens (from the usage chunk) and TTFT. */
  private static Done call(HttpClient http, String url, long seed, int maxTokens) throws IOException, InterruptedException {
    String body = "{\"model\": \"demo\", \"prompt\": \"Problem " + seed + ": what is " + seed + " + 17? Think step by step.\","
        + " \"max_tokens\": " + maxTokens + ", \"temperature\": 1.0, \"seed\": " + seed + ", \"ignore_eos\": true,"
        + " \"stream\": true, \"stream_options\": {\"include_usage\": true}}";
    long t0 = System.nanoTime();
    HttpResponse<InputStream> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(10))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofInputStream());
    if (r.statusCode() != 200) {
      throw new IOException("HTTP " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
    }
    double ttft = Double.NaN;
    int tokens = -1;
    try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = in.readLine()) != null) {
        if (!line.startsWith("data: ")) {
          continue;
        }
        String data = line.substring(6);
        if (data.equals("[DONE]")) {
          break;
        }
        if (Double.isNaN(ttft)) {
          ttft = (System.nanoTime() - t0) / 1e9;
        }
        JsonNode n = JSON.readTree(data);
        if (n.has("usage") && n.get("usage").has("completion_tokens")) {
          tokens = n.get("usage").get("completion_tokens").asInt();
        }
      }
    }
    if (tokens != maxTokens) {
      throw new IOException("expected " + maxTokens + " completion tokens, the usage chunk says " + tokens
          + " (" + Arrays.asList(url, seed) + ")");
    }
    return new Done(tokens, ttft);
  }
}
