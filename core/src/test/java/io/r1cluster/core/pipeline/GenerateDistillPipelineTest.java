package io.r1cluster.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.distill.DistillLoss;
import io.r1cluster.core.generate.ChatCompletionsServerFixture;
import io.r1cluster.core.generate.TraceGenerator;
import io.r1cluster.core.generate.TraceGeneratorTest;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** generate and distill stages in the pipeline: validation up front, from_dataset, resume. */
class GenerateDistillPipelineTest {
  static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

  static Path recipe(Path dir, String teacherUrl, String distillTeacher) throws Exception {
    Path r = dir.resolve("pipeline.yaml");
    Files.writeString(r, String.join("\n",
        "model_name_or_path: demo",
        "dataset_name: " + TraceGeneratorTest.prompts(dir),
        "dataset_prompt_column: problem",
        "seed: 5",
        "max_length: 96",
        "packing: true",
        "per_device_train_batch_size: 2",
        "logging_steps: 1",
        "save_steps: 2",
        "max_completion_length: 24",
        "pipeline:",
        "  - name: gen",
        "    type: generate",
        "    teacher_url: " + teacherUrl,
        "    num_generations: 4",
        "    per_device_eval_batch_size: 1",
        "  - name: student",                     // line 17
        "    type: distill",
        "    from_dataset: gen",
        "    model_name_or_path: demo-small",
        "    teacher_model: " + distillTeacher,
        "    learning_rate: 3.0e-3",
        "    max_steps: 4",
        ""));
    return r;
  }

  @Test
  void aTeacherWithAnotherTokenizerFailsBeforeAnyStageWithFileAndLine(@TempDir Path dir) throws Exception {
    Path other = dir.resolve("other-teacher");
    DemoTokenizer.write(other);
    ObjectMapper json = new ObjectMapper();
    ObjectNode tok = (ObjectNode) json.readTree(other.resolve("tokenizer.json").toFile());
    ObjectNode vocab = (ObjectNode) tok.path("model").path("vocab");
    Iterator<String> names = vocab.fieldNames();
    String first = names.next();
    int id = vocab.get(first).asInt();
    vocab.remove(first);
    vocab.put(first + "~", id);
    json.writeValue(other.resolve("tokenizer.json").toFile(), tok);
    Path r = recipe(dir, "http://127.0.0.1:9/v1", other.toString());
    Path run = dir.resolve("run");
    InputException e = assertThrows(InputException.class, () -> new Pipeline(Recipe.load(r), run, QUIET).run());
    assertTrue(e.getMessage().startsWith(r + ":17: teacher_model: stage 'student'"), e.getMessage());
    assertTrue(e.getMessage().contains("do not share a tokenizer"), e.getMessage());
    assertFalse(Files.exists(run.resolve("gen")), "nothing ran");
    assertFalse(Files.exists(run.resolve("state.json")), "nothing ran");
  }

  @Test
  void generateThenDistillResumesAfterBeingKilledInEitherStage(@TempDir Path dir) throws Exception {
    try (ChatCompletionsServerFixture server = TraceGeneratorTest.cannedTeacher()) {
      Path r = recipe(dir, server.baseUrl(), "demo");
      Path a = dir.resolve("run-a");
      List<Pipeline.StageState> sa = new Pipeline(Recipe.load(r), a, QUIET).run();
      assertEquals(List.of("gen", "student"), sa.stream().map(Pipeline.StageState::name).toList());
      assertEquals(5, Files.readAllLines(a.resolve("gen").resolve(TraceGenerator.DATA_FILE)).size());
      Map<String, double[][]> ma = new Pipeline(Recipe.load(r), a, QUIET).metrics("student");
      assertEquals(4, ma.get(DistillLoss.KL).length);
      assertTrue(ma.containsKey(DistillLoss.CE) && ma.containsKey("loss"));

      Path b = dir.resolve("run-b");
      // killed while generating: nothing of the dataset is visible, leftovers of a hard kill are cleaned up
      assertThrows(Pipeline.Interrupted.class, () -> new Pipeline(Recipe.load(r), b, QUIET).stopStageAfter("gen", 1).run());
      assertEquals("running", new Pipeline(Recipe.load(r), b, QUIET).readState().get("gen").status());
      assertFalse(Files.exists(b.resolve("gen")));
      Files.createDirectories(b.resolve(".gen.tmp-1-2"));
      Files.writeString(b.resolve(".gen.tmp-1-2").resolve(TraceGenerator.DATA_FILE), "{\"half\": ");
      // rerun: generate starts over and completes; distill is killed after its checkpoint-2
      assertThrows(Pipeline.Interrupted.class, () -> new Pipeline(Recipe.load(r), b, QUIET).stopStageAfter("student", 2).run());
      Map<String, Pipeline.StageState> st = new Pipeline(Recipe.load(r), b, QUIET).readState();
      assertEquals("done", st.get("gen").status());
      assertEquals("running", st.get("student").status());
      assertTrue(Files.isDirectory(b.resolve("student/checkpoint-2")));
      try (Stream<Path> s = Files.list(b)) {
        assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".gen")), "stale temp folder removed");
      }
      int requests = server.requests().size();
      // rerun: generate is skipped, distill resumes from checkpoint-2
      List<Pipeline.StageState> sb = new Pipeline(Recipe.load(r), b, QUIET).run();
      assertTrue(sb.stream().allMatch(s -> s.status().equals("done")));
      assertEquals(requests, server.requests().size(), "the done generate stage asked the teacher nothing");
      assertArrayEquals(Files.readAllBytes(a.resolve("gen/train.jsonl")), Files.readAllBytes(b.resolve("gen/train.jsonl")));
      Map<String, double[][]> mb = new Pipeline(Recipe.load(r), b, QUIET).metrics("student");
      assertArrayEquals(ma.get("loss"), mb.get("loss"));
      assertArrayEquals(ma.get(DistillLoss.KL), mb.get(DistillLoss.KL));
      assertArrayEquals(Files.readAllBytes(a.resolve("student/model.safetensors")),
          Files.readAllBytes(b.resolve("student/model.safetensors")));
    }
  }

  @Test
  void theShippedR1OfficialRecipePassesThePipelineChecks(@TempDir Path dir) {
    Recipe r = Recipe.load(Path.of("..", "recipes", "demo", "r1-official.yaml"));
    new Pipeline(r, dir, QUIET).check(r.stages()); // includes the demo-small / demo tokenizer check
    assertEquals(Pipeline.ModelRef.ofStage("sft-rs"), Pipeline.teacherRef(r.stages().get(5), r.stages()));
    assertEquals(Pipeline.ModelRef.ofModel("demo-small"), Pipeline.studentRef(r.stages().get(5), r.stages()));
    assertEquals(Pipeline.ModelRef.ofStage("rl"), Pipeline.teacherRef(r.stages().get(3), r.stages()));
  }
}
