package io.r1cluster.core.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.r1cluster.core.grpo.GrpoConfig;
import io.r1cluster.core.grpo.LossType;
import io.r1cluster.core.grpo.ScaleRewards;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a recipe gets for every key it leaves out, per stage type: the values as released (a recipe
 * must train the same after the defaults moved into one table), and that they are the table's
 * ({@link RecipeKeys#defaultFor}), so there is one place that says them.
 */
class RecipeDefaultsTest {
  @TempDir Path dir;

  RecipeSettings empty(StageType kind) throws Exception {
    Path f = dir.resolve(kind.name().toLowerCase() + ".yaml");
    Files.writeString(f, "model_name_or_path: demo\ndataset_name: demo-data\n");
    return Recipe.load(f).settings(kind);
  }

  @Test
  void theReleasedDefaults() throws Exception {
    RecipeSettings s = empty(StageType.GRPO);
    TrainingSettings t = s.training();
    assertEquals("trainer_output", t.outputDir());
    assertEquals(false, t.overwriteOutputDir());
    assertEquals(1e-6, t.learningRate());
    assertEquals(LrSchedulerType.LINEAR, t.lrSchedulerType());
    assertEquals(0.0, t.warmupRatio());
    assertEquals(0, t.warmupSteps());
    assertEquals(3.0, t.numTrainEpochs());
    assertEquals(-1, t.maxSteps());
    assertEquals(8, t.perDeviceTrainBatchSize());
    assertEquals(1, t.gradientAccumulationSteps());
    assertEquals(1.0, t.maxGradNorm());
    assertEquals(0.0, t.weightDecay());
    assertEquals(0.9, t.adamBeta1());
    assertEquals(0.999, t.adamBeta2());
    assertEquals(1e-8, t.adamEpsilon());
    assertEquals(42, t.seed());
    assertEquals(IntervalStrategy.STEPS, t.loggingStrategy());
    assertEquals(500.0, t.loggingSteps());
    assertEquals(false, t.loggingFirstStep());
    assertEquals(IntervalStrategy.STEPS, t.saveStrategy());
    assertEquals(500.0, t.saveSteps());
    assertEquals(0, t.saveTotalLimit());
    assertEquals(IntervalStrategy.NO, t.evalStrategy());
    assertNull(t.evalSteps());
    assertNull(t.resumeFromCheckpoint());

    ModelSettings m = s.model();
    assertEquals("main", m.modelRevision());
    assertNull(m.torchDtype());
    assertEquals(false, m.useCpu());
    assertEquals(false, m.bf16());
    DataSettings d = s.data();
    assertEquals("train", d.trainSplit());
    assertEquals("test", d.testSplit());
    assertEquals("prompt", d.promptColumn());
    assertEquals(false, d.skipBadRows());

    SftSettings sft = s.sft();
    assertEquals(1024, sft.maxLength());
    assertEquals(false, sft.packing());
    assertEquals("text", sft.datasetTextField());
    assertEquals(0.1, sft.sftLossWeight());

    ClusterSettings c = s.cluster();
    assertEquals(1, c.maxStaleness());
    assertNull(c.promptsPerStep());
    assertEquals(1, c.rolloutSlots());
    assertEquals(1, c.weightSyncSteps());
    assertEquals(false, c.dynamicSampling());
    assertEquals(10, c.maxNumGenBatches());
    assertEquals(2.0, c.offPolicyIsCap());
    assertEquals(Transport.IPC, c.transport());

    GrpoSettings g = s.grpo();
    assertEquals(8, g.numGenerations());
    assertEquals(512, g.maxPromptLength());
    assertEquals(256, g.maxCompletionLength());
    assertEquals(1.0, g.temperature());
    assertEquals(1.0, g.topP());
    assertEquals(0.04, g.beta());
    assertEquals(1, g.numIterations());
    assertEquals(0.2, g.epsilon());
    assertEquals(0.2, g.epsilonHigh());
    assertEquals(ScaleRewards.GROUP, g.scaleRewards());
    assertEquals(LossType.BNPO, g.lossType());
    assertEquals(GrpoConfig.IsLevel.TOKEN, g.importanceSamplingLevel());
    assertEquals(false, g.maskTruncatedCompletions());
    assertEquals(false, g.syncRefModel());
    assertEquals(0.6, g.refModelMixupAlpha());
    assertEquals(512, g.refModelSyncSteps());
    assertEquals(List.of("accuracy", "format", "tag_count"), g.rewardFuncs());
    assertEquals(true, g.shuffleDataset());
    assertEquals(false, g.logCompletions());
    assertEquals(1.0, g.topEntropyQuantile());

    DistillSettings ds = s.distill();
    assertEquals(0.5, ds.alpha());
    assertEquals(1.0, ds.temperature());
    assertEquals("OPENAI_API_KEY", ds.teacherApiKeyEnv());
    assertEquals(false, ds.teacherAllowInsecureHttp());
    EvalSettings e = s.eval();
    assertEquals(false, e.doEval());
    assertEquals(false, e.evalAfterStage());
    assertEquals(1, e.numSamples());
    assertEquals(8, e.perDeviceEvalBatchSize());
    assertEquals(0.6, e.temperature());
    assertEquals(0.95, e.topP());
  }

  @Test
  void defaultsThatDependOnTheStageType() throws Exception {
    assertEquals(2e-5, empty(StageType.SFT).training().learningRate());
    assertEquals(2e-5, empty(StageType.DISTILL).training().learningRate());
    assertEquals(1e-6, empty(StageType.COMBINED).training().learningRate());
    assertEquals(5e-5, empty(StageType.EVAL).training().learningRate());
    assertEquals(2.0, empty(StageType.DISTILL).distill().temperature(), "the distillation temperature");
    assertEquals(List.of("accuracy", "format"), empty(StageType.GENERATE).grpo().rewardFuncs());
  }

  @Test
  void theRewardKeywordDefaults() {
    Map<String, Object> expected = Map.ofEntries(Map.entry("cosine_min_value_wrong", -1.0),
        Map.entry("cosine_max_value_wrong", -0.5), Map.entry("cosine_min_value_correct", 0.5),
        Map.entry("cosine_max_value_correct", 1.0), Map.entry("cosine_max_len", 1000L),
        Map.entry("repetition_n_grams", 3L), Map.entry("repetition_max_penalty", -1.0),
        Map.entry("max_completion_len", 16384L), Map.entry("soft_punish_cache", 4096L),
        Map.entry("code_timeout_s", 10.0), Map.entry("code_memory_mb", 1024L), Map.entry("code_language", "python"),
        Map.entry("language", "en"), Map.entry("demo_data_test", 200L), Map.entry("demo_data_error_rate", 0.3));
    expected.forEach((k, v) -> assertEquals(v, RecipeKeys.defaultFor(k, StageType.GRPO), k));
  }

  @Test
  void everyDefaultTheSettingsReadIsTheTables() throws Exception {
    RecipeSettings s = empty(StageType.SFT);
    assertEquals(RecipeKeys.defaultFor("learning_rate", StageType.SFT), s.training().learningRate());
    assertEquals(RecipeKeys.defaultFor("adam_beta2", StageType.SFT), s.training().adamBeta2());
    assertEquals(RecipeKeys.defaultFor("output_dir", StageType.SFT), s.training().outputDir());
    assertEquals(((Number) RecipeKeys.clusterDefault("max_staleness")).intValue(), s.cluster().maxStaleness());
    assertEquals(RecipeKeys.defaultFor("loss_type", StageType.SFT), s.grpo().lossType().name().toLowerCase());
    assertEquals(RecipeKeys.defaultFor("reward_funcs", StageType.GENERATE), empty(StageType.GENERATE).grpo().rewardFuncs());
  }
}
