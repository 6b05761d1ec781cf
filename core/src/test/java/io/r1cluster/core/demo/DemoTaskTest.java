package io.r1cluster.core.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DemoTaskTest {
  /** open-r1's format reward pattern (re.DOTALL | re.MULTILINE, fullmatch). */
  static final Pattern FORMAT = Pattern.compile("^<think>\\n.*?\\n</think>\\n<answer>\\n.*?\\n</answer>$",
      Pattern.DOTALL | Pattern.MULTILINE);

  private static DemoProblem p(DemoTask t, int a, int b, int c, String answer) {
    return new DemoProblem("x", t, a, b, c, "q", answer);
  }

  @Test
  void tracesAreComputedLeftToRight() {
    Teacher exact = new Teacher(0);
    Random r = new Random(1);
    assertEquals("7+8=15, carry 1. 4+3+1=8. So 85.", exact.solve(p(DemoTask.ADD, 47, 38, 0, "85"), r).thinking());
    assertEquals("9+8=17, carry 1. 9+1=10. So 107.", exact.solve(p(DemoTask.ADD, 99, 8, 0, "107"), r).thinking());
    assertEquals("12-7=5, borrow 1. 5-1-1=3. So 35.", exact.solve(p(DemoTask.SUB, 52, 17, 0, "35"), r).thinking());
    assertEquals("7*6=42, carry 4. 4*6+4=28. So 282.", exact.solve(p(DemoTask.MUL, 47, 6, 0, "282"), r).thinking());
    assertEquals("2x = 7-3 = 4. x = 4/2 = 2.", exact.solve(p(DemoTask.LINEAR, 2, 3, 7, "2"), r).thinking());
    assertEquals("3x = 10+5 = 15. x = 15/3 = 5.", exact.solve(p(DemoTask.LINEAR, 3, -5, 10, "5"), r).thinking());
    Trace t = exact.solve(p(DemoTask.ADD, 47, 38, 0, "85"), r);
    assertEquals("<think>\n7+8=15, carry 1. 4+3+1=8. So 85.\n</think>\n<answer>\n85\n</answer>", t.completion());
    assertTrue(t.correct());
  }

  @Test
  void everyGeneratedTraceIsRightWithoutSlipsAndMatchesTheFormat() {
    List<DemoProblem> ps = DemoGenerator.defaults().generate(5, List.of("train"), 3000).get(0);
    Teacher exact = new Teacher(0);
    Random r = new Random(2);
    int maxThink = 0;
    for (DemoProblem p : ps) {
      Trace t = exact.solve(p, r);
      assertTrue(t.correct(), p + " -> " + t);
      assertTrue(FORMAT.matcher(t.completion()).matches(), t.completion());
      maxThink = Math.max(maxThink, t.thinking().length());
    }
    assertTrue(maxThink <= 80, "longest thinking " + maxThink);
  }

  @Test
  void hardStepsAreTakenCarriesPaidBackBorrowsAndMovedTerms() {
    assertEquals(0, Teacher.hardSteps(p(DemoTask.ADD, 12, 13, 0, "25")));
    assertEquals(1, Teacher.hardSteps(p(DemoTask.ADD, 47, 38, 0, "85"))); // the tens take the carry
    assertEquals(1, Teacher.hardSteps(p(DemoTask.ADD, 99, 8, 0, "107")));
    assertEquals(0, Teacher.hardSteps(p(DemoTask.ADD, 50, 60, 0, "110"))); // the last column gives one, nothing takes it
    assertEquals(2, Teacher.hardSteps(p(DemoTask.ADD, 199, 1, 0, "200")));
    assertEquals(0, Teacher.hardSteps(p(DemoTask.SUB, 58, 17, 0, "41")));
    assertEquals(1, Teacher.hardSteps(p(DemoTask.SUB, 52, 17, 0, "35"))); // the tens pay the borrow back
    assertEquals(0, Teacher.hardSteps(p(DemoTask.MUL, 12, 3, 0, "36")));
    assertEquals(1, Teacher.hardSteps(p(DemoTask.MUL, 47, 6, 0, "282")));
    assertEquals(1, Teacher.hardSteps(p(DemoTask.LINEAR, 2, 3, 7, "2")));
    // keeping -5's sign gives 3x = 15: not a whole x, so the teacher does not slip there
    assertEquals(0, Teacher.hardSteps(p(DemoTask.LINEAR, 3, -5, 10, "5")));
  }

  @Test
  void theSlipIsAForgottenCarryOrBorrowOrAKeptSignWithRightArithmetic() {
    Teacher always = new Teacher(1.0);
    Random r = new Random(1);
    assertEquals("7+8=15, carry 1. 4+3=7. So 75.", always.solve(p(DemoTask.ADD, 47, 38, 0, "85"), r).thinking());
    assertEquals("12-7=5, borrow 1. 5-1=4. So 45.", always.solve(p(DemoTask.SUB, 52, 17, 0, "35"), r).thinking());
    assertEquals("7*6=42, carry 4. 4*6=24. So 242.", always.solve(p(DemoTask.MUL, 47, 6, 0, "282"), r).thinking());
    assertEquals("2x = 7+3 = 10. x = 10/2 = 5.", always.solve(p(DemoTask.LINEAR, 2, 3, 7, "2"), r).thinking());
    assertEquals("3x = 10+5 = 15. x = 15/3 = 5.", always.solve(p(DemoTask.LINEAR, 3, -5, 10, "5"), r).thinking());
  }

  @Test
  void slipsHappenOnlyAtHardStepsAtTheSetRateAndAreWrong() {
    List<DemoProblem> ps = DemoGenerator.defaults().generate(9, List.of("train"), 4000).get(0);
    Teacher t = new Teacher(0.3);
    Random r = new Random(3);
    int wrong = 0;
    double expected = 0;
    double variance = 0;
    int easy = 0;
    for (DemoProblem p : ps) {
      Trace tr = t.solve(p, r);
      assertTrue(FORMAT.matcher(tr.completion()).matches());
      double q = t.wrongProbability(p);
      expected += q;
      variance += q * (1 - q);
      if (Teacher.hardSteps(p) == 0) {
        easy++;
        assertTrue(tr.correct(), "no hard step, no slip: " + p + " -> " + tr);
      }
      if (!tr.correct()) {
        wrong++;
        assertNotEquals(p.answer(), tr.answer());
        assertTrue(tr.thinking().endsWith(tr.answer() + "."), tr.thinking());
      }
    }
    assertTrue(easy > 500 && easy < 3000, "easy problems: " + easy);
    // a sum of independent Bernoulli(q_i) draws: within 4 standard deviations of its mean
    assertEquals(expected, wrong, 4 * Math.sqrt(variance), "wrong traces");
    // slips are concentrated on the hard problems: fewer wrong traces than problems x rate
    assertTrue(wrong < 0.3 * ps.size(), "wrong " + wrong);
    Random r2 = new Random(4);
    Teacher always = new Teacher(1.0);
    assertTrue(ps.stream().allMatch(p -> always.solve(p, r2).correct() == (Teacher.hardSteps(p) == 0)));
  }

  @Test
  void generatorIsSeededAndSplitsAreDisjoint() {
    DemoGenerator g = DemoGenerator.defaults();
    List<List<DemoProblem>> a = g.generate(7, List.of("train", "test"), 500, 100);
    List<List<DemoProblem>> b = g.generate(7, List.of("train", "test"), 500, 100);
    assertEquals(a, b);
    assertNotEquals(a, g.generate(8, List.of("train", "test"), 500, 100));
    Set<String> train = new HashSet<>();
    a.get(0).forEach(p -> train.add(p.problem()));
    assertEquals(500, train.size());
    assertTrue(a.get(1).stream().noneMatch(p -> train.contains(p.problem())));
    for (DemoProblem p : a.get(0)) {
      long ans = Long.parseLong(p.answer());
      switch (p.task()) {
        case ADD -> assertEquals(p.a() + p.b(), ans);
        case SUB -> assertEquals(p.a() - p.b(), ans);
        case MUL -> assertEquals(p.a() * p.b(), ans);
        case LINEAR -> assertEquals(p.c(), p.a() * ans + p.b());
      }
    }
  }

  @Test
  void datasetFilesAreDeterministicAndWellFormed(@TempDir Path dir) throws IOException {
    DemoDataset.Options o = new DemoDataset.Options(300, 50, 11, 0.3, 2, List.of(DemoTask.values()));
    DemoDataset.Summary s = DemoDataset.write(dir.resolve("a"), o);
    DemoDataset.write(dir.resolve("b"), o);
    assertArrayEquals(Files.readAllBytes(s.train()), Files.readAllBytes(dir.resolve("b/train.jsonl")));
    assertArrayEquals(Files.readAllBytes(s.test()), Files.readAllBytes(dir.resolve("b/test.jsonl")));
    List<String> lines = Files.readAllLines(s.train());
    assertEquals(300, lines.size());
    assertEquals(50, Files.readAllLines(s.test()).size());
    ObjectMapper json = new ObjectMapper();
    int correct = 0;
    for (String line : lines) {
      JsonNode row = json.readTree(line);
      String completion = row.get("completion").get(0).get("content").asText();
      assertEquals(completion, row.get("messages").get(1).get("content").asText());
      assertEquals(row.get("problem").asText(), row.get("prompt").get(0).get("content").asText());
      boolean right = completion.contains("<answer>\n" + row.get("solution").asText() + "\n</answer>");
      assertEquals(row.get("teacher_correct").asBoolean(), right);
      correct += right ? 1 : 0;
    }
    assertEquals(correct / 300.0, s.teacherAccuracy(), 1e-12);
    JsonNode info = json.readTree(dir.resolve("a/dataset_info.json").toFile());
    assertEquals(300, info.get("splits").get("train").get("num_examples").asInt());
    assertFalse(json.readTree(Files.readAllLines(s.test()).get(0)).has("completion"));
  }

  @Test
  void theHeldOutSplitHasEveryTaskInItsShareAndNoTrainingProblem(@TempDir Path dir) throws IOException {
    // 24,000 training rows exhaust the 800 distinct 2-digit x 1-digit problems; the test split must
    // still be a quarter multiplication, and training rows repeat problems rather than lose the task
    DemoDataset.Summary s = DemoDataset.write(dir, new DemoDataset.Options(24000, 400, 42, 0.3, 2,
        List.of(DemoTask.values())));
    ObjectMapper json = new ObjectMapper();
    java.util.Map<String, Integer> test = new java.util.HashMap<>();
    Set<String> held = new HashSet<>();
    for (String line : Files.readAllLines(s.test())) {
      JsonNode row = json.readTree(line);
      test.merge(row.get("task").asText(), 1, Integer::sum);
      assertTrue(held.add(row.get("problem").asText()), "distinct test problems");
    }
    java.util.Map<String, Integer> train = new java.util.HashMap<>();
    for (String line : Files.readAllLines(s.train())) {
      JsonNode row = json.readTree(line);
      train.merge(row.get("task").asText(), 1, Integer::sum);
      assertFalse(held.contains(row.get("problem").asText()), "a test problem in train: " + row);
    }
    for (DemoTask t : DemoTask.values()) {
      String k = t.name().toLowerCase(java.util.Locale.ROOT);
      assertEquals(100, test.getOrDefault(k, 0), 30, "test rows of " + k + ": " + test);
      assertEquals(6000, train.getOrDefault(k, 0), 300, "train rows of " + k + ": " + train);
    }
  }
}
