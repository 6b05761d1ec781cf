package io.r1cluster.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.recipe.Recipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resume in the middle of the SFT and the combined stage (GRPO, generate and distill have theirs in
 * {@link PipelineTest} and {@link GenerateDistillPipelineTest}): a run killed after a stage's
 * checkpoint-2 and run again ends in the state of an uninterrupted run — same steps, same metrics
 * per step, bit-identical weights of every stage.
 */
class PipelineResumeTest {
  private static final String COMBINED = String.join("\n",
      "  - name: mix",
      "    type: combined",
      "    learning_rate: 1.0e-4",
      "    beta: 0.0",
      "    temperature: 1.0",
      "    max_steps: 3",
      "    sft_loss_weight: 0.5",
      "    reward_funcs: [accuracy, format]");

  @Test
  void aRunKilledInSftOrInTheCombinedStageResumesToTheUninterruptedResult(@TempDir Path dir) throws Exception {
    Path data = PipelineTest.data(dir);
    Path r = PipelineTest.recipe(dir, data, 2, false, COMBINED);
    Path a = dir.resolve("run-a");
    List<Pipeline.StageState> sa = new Pipeline(Recipe.load(r), a, PipelineTest.QUIET).run();
    assertEquals(List.of("sft", "grpo", "mix"), sa.stream().map(Pipeline.StageState::name).toList());

    for (String stage : List.of("sft", "mix")) {
      Path b = dir.resolve("run-killed-in-" + stage);
      assertThrows(Pipeline.Interrupted.class,
          () -> new Pipeline(Recipe.load(r), b, PipelineTest.QUIET).stopStageAfter(stage, 2).run());
      Map<String, Pipeline.StageState> st = new Pipeline(Recipe.load(r), b, PipelineTest.QUIET).readState();
      assertEquals("running", st.get(stage).status(), stage);
      assertTrue(Files.isDirectory(b.resolve(stage).resolve("checkpoint-2")), stage);
      assertFalse(Files.exists(b.resolve(stage).resolve("model.safetensors")), "no final save when killed: " + stage);

      ByteArrayOutputStream log = new ByteArrayOutputStream();
      List<Pipeline.StageState> sb = new Pipeline(Recipe.load(r), b, new PrintStream(log, true, StandardCharsets.UTF_8)).run();
      assertTrue(sb.stream().allMatch(s -> s.status().equals("done")), stage);
      // resumed, not started over (a deterministic restart would also end in the same weights)
      String out = log.toString(StandardCharsets.UTF_8);
      assertTrue(out.contains("resuming from " + b.resolve(stage).resolve("checkpoint-2") + " (step 2 of"), out);
      Pipeline pa = new Pipeline(Recipe.load(r), a, PipelineTest.QUIET);
      Pipeline pb = new Pipeline(Recipe.load(r), b, PipelineTest.QUIET);
      for (String s : List.of("sft", "grpo", "mix")) {
        Map<String, double[][]> ma = pa.metrics(s);
        Map<String, double[][]> mb = pb.metrics(s);
        assertArrayEquals(ma.get("loss"), mb.get("loss"), "killed in " + stage + ": loss per step of " + s);
        assertArrayEquals(Files.readAllBytes(a.resolve(s).resolve("model.safetensors")),
            Files.readAllBytes(b.resolve(s).resolve("model.safetensors")), "killed in " + stage + ": weights of " + s);
      }
      assertEquals(4, pb.metrics("sft").get("loss").length, "SFT steps");
      assertEquals(3, pb.metrics("mix").get("reward").length, "combined steps");
    }
  }
}
