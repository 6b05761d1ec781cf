package io.r1cluster.core.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.grpo.GrpoConfig;
import io.r1cluster.core.grpo.LossType;
import io.r1cluster.core.grpo.ScaleRewards;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecipeValidationTest {
  @TempDir Path dir;

  private Path write(String yaml) throws IOException {
    Path f = dir.resolve("r.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private RecipeException fails(String yaml) throws IOException {
    return assertThrows(RecipeException.class, () -> Recipe.load(write(yaml)));
  }

  @Test
  void unknownKeyNamesFileLineAndSuggestion() throws IOException {
    RecipeException e = fails("learning_rate: 1.0e-5\nlearning_rat: 2\nnum_train_epoch: 3\nqwerty_zzz: 1\n");
    assertEquals(3, e.errors().size(), e.getMessage());
    RecipeError first = e.errors().get(0);
    assertEquals(2, first.line());
    assertEquals("learning_rat", first.key());
    assertEquals(dir.resolve("r.yaml") + ":2: learning_rat: unknown key (did you mean 'learning_rate'?)",
        first.toString());
    assertTrue(e.errors().get(1).message().contains("did you mean 'num_train_epochs'"));
    assertEquals("unknown key", e.errors().get(2).message());
    assertInstanceOf(InputException.class, e);
    assertEquals(2, e.line());
  }

  @Test
  void wrongTypesAndEnumValues() throws IOException {
    RecipeException e = fails("""
        seed: 42
        per_device_train_batch_size: sixteen
        packing: maybe
        learning_rate: [1, 2]
        lr_scheduler_type: cosin
        loss_type: ppo
        reward_weights: [1.0, x]
        """);
    List<RecipeError> errs = e.errors();
    assertEquals(6, errs.size(), e.getMessage());
    assertEquals(2, errs.get(0).line());
    assertEquals("expected an integer, found 'sixteen'", errs.get(0).message());
    assertEquals(3, errs.get(1).line());
    assertEquals("expected a boolean, found 'maybe'", errs.get(1).message());
    assertEquals(4, errs.get(2).line());
    assertEquals("expected a number, found a list", errs.get(2).message());
    assertEquals(5, errs.get(3).line());
    assertTrue(errs.get(3).message().contains("(did you mean 'cosine'?)"), errs.get(3).message());
    assertEquals(6, errs.get(4).line());
    assertTrue(errs.get(4).message().startsWith("'ppo' is not one of grpo, bnpo, dr_grpo, dapo"));
    assertEquals(7, errs.get(5).line());
  }

  @Test
  void rangeErrorsAndDuplicates() throws IOException {
    RecipeException e = fails("warmup_ratio: 1.5\nseed: 1\nseed: 2\nreward_funcs: [accuracy]\nreward_weights: [1.0, 2.0]\n");
    assertEquals(List.of(1, 3, 5), e.errors().stream().map(RecipeError::line).toList(), e.getMessage());
    assertEquals("duplicate key", e.errors().get(1).message());
  }

  @Test
  void evalSamplingKeys() throws IOException {
    Recipe ok = Recipe.load(write("eval_num_samples: 8\neval_temperature: 0.7\neval_top_p: 0.9\n"));
    assertEquals(8, ok.settings().eval().numSamples());
    assertEquals(0.7, ok.settings().eval().temperature());
    assertEquals(0.9, ok.settings().eval().topP());
    Recipe defaults = Recipe.load(write("seed: 1\n"));
    assertEquals(0.6, defaults.settings().eval().temperature()); // DeepSeek-R1 / open-r1 evaluation
    assertEquals(0.95, defaults.settings().eval().topP());
    RecipeException e = fails("seed: 1\neval_temperature: 0\neval_top_p: 1.5\n");
    assertEquals(List.of(2, 3), e.errors().stream().map(RecipeError::line).toList(), e.getMessage());
    assertEquals("eval_temperature", e.errors().get(0).key());
  }

  @Test
  void yamlSyntaxErrorHasLine() throws IOException {
    RecipeException e = fails("seed: 1\nfoo: [1, 2\nbar: 3\n");
    assertTrue(e.errors().get(0).message().startsWith("invalid YAML"));
    assertTrue(e.line() >= 2);
  }

  @Test
  void ignoredKeysAreReportedOnceInFileOrder() throws IOException {
    Recipe r = Recipe.load(write("push_to_hub: true\nlearning_rate: 1.0e-5\nuse_liger_kernel: true\nreport_to: wandb\n"));
    assertEquals(List.of("push_to_hub", "use_liger_kernel"),
        r.ignoredKeys().stream().map(IgnoredKey::key).toList());
    assertEquals(3, r.ignoredKeys().get(1).line());
    assertEquals(List.of("wandb"), r.settings().values().get("report_to").value());
  }

  @Test
  void grpoVariantsAndScaleRewardsForms() throws IOException {
    Recipe r = Recipe.load(write("""
        reward_funcs: [accuracy, format]
        scale_rewards: batch
        loss_type: dapo
        importance_sampling_level: sequence
        epsilon: 0.2
        epsilon_high: 0.28
        delta: 4
        cluster:
          max_staleness: 2
          transport: udp
          dynamic_sampling: true
        """));
    GrpoSettings g = r.settings().grpo();
    assertEquals(ScaleRewards.BATCH, g.scaleRewards());
    assertEquals(LossType.DAPO, g.lossType());
    assertEquals(GrpoConfig.IsLevel.SEQUENCE, g.importanceSamplingLevel());
    assertEquals(0.28, g.epsilonHigh());
    assertEquals(4.0, g.delta());
    assertTrue(g.dynamicSampling());
    assertEquals(2, r.settings().cluster().maxStaleness());
    assertEquals(Transport.UDP, r.settings().cluster().transport());
    assertEquals(1e-6, r.settings().training().learningRate()); // GRPO default
    GrpoConfig lc = g.toLearnerConfig(r.settings().training(), 4);
    assertEquals(0.28, lc.epsilonHigh());
    assertEquals(4.0, lc.delta());

    assertEquals(ScaleRewards.GROUP, Recipe.load(write("scale_rewards: true\nbeta: 0\n")).settings().grpo().scaleRewards());
    assertEquals(ScaleRewards.NONE, Recipe.load(write("scale_rewards: false\nbeta: 0\n")).settings().grpo().scaleRewards());
  }

  @Test
  void clusterKeysAreCheckedAndConflictsFail() throws IOException {
    RecipeException e = fails("dynamic_sampling: false\ncluster:\n  max_stalenes: 1\n  dynamic_sampling: true\n");
    assertEquals("cluster.max_stalenes", e.errors().get(0).key());
    assertTrue(e.errors().get(0).message().contains("did you mean 'max_staleness'"));
    assertEquals(4, e.errors().get(1).line());
    assertTrue(e.errors().get(1).message().contains("differs from the top-level"));
  }

  @Test
  void pipelineStagesMergeOverridesAndCheckFrom() throws IOException {
    Recipe r = Recipe.load(write("""
        model_name_or_path: demo
        learning_rate: 1.0e-3
        seed: 7
        pipeline:
          - {name: sft, type: sft, max_length: 64}
          - name: rl
            type: grpo
            learning_rate: 1.0e-5
            num_generations: 4
          - {name: mix, type: combined, from: sft, sft_loss_weight: 0.5}
          - {name: student, type: distill, from: ckpt/teacher, teacher_model: ckpt/teacher, temperature: 2.0}
          - {name: test, type: eval}
        """));
    List<Stage> st = r.stages();
    assertEquals(5, st.size());
    assertEquals(new From.Previous(), st.get(0).from());
    assertEquals(64, st.get(0).settings().sft().maxLength());
    assertEquals(1e-3, st.get(0).settings().training().learningRate());
    assertEquals(1e-5, st.get(1).settings().training().learningRate());
    assertEquals(7, st.get(1).settings().training().seed());
    assertEquals(4, st.get(1).settings().grpo().numGenerations());
    assertEquals(new From.Stage("sft"), st.get(2).from());
    assertEquals(0.5, st.get(2).settings().sft().sftLossWeight());
    assertEquals(new From.Checkpoint(Path.of("ckpt/teacher")), st.get(3).from());
    assertEquals(2.0, st.get(3).settings().distill().temperature());
    assertEquals(StageType.EVAL, st.get(4).type());
    assertNull(r.settings().data().mixture());

    RecipeException e = fails("""
        pipeline:
          - {name: a, type: sft, from: b}
          - {name: b, type: grpo, num_generations: 1}
          - {name: b, type: distil}
          - {type: eval, packin: true}
        """);
    List<String> msgs = e.errors().stream().map(RecipeError::toString).toList();
    assertTrue(msgs.get(0).contains(":2: pipeline.a.from: stage 'b' runs later"), msgs.toString());
    assertTrue(msgs.stream().anyMatch(m -> m.contains(":3: num_generations: GRPO needs at least 2")), msgs.toString());
    assertTrue(msgs.stream().anyMatch(m -> m.contains(":4: pipeline.b: duplicate stage name")), msgs.toString());
    assertTrue(msgs.stream().anyMatch(m -> m.contains("pipeline.type: 'distil' is not one of")
        && m.contains("did you mean 'distill'")), msgs.toString());
    assertTrue(msgs.stream().anyMatch(m -> m.contains(":5: pipeline.packin: unknown key (did you mean 'packing'?)")),
        msgs.toString());
    assertTrue(msgs.stream().anyMatch(m -> m.contains("stage 4 needs a 'name'")), msgs.toString());
  }

  @Test
  void datasetMixture() throws IOException {
    Recipe r = Recipe.load(write("""
        dataset_mixture:
          datasets:
            - id: open-r1/Mixture-of-Thoughts
              config: math
              columns: [messages]
              weight: 0.5
            - {id: data/demo, split: train}
          seed: 3
          test_split_size: 0.1
        """));
    DatasetMixture m = r.settings().data().mixture();
    assertEquals(2, m.datasets().size());
    assertEquals(new DatasetMixture.Entry("open-r1/Mixture-of-Thoughts", "math", "train", List.of("messages"), 0.5),
        m.datasets().get(0));
    assertEquals(3, m.seed());
    assertEquals(0.1, m.testSplitSize());

    RecipeException e = fails("dataset_mixture:\n  datasets:\n    - {id: x, weight: 1.5, colums: [a]}\n");
    assertEquals(2, e.errors().size(), e.getMessage());
    assertTrue(e.getMessage().contains("did you mean 'columns'"));
    assertTrue(e.getMessage().contains("weight: a mixture weight is the fraction of rows kept"));
  }

  @Test
  void schedulerKwargsAsJsonText() throws IOException {
    Recipe r = Recipe.load(write("lr_scheduler_type: cosine_with_min_lr\nlr_scheduler_kwargs: '{\"min_lr_rate\": 0.25}'\n"));
    assertEquals(0.25, r.settings().training().minLrRate());
    assertEquals(LrSchedulerType.COSINE_WITH_MIN_LR, r.settings().training().lrSchedulerType());
  }
}
