package io.r1cluster.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.recipe.Recipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class PipelineTest {
  static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

  static Path recipe(Path dir, Path data, String extraStage) throws Exception {
    return recipe(dir, data, 3, true, extraStage);
  }

  /**
   * A tiny pipeline on the demo model: sft (4 steps) then grpo ({@code grpoSteps}), checkpoints every
   * 2 steps, then {@code extraStage} (YAML lines of more stages, or ""); {@code cluster.max_staleness: 0}.
   * Shared with the actors' supervisor and pipeline tests.
   */
  public static Path recipe(Path dir, Path data, int grpoSteps, boolean evalAfterStage, String extraStage)
      throws Exception {
    Path r = dir.resolve("pipeline.yaml");
    Files.writeString(r, String.join("\n",
        "model_name_or_path: demo",
        "dataset_name: " + data,
        "dataset_prompt_column: problem",
        "seed: 5",
        "max_length: 96",
        "packing: true",
        "per_device_train_batch_size: 4",
        "logging_steps: 1",
        "save_steps: 2",
        "max_completion_length: 12",
        "max_prompt_length: 64",
        "num_generations: 4",
        "eval_after_stage: " + evalAfterStage,
        "cluster:",
        "  max_staleness: 0", // on the actors (the embedded runtime) a run is then reproducible for its seed
        "pipeline:",
        "  - name: sft",
        "    type: sft",
        "    learning_rate: 2.0e-3",
        "    max_steps: 4",
        "  - name: grpo",
        "    type: grpo",
        "    learning_rate: 1.0e-4",
        "    beta: 0.0",
        "    temperature: 1.0",
        "    max_steps: " + grpoSteps,
        "    reward_funcs: [accuracy, format]",
        extraStage, ""));
    return r;
  }

  /** Demo data: 24 training and 3 test problems. */
  public static Path data(Path dir) {
    Path data = dir.resolve("data");
    DemoDataset.write(data, new DemoDataset.Options(24, 3, 1, 0.3, 2, DemoDataset.Options.defaults().tasks()));
    return data;
  }

  @Test
  void tableShowsGreedyBesideSampledPassAt1() {
    Map<String, Object> sampled = new java.util.LinkedHashMap<>(Map.of("pass@1", 0.41, "format", 1.0,
        "mean_length", 39.4, "greedy_pass@1", 0.505));
    Map<String, Object> greedyOnly = Map.of("pass@1", 0.0, "format", 0.0, "mean_length", 64.0);
    String t = Pipeline.table(List.of(new Pipeline.StageState("base", "eval", "done", "demo", greedyOnly),
        new Pipeline.StageState("sft", "sft", "done", "x", sampled),
        new Pipeline.StageState("grpo", "grpo", "running", "y", null)));
    String[] lines = t.split("\n");
    assertEquals(3, lines.length, t);
    assertTrue(lines[0].trim().endsWith("greedy"), t);
    assertTrue(lines[2].matches("sft\\s+0\\.410\\s+1\\.000\\s+39\\.4\\s+0\\.505"), lines[2]);
    assertTrue(lines[1].trim().endsWith("NaN"), "a greedy-only eval has no greedy column value: " + lines[1]);
    assertEquals(List.of("stage", "pass@1", "format", "mean", "length"),
        List.of(Pipeline.table(List.of()).trim().split("\\s+")));
  }

  @Test
  void runsStagesInOrderAndResumesAnInterruptedStageToTheSameResult(@TempDir Path dir) throws Exception {
    Path data = data(dir);
    Path r = recipe(dir, data, "  - name: final\n    type: eval");
    Path a = dir.resolve("run-a");
    List<Pipeline.StageState> sa = new Pipeline(Recipe.load(r), a, QUIET).run();
    assertEquals(List.of("base", "sft", "grpo", "final"), sa.stream().map(Pipeline.StageState::name).toList());
    assertTrue(sa.stream().allMatch(s -> s.status().equals("done")));
    assertEquals(a.resolve("grpo").toString(), sa.get(3).output(), "eval evaluates the previous training stage");
    assertTrue(Files.exists(a.resolve("report.md")));
    assertTrue(Pipeline.table(sa).contains("grpo"));

    // B: killed in the middle of GRPO (after its checkpoint-2), then run again
    Path b = dir.resolve("run-b");
    assertThrows(Pipeline.Interrupted.class, () -> new Pipeline(Recipe.load(r), b, QUIET).stopStageAfter("grpo", 2).run());
    Pipeline resumed = new Pipeline(Recipe.load(r), b, QUIET);
    Map<String, Pipeline.StageState> st = resumed.readState();
    assertEquals("done", st.get("sft").status());
    assertEquals("running", st.get("grpo").status());
    List<Pipeline.StageState> sb = resumed.run();
    assertTrue(sb.stream().allMatch(s -> s.status().equals("done")));
    // same steps, same rewards per step, bit-identical final weights
    Map<String, double[][]> ma = new Pipeline(Recipe.load(r), a, QUIET).metrics("grpo");
    Map<String, double[][]> mb = resumed.metrics("grpo");
    assertEquals(3, ma.get("reward").length);
    assertArrayEquals(ma.get("reward"), mb.get("reward"));
    assertArrayEquals(Files.readAllBytes(a.resolve("grpo/model.safetensors")), Files.readAllBytes(b.resolve("grpo/model.safetensors")));
    for (String k : List.of("pass@1", "format", "mean_length")) {
      assertEquals(sa.get(3).eval().get(k), sb.get(3).eval().get(k), k);
    }
  }

  @Test
  void badStagesFailBeforeAnyWork(@TempDir Path dir) throws Exception {
    Path data = data(dir);
    Path r = recipe(dir, data, "  - name: teach\n    type: distill\n    teacher_model: nowhere-teacher");
    Path run = dir.resolve("run");
    InputException e = assertThrows(InputException.class, () -> new Pipeline(Recipe.load(r), run, QUIET).run());
    assertTrue(e.getMessage().contains("nowhere-teacher") && e.getMessage().contains("teacher_model"), e.getMessage());
    assertTrue(e.getMessage().contains("pipeline.yaml"), e.getMessage());
    assertTrue(!Files.exists(run.resolve("sft")), "nothing ran");
    Path r2 = recipe(dir, data, "  - name: again\n    type: sft\n    from: nowhere-stage");
    InputException e2 = assertThrows(InputException.class, () -> new Pipeline(Recipe.load(r2), run, QUIET).run());
    assertTrue(e2.getMessage().contains("nowhere-stage"), e2.getMessage());
    // demo data to be written with no test rows: the key and its line, before any data or stage
    Path r3 = recipe(dir, dir.resolve("fresh-data"), "");
    Files.writeString(r3, Files.readString(r3).replace("seed: 5\n", "seed: 5\ndemo_data_train: 50\ndemo_data_test: 0\n"));
    InputException e3 = assertThrows(InputException.class, () -> new Pipeline(Recipe.load(r3), run, QUIET).run());
    assertTrue(e3.getMessage().contains("pipeline.yaml:6") && e3.getMessage().contains("demo_data_test"), e3.getMessage());
    assertTrue(!Files.exists(dir.resolve("fresh-data")) && !Files.exists(run.resolve("sft")), "nothing written");
    Files.writeString(r3, Files.readString(r3).replace("demo_data_test: 0\n", "demo_data_error_rate: 1.5\n"));
    InputException e4 = assertThrows(InputException.class, () -> new Pipeline(Recipe.load(r3), run, QUIET).run());
    assertTrue(e4.getMessage().contains("pipeline.yaml:6") && e4.getMessage().contains("demo_data_error_rate"), e4.getMessage());
    assertTrue(!Files.exists(dir.resolve("fresh-data")) && !Files.exists(run.resolve("sft")), "nothing written");
    // demo data already written for another seed: a second seed must not silently reuse it
    DemoDataset.write(dir.resolve("fresh-data"), new DemoDataset.Options(50, 5, 5, 0.3, 2, DemoDataset.Options.defaults().tasks()));
    Files.writeString(r3, Files.readString(r3).replace("demo_data_error_rate: 1.5\n", "").replace("seed: 5\n", "seed: 6\n"));
    InputException e5 = assertThrows(InputException.class, () -> new Pipeline(Recipe.load(r3), run, QUIET).run());
    assertTrue(e5.getMessage().contains("pipeline.yaml:2") && e5.getMessage().contains("dataset_name")
        && e5.getMessage().contains("seed 5") && e5.getMessage().contains("seed 6"), e5.getMessage());
    assertTrue(!Files.exists(run.resolve("sft")), "nothing trained");
  }
}
