package io.r1cluster.core.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class RewardFunctionsTest {
  static final String GOOD = "<think>\nFirst, 2+3=5.\n</think>\n<answer>\n5\n</answer>";

  static RewardInput in(List<String> completions, String solution) {
    Object[] sol = new Object[completions.size()];
    Arrays.fill(sol, solution);
    return new RewardInput(completions, null, Map.of("solution", Arrays.asList(sol)));
  }

  static float one(String name, String completion, String solution) {
    return RewardRegistry.create(List.of(name), Map.of()).get(0).score(in(List.of(completion), solution))[0];
  }

  @Test
  void format() {
    assertEquals(1f, one("format", GOOD, null));
    assertEquals(0f, one("format", "<think>x</think><answer>5</answer>", null));
    assertEquals(0f, one("format", "junk " + GOOD, null));
    assertEquals(1f, one("format", "<think>\na\nb\n</think>\n<answer>\n5\n</answer>", null));
  }

  @Test
  void tagCount() {
    assertEquals(1f, one("tag_count", GOOD, null));
    assertEquals(0.5f, one("tag_count", "<think>\nx\n</think>\n", null));
    assertEquals(0.75f, one("tag_count", "<think>\nx\n</think>\n<think>\n\n<answer>\n5\n</answer>", null));
    assertEquals(0f, one("tag_count", "nothing", null));
  }

  @Test
  void reasoningSteps() {
    assertEquals(1f / 3, one("reasoning_steps", "First, a.", null), 1e-6);
    assertEquals(2f / 3, one("reasoning_steps", "First, a. Next, b.", null), 1e-6);
    assertEquals(1f, one("reasoning_steps", "Step 1: a\nStep 2: b\nStep 3: c\nFinally, d", null));
    assertEquals(2f / 3, one("reasoning_steps", "1. a\n2. b", null), 1e-6);
  }

  @Test
  void accuracy() {
    assertEquals(1f, one("accuracy", GOOD, "5"));
    assertEquals(0f, one("accuracy", GOOD, "6"));
    assertEquals(1f, one("accuracy", "so \\boxed{\\frac{1}{2}}", "$0.5$"));
    assertTrue(Float.isNaN(one("accuracy", GOOD, "")), "unparseable gold → no score, never 1.0");
  }

  @Test
  void lengthKimi() {
    // lengths 10, 20, 30 characters; rows 0 and 2 correct
    String a = "\\boxed{5}x"; // 10
    String b = "\\boxed{6}" + "y".repeat(11); // 20
    String c = "\\boxed{5}" + "z".repeat(21); // 30
    float[] s = RewardRegistry.create(List.of("length"), Map.of()).get(0).score(in(List.of(a, b, c), "5"));
    // λ = 0.5 − (len − 10)/20 → 0.5, 0.0, −0.5 ; wrong row: min(0, 0.0) = 0
    assertArrayEquals(new float[] {0.5f, 0f, -0.5f}, s, 1e-6f);
    float[] same = RewardRegistry.create(List.of("length"), Map.of()).get(0).score(in(List.of(a, a), "5"));
    assertArrayEquals(new float[] {0, 0}, same);
  }

  @Test
  void cosine() {
    RewardFunction f = RewardRegistry.create(List.of("cosine"), Map.of("cosine_max_len", 100)).get(0);
    String correct = "\\boxed{5}" + "x".repeat(41); // 50 chars → cos(π/2) = 0
    String wrong = "\\boxed{6}" + "x".repeat(41);
    float[] s = f.score(in(List.of(correct, wrong, "\\boxed{5}"), "5"));
    assertEquals(0.5 + 0.5 * 0.5, s[0], 1e-6); // 0.75
    assertEquals(-0.5 + 0.5 * (-1.0 + 0.5) * 1.0, s[1], 1e-6); // -0.75
    double cos9 = Math.cos(Math.PI * 9 / 100.0);
    assertEquals(0.5 + 0.25 * (1 + cos9), s[2], 1e-6);
    float unparseable = f.score(in(List.of(correct), ""))[0];
    assertEquals(1f, unparseable);
  }

  @Test
  void repetitionPenalty() {
    // "a b a b a b" 3-grams: (a b a) (b a b) (a b a) (b a b) → 2 unique / 4 → (1 − 0.5)·(−1) = −0.5
    assertEquals(-0.5f, one("repetition_penalty", "a b a b a b", null), 1e-6);
    assertEquals(0f, one("repetition_penalty", "", null));
    assertEquals(0f, one("repetition_penalty", "too short", null));
    assertEquals(0f, one("repetition_penalty", "all different words here", null));
    InputException e = assertThrows(InputException.class,
        () -> RewardRegistry.create(List.of("repetition_penalty"), Map.of("repetition_max_penalty", 0.5)));
    assertTrue(e.getMessage().contains("must not be positive"), e.getMessage());
  }

  @Test
  void softOverlong() {
    RewardFunction f = RewardRegistry.create(List.of("soft_overlong_punishment"),
        Map.of("max_completion_len", 10, "soft_punish_cache", 4)).get(0);
    RewardInput in = new RewardInput(List.of("a", "b", "c", "d"),
        List.of(new int[6], new int[8], new int[10], new int[11]), Map.of());
    // L_max − L_c = 6: 6 → 0; 8 → (6 − 8)/4 = −0.5; 10 → −1; 11 → −1
    assertArrayEquals(new float[] {0f, -0.5f, -1f, -1f}, f.score(in), 1e-6f);
  }

  @Test
  void unknownNameFailsUpFront() {
    InputException e = assertThrows(InputException.class, () -> RewardRegistry.create(List.of("acuracy"), Map.of()));
    assertTrue(e.getMessage().contains("reward_funcs") && e.getMessage().contains("acuracy"), e.getMessage());
  }

  @Test
  void scorerSurvivesThrowingFunctionAndWeights() {
    RewardFunction boom = new AccuracyRewards.Named("boom", x -> {
      throw new IllegalStateException("kaput");
    });
    RewardScorer s = new RewardScorer(List.of(FormatRewards.format(), boom, FormatRewards.tagCount()), List.of(2.0, 1.0, 0.5));
    float[][] m = s.scoreMatrix(in(List.of(GOOD, "x"), "5"));
    assertEquals(1f, m[0][0]);
    assertTrue(Float.isNaN(m[0][1]) && Float.isNaN(m[1][1]));
    float[] t = s.totals(m);
    assertArrayEquals(new float[] {2f + 0.5f, 0f}, t, 1e-6f);
    assertEquals(1, s.errors());
    RewardScorer only = new RewardScorer(List.of(boom), List.of());
    assertTrue(Float.isNaN(only.totals(only.scoreMatrix(in(List.of("x"), "5")))[0]), "all-null row → NaN total");
  }

  @Test
  void scoresAGroup() {
    Prompt p = Prompt.ofProblem("p1", "2+3?", "5");
    Completion c1 = new Completion(new int[] {1}, new float[] {-0.1f}, GOOD, FinishReason.STOP, 3);
    Completion c2 = new Completion(new int[] {2}, new float[] {-0.2f}, "<answer>\n6\n</answer>", FinishReason.STOP, 3);
    RewardScorer s = new RewardScorer(RewardRegistry.create(List.of("accuracy", "format"), Map.of()), List.of(1.0, 0.5));
    ScoredGroup g = s.score(new Group(p, new int[] {9}, List.of(c1, c2), 3));
    assertEquals(List.of("accuracy", "format"), g.rewardNames());
    assertArrayEquals(new float[] {1.5f, 0f}, g.total(), 1e-6f);
  }
}
