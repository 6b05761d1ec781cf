package io.r1cluster.core.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.grpo.LossType;
import io.r1cluster.core.grpo.ScaleRewards;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Assertions;

/** The recipes shipped in {@code recipes/} (open-r1's unchanged, and ours) all validate. */
class ShippedRecipesTest {
  static final Path RECIPES = Path.of("..", "recipes");
  static final Path CODEFORCES = Path.of("Qwen2.5-Coder-7B-Instruct/grpo/config_codeforces.yaml");

  private static List<String> ignored(Recipe r) {
    return r.ignoredKeys().stream().map(IgnoredKey::key).toList();
  }

  @Test
  void everyRecipeUnderRecipesValidates() throws IOException {
    List<Path> files;
    try (Stream<Path> s = Files.walk(RECIPES)) {
      files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
    assertTrue(files.size() >= 5, "found " + files);
    for (Path f : files) {
      if (f.endsWith(CODEFORCES)) {
        continue; // asks for open-r1's cf_code, which this build does not implement: see openR1CodeGrpoRecipes
      }
      Recipe.load(f); // throws RecipeException with file:line on any problem
    }
  }

  @Test
  void openR1DistillSft() {
    Recipe r = Recipe.load(RECIPES.resolve("OpenR1-Distill-7B/sft/config_distill.yaml"));
    RecipeSettings s = r.settings();
    assertEquals(StageType.SFT, s.kind());
    assertEquals("open-r1/Qwen2.5-Math-7B-RoPE-300k", s.model().modelNameOrPath());
    assertEquals("all", s.data().datasetConfig());
    assertEquals(4.0e-5, s.training().learningRate());
    assertEquals(LrSchedulerType.COSINE_WITH_MIN_LR, s.training().lrSchedulerType());
    assertEquals(0.1, s.training().minLrRate());
    assertEquals(32768, s.sft().maxLength());
    assertEquals(8, s.training().gradientAccumulationSteps());
    assertEquals(0.2, s.training().maxGradNorm());
    assertEquals(5.0, s.training().numTrainEpochs());
    assertEquals(IntervalStrategy.EPOCH, s.training().saveStrategy());
    assertEquals(IntervalStrategy.NO, s.training().evalStrategy());
    assertTrue(s.model().chatTemplate().startsWith("{%- if tools %}"));
    assertEquals("<|im_end|>", s.model().eosToken());
    List<String> ign = ignored(r);
    assertTrue(ign.containsAll(List.of("push_to_hub", "use_liger_kernel", "hub_model_id",
        "gradient_checkpointing", "dataset_num_proc")), ign.toString());
    assertFalse(ign.contains("bf16"), "bf16: true trains with bf16 compute");
    assertTrue(s.model().bf16());
    assertFalse(ign.contains("learning_rate"));
    assertFalse(ign.contains("report_to"), "report_to is acted on (TensorBoard files)");
  }

  @Test
  void openR1GrpoDemo() {
    Recipe r = Recipe.load(RECIPES.resolve("Qwen2.5-1.5B-Instruct/grpo/config_demo.yaml"));
    RecipeSettings s = r.settings();
    assertEquals(StageType.GRPO, s.kind());
    assertEquals(16, s.grpo().numGenerations());
    assertEquals(List.of("accuracy", "format", "tag_count"), s.grpo().rewardFuncs());
    assertEquals(List.of(1.0, 1.0, 1.0), s.grpo().rewardWeights());
    assertEquals(1024, s.grpo().maxCompletionLength());
    assertEquals(LossType.BNPO, s.grpo().lossType()); // TRL 0.18 default
    assertEquals(0.04, s.grpo().beta());
    assertEquals("problem", s.data().promptColumn());
    assertTrue(ignored(r).contains("use_vllm"));
  }

  @Test
  void openR1CodeGrpoRecipes() {
    Recipe code = Recipe.load(RECIPES.resolve("Qwen2.5-1.5B-Instruct/grpo/config_demo_code.yaml"));
    assertEquals(List.of("code", "format"), code.settings().grpo().rewardFuncs());
    assertEquals(50.0, code.settings().training().saveSteps());
    assertEquals(0.01, code.settings().grpo().beta());

    // open-r1's Codeforces recipe: its cf_code reward needs a judge this build does not have, an
    // error at validation that names the line
    RecipeException e = Assertions.assertThrows(RecipeException.class,
        () -> Recipe.load(RECIPES.resolve(CODEFORCES)));
    assertTrue(e.getMessage().contains("config_codeforces.yaml:6") && e.getMessage().contains("reward_funcs")
        && e.getMessage().contains("'cf_code' is not implemented"), e.getMessage());
    Recipe cf = Recipe.load(RECIPES.resolve(CODEFORCES), RecipeOverride.parse(List.of("--reward_funcs", "[code, code_format]")));
    GrpoSettings g = cf.settings().grpo();
    assertEquals(LossType.DR_GRPO, g.lossType());
    assertEquals(ScaleRewards.NONE, g.scaleRewards()); // scale_rewards: false
    assertTrue(g.maskTruncatedCompletions());
    assertEquals(0.05, cf.settings().training().saveSteps());
    assertEquals("verifiable-prompts", cf.settings().data().datasetConfig());
    assertTrue(ignored(cf).containsAll(List.of("vllm_device", "callbacks", "benchmarks", "wandb_entity")));
  }

  @Test
  void r1OfficialDemoHasSeed002sStagesInOrder() {
    Recipe r = Recipe.load(RECIPES.resolve("demo/r1-official.yaml"));
    assertEquals(List.of(StageType.GRPO, StageType.SFT, StageType.GRPO, StageType.GENERATE, StageType.SFT,
        StageType.DISTILL, StageType.EVAL), r.stages().stream().map(Stage::type).toList());
    Stage gen = r.stages().get(3);
    assertEquals(List.of("accuracy", "format"), gen.settings().grpo().rewardFuncs());
    assertEquals(4, gen.settings().grpo().numGenerations());
    assertEquals(1000, gen.settings().distill().maxPrompts());
    assertEquals("generate", r.stages().get(4).fromDataset());
    Stage distill = r.stages().get(5);
    assertEquals("generate", distill.fromDataset());
    assertTrue(distill.sets("model_name_or_path"));
    assertEquals("demo-small", distill.settings().model().modelNameOrPath());
    assertEquals(0.5, distill.settings().distill().alpha());
    assertEquals(2.0, distill.settings().distill().temperature());
    assertEquals(List.of("format", "tag_count"), r.stages().get(0).settings().grpo().rewardFuncs());
  }
}
