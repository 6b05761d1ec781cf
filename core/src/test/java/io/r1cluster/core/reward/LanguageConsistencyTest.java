package io.r1cluster.core.reward;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeException;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.StageType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DeepSeek-R1's language-consistency reward: the share of the reasoning's words in the target language. */
class LanguageConsistencyTest {
  static float[] score(String language, String... completions) {
    return RewardRegistry.create(List.of("language_consistency"), Map.of("language", language)).get(0)
        .score(new RewardInput(List.of(completions), null, Map.of()));
  }

  @Test
  void shareOfWordsInTheTargetLanguage() {
    // 8 English words, then 4 Chinese characters (each a word): 8/12 for en, 4/12 for zh
    String mixed = "<think>\nFirst add the two numbers then check it. 然后验证\n</think>\n<answer>\n5\n</answer>";
    assertArrayEquals(new float[] {8f / 12}, score("en", mixed), 1e-6f);
    assertArrayEquals(new float[] {4f / 12}, score("zh", mixed), 1e-6f);
    assertArrayEquals(new float[] {1f, 0f}, score("zh", "<think>我们先计算两数之和</think>", "<think>We add them</think>"), 1e-6f);
    assertArrayEquals(new float[] {1f}, score("en", "<think>We add them</think> 答案是五"), 1e-6f, "only the reasoning counts");
  }

  @Test
  void mathCodeAndVariablesAreNotWords() {
    // "设", "则", "所以", "等于": 6 Han characters; x, y, $…$, \frac, digits and code are not words
    String zh = "<think>设 x = 2, y = 3, 则 $x + y = \\frac{10}{2}$ \\quad 所以等于 5\n```python\nprint(x + y)\n```\n</think>";
    assertArrayEquals(new float[] {1f}, score("zh", zh), 1e-6f);
    assertArrayEquals(new float[] {0f}, score("en", zh), 1e-6f);
    // "a" and "I" are English words, not variables
    assertArrayEquals(new float[] {1f}, score("en", "<think>I need a plan</think>"), 1e-6f);
    assertArrayEquals(new float[] {0.75f}, score("en", "<think>I need a 计</think>"), 1e-6f);
  }

  @Test
  void otherScriptsAndRowLanguage() {
    assertArrayEquals(new float[] {0.5f}, score("ru", "<think>Сначала сложим, then check</think>"), 1e-6f);
    assertArrayEquals(new float[] {1f}, score("ja", "<think>まず二つの数を足します</think>"), 1e-6f);
    assertArrayEquals(new float[] {1f}, score("zh-CN", "<think>先相加</think>"), 1e-6f);
    assertArrayEquals(new float[] {0f, 0f}, score("en", "<think></think>", "$x=1$"), 1e-6f, "no words, no reward");
    // a dataset column 'language' overrides the recipe's, per row; an unknown one gets no score
    RewardFunction f = RewardRegistry.create(List.of("language_consistency"), Map.of()).get(0);
    float[] s = f.score(new RewardInput(List.of("<think>先相加 then check</think>", "<think>先相加 then check</think>",
        "<think>x</think>"), null, Map.of("language", java.util.Arrays.asList("zh", null, "klingon"))));
    assertEquals(3f / 5, s[0], 1e-6f);
    assertEquals(2f / 5, s[1], 1e-6f, "default en");
    assertTrue(Float.isNaN(s[2]));
    InputException e = assertThrows(InputException.class,
        () -> RewardRegistry.create(List.of("language_consistency"), Map.of("language", "xx")));
    assertTrue(e.getMessage().contains("language 'xx'") && e.getMessage().contains("zh"), e.getMessage());
  }

  @Test
  void inARecipeWithWeightsAndValidatedNames(@TempDir Path dir) throws Exception {
    Path ok = Files.writeString(dir.resolve("ok.yaml"),
        "reward_funcs: [accuracy, format, language_consistency]\nreward_weights: [1.0, 1.0, 0.1]\nlanguage: zh\n");
    RecipeSettings s = Recipe.load(ok).settings(StageType.GRPO);
    List<RewardFunction> fs = RewardRegistry.create(s.grpo().rewardFuncs(), s.grpo().rewardKwargs());
    RewardScorer scorer = new RewardScorer(fs, s.grpo().rewardWeights());
    String c = "<think>\n二加三得五\n</think>\n<answer>\n5\n</answer>";
    float[][] m = scorer.scoreMatrix(new RewardInput(List.of(c), null, Map.of("solution", List.of("5"))));
    assertArrayEquals(new float[] {1f, 1f, 1f}, m[0], 1e-6f);
    assertEquals(2.1f, scorer.totals(m)[0], 1e-6f);

    RecipeException typo = assertThrows(RecipeException.class, () -> Recipe.load(Files.writeString(dir.resolve("t.yaml"),
        "seed: 1\nreward_funcs: [accuracy, language_consistancy]\n")));
    assertTrue(typo.getMessage().contains(":2") && typo.getMessage().contains("did you mean 'language_consistency'"),
        typo.getMessage());
    RecipeException ioi = assertThrows(RecipeException.class, () -> Recipe.load(Files.writeString(dir.resolve("i.yaml"),
        "reward_funcs: [ioi_code]\n")));
    assertTrue(ioi.getMessage().contains("'ioi_code' is not implemented"), ioi.getMessage());
    RecipeException lang = assertThrows(RecipeException.class, () -> Recipe.load(Files.writeString(dir.resolve("l.yaml"),
        "reward_funcs: [language_consistency]\nlanguage: klingon\n")));
    assertTrue(lang.getMessage().contains(":2") && lang.getMessage().contains("language 'klingon'"), lang.getMessage());
  }
}
