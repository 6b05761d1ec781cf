package io.r1cluster.actors.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import com.fasterxml.jackson.databind.JsonNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.generate.TraceGenerator;
import io.r1cluster.core.generate.TraceGeneratorTest;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.pipeline.Pipeline;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.serve.ByteLevelTokenizerFixture;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** r1 serve with a full queue, as the generate stage's teacher, and on a byte-level tokenizer. */
@Timeout(300)
class ServeEndToEndTest {

  /** One row and no waiting room: a second request gets 429 with Retry-After until the first ends. */
  @Test
  void fullQueueAnswers429WithRetryAfter() throws Exception {
    try (Serving s = Serving.start("demo", Device.cpu(), Serving.Options.defaults().withPort(0).withQueue(1, 0))) {
      Http http = new Http(s, null);
      HttpResponse<InputStream> a = http.open("/v1/completions",
          "{\"prompt\": \"long\", \"max_tokens\": 480, \"ignore_eos\": true, \"stream\": true}");
      try (InputStream in = a.body()) {
        assertEquals(2, Http.events(in, 2).size()); // A holds the only row
        Http.Reply b = http.post("/v1/chat/completions",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 2}");
        assertEquals(429, b.status(), b.raw().body());
        assertEquals("1", b.raw().headers().firstValue("Retry-After").orElse(null));
        assertEquals("queue_full", b.body().get("error").get("code").asText());
        assertEquals("rate_limit_error", b.body().get("error").get("type").asText());
      }
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (s.backend().running() > 0 && System.nanoTime() < until) {
        Thread.sleep(10);
      }
      assertEquals(200, http.post("/v1/chat/completions",
          "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}], \"max_tokens\": 2}").status());
    }
  }

  /** The generate stage with teacher_url pointed at r1 serve asks it for every prompt's n completions. */
  @Test
  void generateStageUsesServeAsTeacher(@TempDir Path dir) throws Exception {
    try (Serving s = Serving.start("demo", Device.cpu(), Serving.Options.defaults().withPort(0))) {
      Path r = dir.resolve("gen.yaml");
      Files.writeString(r, String.join("\n",
          "model_name_or_path: demo",
          "dataset_name: " + TraceGeneratorTest.prompts(dir),
          "dataset_prompt_column: problem",
          "seed: 5",
          "max_completion_length: 16",
          "pipeline:",
          "  - name: gen",
          "    type: generate",
          "    teacher_url: " + s.baseUrl(),
          "    num_generations: 3",
          "    per_device_eval_batch_size: 2",
          ""));
      Path run = dir.resolve("run");
      PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
      // the random demo weights write no verifiable trace, so the stage ends with "nothing to train on";
      // what matters here is that every request went through the server and came back complete
      InputException e = assertThrows(InputException.class, () -> new Pipeline(Recipe.load(r), run, quiet).run());
      assertTrue(e.getMessage().contains("none of the 9 completions of endpoint " + s.baseUrl() + "/chat/completions"
          + " (model demo)"), e.getMessage());
      JsonNode stats = Http.JSON.readTree(run.resolve("gen").resolve(TraceGenerator.STATS_FILE).toFile());
      assertEquals(3, stats.get("prompts").asInt());
      assertEquals(9, stats.get("total").asInt(), "3 prompts x 3 completions from the server");
      assertTrue(stats.get("teacher").asText().contains(s.baseUrl()), stats.get("teacher").asText());
      String metrics = new Http(s, null).get("/metrics").raw().body();
      assertTrue(metrics.contains("r1_serve_requests_total{endpoint=\"chat\",status=\"200\"} 3.0"), metrics);
    }
  }

  /**
   * A checkpoint whose tokenizer is byte-level (every non-ASCII character spans several tokens):
   * the streamed deltas add up to exactly the non-streamed text, so no character was split.
   */
  @Test
  void streamingIsUtf8SafeOnByteLevelTokens(@TempDir Path dir) throws Exception {
    ByteLevelTokenizerFixture.write(dir);
    int eos = 256 + ByteLevelTokenizerFixture.ADDED.indexOf("<|im_end|>");
    Qwen2Config cfg = Qwen2Config.of(ByteLevelTokenizerFixture.vocabSize(), 32, 64, 2, 4, 2, 256, true).withTokens(-1, eos);
    try (Qwen2Model m = Qwen2Model.random(cfg, Device.cpu(), 21)) {
      m.save(dir);
    }
    try (Serving s = Serving.start(dir.toString(), Device.cpu(), Serving.Options.defaults().withPort(0)
        .withServedName("bytes"))) {
      Http http = new Http(s, null);
      int multiByte = 0;
      for (int seed = 0; seed < 4; seed++) {
        String body = "{\"model\": \"bytes\", \"prompt\": \"Grüße 数学\", \"max_tokens\": 48, \"ignore_eos\": true,"
            + " \"temperature\": 1, \"seed\": " + seed;
        String whole = http.post("/v1/completions", body + "}").body().get("choices").get(0).get("text").asText();
        StringBuilder sb = new StringBuilder();
        for (JsonNode ch : http.stream("/v1/completions", body + ", \"stream\": true}")) {
          sb.append(ch.get("choices").get(0).get("text").asText());
        }
        assertEquals(whole, sb.toString(), "seed " + seed);
        multiByte += (int) whole.chars().filter(c -> c > 0x7f && c != 0xFFFD).count();
      }
      assertTrue(multiByte > 0, "random bytes formed some multi-byte characters to split");
    }
  }
}
