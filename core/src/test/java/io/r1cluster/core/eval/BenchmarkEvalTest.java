package io.r1cluster.core.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.eval.cli.EvalCommand;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.reward.RewardFunction;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.train.RunFolder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code r1 eval --benchmark math500}: the shipped data, open-r1's prompt, our verifier, no hidden token cap. */
class BenchmarkEvalTest {

  @Test
  void theShippedFileIsPrm800kMathTestSplit() throws Exception {
    byte[] bytes;
    try (var in = Benchmark.class.getResourceAsStream("benchmarks/math500.jsonl")) {
      bytes = in.readAllBytes();
    }
    // the Git LFS object id of prm800k/math_splits/test.jsonl in openai/prm800k
    assertEquals("35dc41080a3680858b27fa7e0533d2d547825316fc5dafe5d316f4ccc5a06132",
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)));
    assertEquals(446_564, bytes.length);
    List<Prompt> ps = Benchmark.MATH500.prompts();
    assertEquals(500, ps.size());
    assertEquals(500, new HashSet<>(ps.stream().map(Prompt::id).toList()).size());
    Prompt first = ps.get(0);
    assertEquals("test/precalculus/807.json", first.id());
    assertTrue(first.messages().get(0).content().startsWith("Convert the point $(0,3)$ in rectangular coordinates"));
    assertTrue(first.messages().get(0).content().endsWith(
        "\nPlease reason step by step, and put your final answer within \\boxed{}."));
    assertEquals("\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", first.solution());
    assertEquals(Benchmark.MATH500, Benchmark.of("MATH-500"));
    InputException e = assertThrows(InputException.class, () -> Benchmark.of("aime24"));
    assertTrue(e.getMessage().contains("known: math500"), e.getMessage());
  }

  @Test
  void everyGoldAnswerIsAcceptedByOurVerifierWhenACompletionBoxesIt() {
    List<Prompt> ps = Benchmark.MATH500.prompts();
    RewardFunction acc = RewardRegistry.create(List.of("accuracy"), Map.of()).get(0);
    List<String> texts = new ArrayList<>();
    List<int[]> ids = new ArrayList<>();
    List<Object> sols = new ArrayList<>();
    for (Prompt p : ps) {
      String answer = p.solution().substring("\\boxed{".length(), p.solution().length() - 1);
      texts.add("<think>\nworking\n</think>\nTherefore, the final answer is $\\boxed{" + answer + "}$.");
      ids.add(new int[0]);
      sols.add(p.solution());
    }
    float[] s = acc.score(new RewardInput(texts, ids, Map.of("solution", sols)));
    List<String> missed = new ArrayList<>();
    for (int i = 0; i < s.length; i++) {
      if (s[i] != 1f) {
        missed.add(ps.get(i).id() + " " + ps.get(i).solution() + " -> " + s[i]);
      }
    }
    assertTrue(missed.isEmpty(), missed.size() + " of 500 gold answers not matched by themselves: " + missed);
  }

  @Test
  void theDemoModelRunsTheBenchmarkThroughTheCommandLine(@TempDir Path dir) throws Exception {
    Path model = dir.resolve("model");
    try (Models.Loaded m = Models.load(Models.DEMO_SMALL, "main", 1, dir)) {
      Files.createDirectories(model);
      RunFolder.saveFinal(model, m);
    }
    Path out = dir.resolve("eval");
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    PrintStream old = System.out;
    int rc;
    try {
      System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
      rc = new CommandLine(new EvalCommand()).execute("--model", model.toString(), "--benchmark", "math500",
          "--limit", "3", "--out", out.toString(), "--samples", "-1");
    } finally {
      System.setOut(old);
    }
    String log = buf.toString(StandardCharsets.UTF_8);
    assertEquals(0, rc, log);
    // the default 32768 new tokens does not fit the 512-position demo model: it says so and fits the context
    assertTrue(log.contains("max_new_tokens 32768 does not fit max_position_embeddings 512"), log);
    assertTrue(log.contains("math500 pass@1 "), log);
    JsonNode ev = new ObjectMapper().readTree(out.resolve("eval.json").toFile());
    assertEquals(3, ev.get("prompts").asInt());
    assertEquals(1, ev.get("n").asInt());
    assertEquals(32768, ev.get("max_new_tokens").asInt());
    assertEquals(0.6, ev.get("temperature").asDouble());
    assertEquals(0.95, ev.get("top_p").asDouble());
    List<String> rows = Files.readAllLines(out.resolve("eval_samples.jsonl"));
    assertEquals(3, rows.size());
    JsonNode row = new ObjectMapper().readTree(rows.get(0));
    assertEquals("test/precalculus/807.json", row.get("id").asText());
    assertTrue(row.get("prompt").asText().endsWith("within \\boxed{}."));
    // an explicit --max-new-tokens is used as given (no hidden 512 cap either way)
    int rc2 = new CommandLine(new EvalCommand()).execute("--model", model.toString(), "--benchmark", "math500",
        "--limit", "1", "--out", out.toString(), "--max-new-tokens", "5");
    assertEquals(0, rc2);
    assertEquals(5, new ObjectMapper().readTree(out.resolve("eval.json").toFile()).get("max_new_tokens").asInt());
  }

  @Test
  void recipeEvalUsesEvalMaxNewTokensWithoutA512Cap(@TempDir Path dir) throws Exception {
    Path r = dir.resolve("r.yaml");
    Files.writeString(r, "max_completion_length: 2048\n");
    var s = io.r1cluster.core.recipe.Recipe.load(r).settings(io.r1cluster.core.recipe.StageType.GRPO);
    assertEquals(2048, Evaluator.Options.of(s).maxNewTokens());
    Files.writeString(r, "max_completion_length: 2048\neval_max_new_tokens: 32768\n");
    s = io.r1cluster.core.recipe.Recipe.load(r).settings(io.r1cluster.core.recipe.StageType.GRPO);
    assertEquals(32768, Evaluator.Options.of(s).maxNewTokens());
    Files.writeString(r, "eval_max_new_tokens: 0\n");
    var e = assertThrows(io.r1cluster.core.recipe.RecipeException.class, () -> io.r1cluster.core.recipe.Recipe.load(r));
    assertTrue(e.getMessage().contains("eval_max_new_tokens"), e.getMessage());
  }
}
