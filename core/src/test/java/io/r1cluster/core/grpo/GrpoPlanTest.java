package io.r1cluster.core.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.StageType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GrpoPlanTest {
  @TempDir Path dir;

  private RecipeSettings settings(String yaml) throws IOException {
    Path f = dir.resolve("r.yaml");
    Files.writeString(f, "beta: 0\nnum_generations: 4\nper_device_train_batch_size: 16\n" + yaml);
    return Recipe.load(f).settings();
  }

  @Test
  void stepsFollowTransformersTrainerFromEpochsAndStepsPerEpoch() throws IOException {
    // P = 16 / 4 = 4 prompts per step; N = 9 -> E = 3 steps per epoch; 2 epochs -> 6 steps
    // (the actors used to compute ceil(ceil(epochs) * N / P) = ceil(18 / 4) = 5)
    GrpoPlan p = GrpoPlan.of(settings("num_train_epochs: 2\n"), 9, null);
    assertEquals(4, p.promptsPerStep());
    assertEquals(3, p.stepsPerEpoch());
    assertEquals(6, p.totalSteps());
    assertEquals(3, p.epochs(), "6 steps x 4 prompts = 24 draws need 3 permutations of 9");
    // fractional epochs: ceil(1.5 * 3) = 5 steps, 20 draws -> 3 permutations
    GrpoPlan half = GrpoPlan.of(settings("num_train_epochs: 1.5\n"), 9, null);
    assertEquals(5, half.totalSteps());
    assertEquals(3, half.epochs());
    // max_steps wins; the draws decide the epochs
    GrpoPlan fixed = GrpoPlan.of(settings("max_steps: 300\n"), 24000, null);
    assertEquals(300, fixed.totalSteps());
    assertEquals(1, fixed.epochs());
    assertEquals(2, GrpoPlan.of(settings("max_steps: 7\n"), 20, null).epochs(), "28 draws of 20 prompts");
  }

  @Test
  void promptsPerStepWarmupScheduleLearnerAndSampling() throws IOException {
    RecipeSettings s = settings(String.join("\n", "gradient_accumulation_steps: 2", "max_steps: 40",
        "warmup_ratio: 0.1", "learning_rate: 1.0e-4", "lr_scheduler_type: constant_with_warmup", "temperature: 0.7",
        "top_k: 5", "max_completion_length: 32", "num_iterations: 2", "adam_beta2: 0.95", ""));
    GrpoPlan p = GrpoPlan.of(s, 100, null);
    assertEquals(8, p.promptsPerStep(), "16 x 2 / 4");
    assertEquals(4, p.warmupSteps());
    assertEquals(1e-4 / 4, p.schedule(s.training()).lr(1), 1e-4 * 0.01, "warm-up step 1 of 4 (linear from 0)");
    assertEquals(1e-4, p.schedule(s.training()).lr(39), 1e-12, "constant after warm-up");
    assertEquals(2, p.learner().numIterations());
    assertEquals(0.95, p.learner().adamBeta2());
    assertEquals(16, p.learner().microBatch());
    assertEquals(new GrpoPlan.Sampling(4, 512, 32, 0.7, 1.0, 5, 0), p.sampling());
    assertEquals(StageType.GRPO, p.kind());
    assertEquals(3, GrpoPlan.of(settings("cluster:\n  prompts_per_step: 3\nmax_steps: 2\n"), 10, null).promptsPerStep());
    assertEquals(5, GrpoPlan.of(settings("warmup_steps: 5\nmax_steps: 40\n"), 10, null).warmupSteps());
  }

  @Test
  void filterBudgetAndErrors() throws IOException {
    GrpoPlan p = GrpoPlan.of(settings("max_steps: 3\n"), 50, null);
    assertEquals(4 * 9, p.filterBudget(10));
    assertEquals(0, p.filterBudget(1));
    assertEquals(50, p.filterBudget(0), "unlimited: at most one epoch's worth");
    InputException e = assertThrows(InputException.class, () -> GrpoPlan.of(settings("max_steps: 3\n"), 0, null));
    assertTrue(e.getMessage().contains("dataset_name"), e.getMessage());
    InputException e2 = assertThrows(InputException.class, () -> GrpoPlan.of(settings("num_train_epochs: 0\n"), 10, null));
    assertTrue(e2.getMessage().contains("num_train_epochs"), e2.getMessage());
  }
}
