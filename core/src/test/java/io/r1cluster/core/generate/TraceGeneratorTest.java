package io.r1cluster.core.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.generate.ChatCompletionsServerFixture.Choice;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.reward.RewardFunction;
import io.r1cluster.core.sft.SftTrainer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class TraceGeneratorTest {
  static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());
  static final ObjectMapper JSON = new ObjectMapper();
  static final ChatCompletionsTeacher.Options FAST = new ChatCompletionsTeacher.Options(Duration.ofSeconds(10), 3,
      Duration.ofMillis(10), 2);

  static String trace(String thinking, String answer) {
    return "<think>\n" + thinking + "\n</think>\n<answer>\n" + answer + "\n</answer>";
  }

  /** Three prompts with gold answers 5, 8 and 9. */
  public static Path prompts(Path dir) throws Exception {
    Path f = dir.resolve("prompts.jsonl");
    Files.writeString(f, String.join("\n",
        "{\"id\": \"p1\", \"problem\": \"What is 2+3?\", \"solution\": \"5\"}",
        "{\"id\": \"p2\", \"problem\": \"What is 4+4?\", \"solution\": \"8\"}",
        "{\"id\": \"p3\", \"problem\": \"What is 3*3?\", \"solution\": \"9\"}", ""));
    return f;
  }

  static RecipeSettings settings(Path dir, Path data, String... extra) throws Exception {
    List<String> lines = new ArrayList<>(List.of("dataset_name: " + data, "dataset_prompt_column: problem",
        "num_generations: 4", "max_completion_length: 24", "seed: 7"));
    lines.addAll(List.of(extra));
    Path r = dir.resolve("gen.yaml");
    Files.writeString(r, String.join("\n", lines) + "\n");
    return Recipe.load(r).settings(StageType.GENERATE);
  }

  public static ChatCompletionsServerFixture cannedTeacher() throws Exception {
    return new ChatCompletionsServerFixture()
        .answer("What is 2+3?", Choice.of(trace("2+3=5.", "5")), Choice.of(trace("2+3=6.", "6")),
            Choice.of("The answer is 5."), Choice.of(trace("3+2=5. So 5.", "5")))
        .answer("What is 4+4?", Choice.of(trace("4+4=9.", "9")), Choice.of("8"), Choice.of(trace("x", "7")),
            Choice.of(trace("4+4=16", "16")))
        .answer("What is 3*3?", Choice.of(trace("3*3=9.", "9")), new Choice("<answer>\n9\n</answer>", "3*3=9."),
            Choice.of(trace("3*3=6.", "6")), Choice.of(trace("three threes make 9", "9")));
  }

  @Test
  void endpointTeacherKeepsOnlyVerifiedCompletionsAndCountsThem(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("gen");
    try (ChatCompletionsServerFixture server = cannedTeacher().failFirst(2);
        ChatCompletionsTeacher teacher = new ChatCompletionsTeacher(server.baseUrl(), null, 0.6, 0.95, 24, FAST)) {
      assertEquals(server.baseUrl() + "/chat/completions", teacher.endpoint());
      RecipeSettings s = settings(dir, prompts(dir), "per_device_eval_batch_size: 2");
      TraceGenerator.Stats st = new TraceGenerator(s, QUIET).run(teacher, out);
      assertEquals(3, st.prompts());
      assertEquals(12, st.total());
      assertEquals(2 + 0 + 3, st.kept());
      assertEquals(5 / 12.0, st.keepRate(), 1e-12);
      assertEquals(Map.of("accuracy", 3 + 1 + 3, "format", 3 + 3 + 4), Map.copyOf(st.passed()),
          "accuracy reads the whole completion as Math-Verify does ('The answer is 5.' and a bare '8' count), "
              + "kept needs format too; format: reasoning_content is wrapped in <think>");
      // the request as vLLM's OpenAI server takes it; the model name came from GET /v1/models
      JsonNode req = server.requests().get(server.requests().size() - 1);
      assertEquals(ChatCompletionsServerFixture.MODEL, req.path("model").asText());
      assertEquals(4, req.path("n").asInt());
      assertEquals(24, req.path("max_tokens").asInt());
      assertEquals(0.6, req.path("temperature").asDouble(), 1e-9);
      assertEquals("user", req.path("messages").get(0).path("role").asText());
      assertEquals(3 + 2, server.requests().size(), "two 503s were retried");
    }
    // the dataset reads back as SFT data: only verified traces, prompt ids in the stats
    List<SftExample> rows = Datasets.sft(settings(dir, out).data(), "train").items();
    assertEquals(List.of("p1-0", "p1-3", "p3-0", "p3-1", "p3-3"), rows.stream().map(SftExample::id).toList());
    assertEquals(trace("3*3=9.", "9"), rows.get(3).completion().get(0).content());
    assertEquals("What is 2+3?", rows.get(0).prompt().get(0).content());
    JsonNode stats = JSON.readTree(out.resolve(TraceGenerator.STATS_FILE).toFile());
    assertEquals(12, stats.path("total").asInt());
    assertEquals(5, stats.path("kept").asInt());
    assertEquals(5 / 12.0, stats.path("keep_rate").asDouble(), 1e-12);
    assertEquals("p2", stats.path("per_prompt").get(1).path("id").asText());
    assertEquals(0, stats.path("per_prompt").get(1).path("kept").asInt());
    assertEquals(4, stats.path("per_prompt").get(1).path("total").asInt());
    assertEquals(3, stats.path("per_prompt").get(2).path("kept").asInt());
  }

  @Test
  void theApiKeyIsSentAndAnswersCarryTheStudentTokenizersIds(@TempDir Path dir) throws Exception {
    RecipeSettings s = settings(dir, prompts(dir));
    try (ChatCompletionsServerFixture server = cannedTeacher().requireApiKey("sk-test-123")) {
      // no key: the 401 is not retried and names the URL
      try (ChatCompletionsTeacher teacher = new ChatCompletionsTeacher(server.baseUrl(), "m", 1.0, 1.0, 24, FAST)) {
        ChatCompletionsTeacher.TeacherException e = assertThrows(ChatCompletionsTeacher.TeacherException.class,
            () -> new TraceGenerator(s, QUIET).run(teacher, dir.resolve("nokey")));
        assertTrue(e.getMessage().contains(server.baseUrl() + "/chat/completions") && e.getMessage().contains("HTTP 401"),
            e.getMessage());
        assertTrue(server.requests().size() <= 3, "one request per prompt, none retried: " + server.requests().size());
      }
      Models.Loaded demo = Models.load(Models.DEMO, null, 1, dir.resolve("tok"));
      try (demo; ChatCompletionsTeacher teacher = new ChatCompletionsTeacher(server.baseUrl(), null, 1.0, 1.0, 24, FAST)
          .withApiKey(" sk-test-123\n").withTokenizer(demo.tokenizer()::encode)) {
        Prompt p = new Prompt("p1", List.of(new io.r1cluster.core.data.ChatMessage("user", "What is 2+3?")), null, Map.of());
        List<TraceTeacher.Answer> a = teacher.answer(List.of(p), 2, 7).get(0);
        assertEquals(trace("2+3=5.", "5"), a.get(0).text(), "the model name came from GET /v1/models, with the key");
        for (TraceTeacher.Answer x : a) {
          assertTrue(x.tokenIds().length > 10);
          org.junit.jupiter.api.Assertions.assertArrayEquals(demo.tokenizer().encode(x.text()), x.tokenIds());
          assertEquals(x.text(), demo.tokenizer().decode(x.tokenIds(), false));
        }
      }
    }
  }

  @Test
  void aFailingEndpointIsRetriedThenReportedWithItsUrlAndWritesNothing(@TempDir Path dir) throws Exception {
    Path out = dir.resolve("gen");
    RecipeSettings s = settings(dir, prompts(dir));
    try (ChatCompletionsServerFixture server = cannedTeacher().always(502, "{\"error\": \"bad gateway\"}");
        ChatCompletionsTeacher teacher = new ChatCompletionsTeacher(server.baseUrl() + "/chat/completions", "m", 1.0,
            1.0, 24, FAST)) {
      ChatCompletionsTeacher.TeacherException e = assertThrows(ChatCompletionsTeacher.TeacherException.class,
          () -> new TraceGenerator(s, QUIET).run(teacher, out));
      assertTrue(e.getMessage().contains(server.baseUrl() + "/chat/completions"), e.getMessage());
      assertTrue(e.getMessage().contains("after 3 attempts") && e.getMessage().contains("HTTP 502"), e.getMessage());
    }
    try (ChatCompletionsServerFixture server = cannedTeacher().always(200, "{\"choices\": [");
        ChatCompletionsTeacher teacher = new ChatCompletionsTeacher(server.baseUrl(), "m", 1.0, 1.0, 24, FAST)) {
      ChatCompletionsTeacher.TeacherException e = assertThrows(ChatCompletionsTeacher.TeacherException.class,
          () -> new TraceGenerator(s, QUIET).run(teacher, out));
      assertTrue(e.getMessage().contains("not JSON"), e.getMessage());
    }
    assertFalse(Files.exists(out), "no dataset");
    try (Stream<Path> files = Files.list(dir)) {
      assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".gen")), "no temporary leftovers");
    }
  }

  @Test
  void localTeacherKeepsExactlyTheCompletionsThatPassTheRewards(@TempDir Path dir) throws Exception {
    // a demo model that has memorised one trace, so that some samples are right and some are not
    Path sftData = dir.resolve("memo.jsonl");
    Files.writeString(sftData, "{\"id\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"What is 2+3?\"},"
        + " {\"role\": \"assistant\", \"content\": \"" + trace("2+3=5.", "5").replace("\n", "\\n") + "\"}]}\n");
    Path r = dir.resolve("memo.yaml");
    Files.writeString(r, String.join("\n", "model_name_or_path: demo", "dataset_name: " + sftData,
        "output_dir: " + dir.resolve("memo"), "learning_rate: 3.0e-3", "lr_scheduler_type: constant", "max_steps: 40",
        "per_device_train_batch_size: 1", "max_length: 64", "save_strategy: 'no'", "seed: 1", ""));
    new SftTrainer(Recipe.load(r).settings(), QUIET).train();

    Path data = prompts(dir);
    RecipeSettings s = settings(dir, data, "temperature: 0.7", "max_prompts: 2");
    Path out = dir.resolve("gen");
    TraceGenerator.Stats st;
    try (LocalTeacher t = teacher(dir.resolve("memo"), s)) {
      st = new TraceGenerator(s, QUIET).run(t, out);
    }
    // the same samples again (same seed), verified here by hand
    List<Prompt> ps = Datasets.prompts(s.data(), "train").items().subList(0, 2);
    List<List<TraceTeacher.Answer>> answers;
    try (LocalTeacher t = teacher(dir.resolve("memo"), s)) {
      answers = t.answer(ps, 4, 7 * 1_000_003L);
    }
    List<RewardFunction> fns = RewardRegistry.create(List.of("accuracy", "format"), Map.of());
    List<String> expected = new ArrayList<>();
    for (int p = 0; p < 2; p++) {
      for (int k = 0; k < 4; k++) {
        String text = answers.get(p).get(k).text();
        RewardInput in = new RewardInput(List.of(text), List.of(answers.get(p).get(k).tokenIds()),
            Map.of("solution", List.of(ps.get(p).solution())));
        if (fns.get(0).score(in)[0] == 1f && fns.get(1).score(in)[0] == 1f) {
          expected.add(text);
        }
      }
    }
    assertEquals(8, st.total());
    assertTrue(!expected.isEmpty() && expected.size() < 8, "the memorised teacher is right only sometimes: " + answers.stream().flatMap(List::stream).map(TraceTeacher.Answer::text).toList());
    assertEquals(expected.size(), st.kept());
    List<String> kept = Datasets.sft(settings(dir, out).data(), "train").items().stream()
        .map(e -> e.completion().get(0).content()).toList();
    assertEquals(expected, kept);
  }

  static LocalTeacher teacher(Path ckpt, RecipeSettings s) {
    Models.Loaded m = Models.loadCheckpoint(ckpt);
    List<Integer> eos = new ArrayList<>();
    m.tokenizer().eosTokenId().ifPresent(eos::add);
    SamplingParams sp = new SamplingParams(s.grpo().temperature(), 1.0, 0, 0, s.grpo().maxCompletionLength(), eos,
        List.of());
    return new LocalTeacher(m, ckpt.toString(), m.tokenizer().chatTemplate(), sp, 64);
  }
}
