package io.r1cluster.core.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TRL keys that change how generations map to optimizer steps: acted on where they agree with ours, else rejected. */
class GrpoGenerationKeysTest {
  @TempDir Path dir;

  private Recipe load(String yaml) throws IOException {
    Path f = dir.resolve("r.yaml");
    Files.writeString(f, "beta: 0\nnum_generations: 4\nper_device_train_batch_size: 8\n" + yaml);
    return Recipe.load(f);
  }

  private RecipeError fails(String yaml) {
    RecipeException e = assertThrows(RecipeException.class, () -> load(yaml));
    assertEquals(1, e.errors().size(), e.getMessage());
    return e.errors().get(0);
  }

  @Test
  void generationBatchSizeMustBeOneStepsWorth() throws IOException {
    assertEquals(16, load("gradient_accumulation_steps: 2\ngeneration_batch_size: 16\n").settings().grpo().generationBatchSize());
    RecipeError e = fails("generation_batch_size: 32\n");
    assertEquals("generation_batch_size", e.key());
    assertEquals(4, e.line());
    assertTrue(e.message().contains("8 completions (per_device_train_batch_size x gradient_accumulation_steps)"), e.message());
    assertTrue(e.message().contains("set it to 8"), e.message());
    // cluster.prompts_per_step decides the step's batch when set
    load("generation_batch_size: 12\ncluster:\n  prompts_per_step: 3\n");
    assertTrue(fails("generation_batch_size: 8\ncluster:\n  prompts_per_step: 3\n").message()
        .contains("12 completions (cluster.prompts_per_step x num_generations)"));
  }

  @Test
  void stepsPerGenerationOnlyAsGradientAccumulation() throws IOException {
    load("gradient_accumulation_steps: 2\nsteps_per_generation: 2\n");
    RecipeError e = fails("steps_per_generation: 4\n");
    assertEquals("steps_per_generation", e.key());
    assertTrue(e.message().contains("one optimizer step per generation"), e.message());
    assertEquals("generation_batch_size", fails("steps_per_generation: 1\ngeneration_batch_size: 8\n").key());
  }

  @Test
  void topEntropyQuantileIsAFraction() throws IOException {
    assertEquals(0.2, load("top_entropy_quantile: 0.2\n").settings().grpo().topEntropyQuantile());
    assertEquals(1.0, load("").settings().grpo().topEntropyQuantile());
    assertEquals(0.2, load("top_entropy_quantile: 0.2\n").settings().grpo()
        .toLearnerConfig(load("").settings().training(), 4).topEntropyQuantile());
    assertEquals("top_entropy_quantile", fails("top_entropy_quantile: 0\n").key());
    assertEquals("top_entropy_quantile", fails("top_entropy_quantile: 1.5\n").key());
  }

  @Test
  void adamKeysReachTheLearnerConfig() throws IOException {
    var s = load("adam_beta1: 0.8\nadam_beta2: 0.95\nadam_epsilon: 1.0e-6\n").settings();
    var c = s.grpo().toLearnerConfig(s.training(), 4);
    assertEquals(0.8, c.adamBeta1());
    assertEquals(0.95, c.adamBeta2());
    assertEquals(1e-6, c.adamEpsilon());
  }
}
