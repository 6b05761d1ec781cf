package io.r1cluster.core.sft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeException;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.train.RunFolder;
import io.r1cluster.core.train.TfEventReader;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code report_to: tensorboard} and transformers' {@code trainer_state.json} on a real SFT run of the demo model. */
class SftReportToTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void tensorboardEventsAndLogHistoryHoldEveryLoggedMetric(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    DemoDataset.write(data, new DemoDataset.Options(24, 4, 1, 0.3, 2, DemoDataset.Options.defaults().tasks()));
    Files.write(data.resolve("test.jsonl"), Files.readAllLines(data.resolve("train.jsonl")).subList(20, 24));
    Path out = dir.resolve("out");
    Path recipe = SftTrainerTest.writeRecipe(dir, data, out, 4, 2);
    Files.writeString(recipe, Files.readString(recipe).replace("per_device_train_batch_size: 4", "per_device_train_batch_size: 2")
        .replace("max_length: 96", "max_length: 64") + "report_to:\n  - tensorboard\nlogging_dir: " + dir.resolve("tb") + "\n");
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    var r = new SftTrainer(Recipe.load(recipe).settings(StageType.SFT), new PrintStream(log, true, StandardCharsets.UTF_8)).train();
    assertTrue(r.completed());

    List<JsonNode> lines = new ArrayList<>();
    for (String l : Files.readAllLines(out.resolve(RunFolder.METRICS_FILE))) {
      lines.add(JSON.readTree(l));
    }
    assertEquals(4 + 2, lines.size()); // 4 training records, eval at steps 3 and 4

    // the event file: every numeric value of every record, at its step, with transformers' tags
    List<Path> files;
    try (Stream<Path> s = Files.list(dir.resolve("tb"))) {
      files = s.toList();
    }
    assertEquals(1, files.size());
    List<TfEventReader.Event> ev = TfEventReader.read(files.get(0));
    assertEquals("brain.Event:2", ev.get(0).fileVersion());
    assertEquals(1 + lines.size() + 1, ev.size()); // version, records, train_runtime summary
    for (int i = 0; i < lines.size(); i++) {
      JsonNode rec = lines.get(i);
      TfEventReader.Event e = ev.get(i + 1);
      assertEquals(rec.get("step").asLong(), e.step());
      int numeric = 0;
      for (Iterator<Map.Entry<String, JsonNode>> it = rec.fields(); it.hasNext(); ) {
        var f = it.next();
        if (f.getKey().equals("step") || !f.getValue().isNumber()) {
          continue;
        }
        numeric++;
        String tag = f.getKey().startsWith("eval_") ? "eval/" + f.getKey().substring(5) : "train/" + f.getKey();
        assertEquals((float) f.getValue().asDouble(), e.scalars().get(tag), tag + " at step " + e.step());
      }
      assertEquals(numeric, e.scalars().size());
    }
    TfEventReader.Event last = ev.get(ev.size() - 1);
    assertEquals(4, last.step());
    assertTrue(last.scalars().get("train/train_runtime") > 0);

    // trainer_state.json of checkpoint-2: transformers' keys, log_history = the records up to step 2
    JsonNode st = JSON.readTree(out.resolve("checkpoint-2").resolve(RunFolder.STATE_FILE).toFile());
    List<String> keys = new ArrayList<>();
    st.fieldNames().forEachRemaining(keys::add);
    List<String> sorted = new ArrayList<>(keys);
    sorted.sort(null);
    assertEquals(sorted, keys, "keys sorted as json.dumps(sort_keys=True)");
    for (String k : List.of("best_global_step", "best_metric", "best_model_checkpoint", "epoch", "eval_steps",
        "global_step", "is_hyper_param_search", "is_local_process_zero", "is_world_process_zero", "log_history",
        "logging_steps", "max_steps", "num_input_tokens_seen", "num_train_epochs", "save_steps", "stateful_callbacks",
        "total_flos", "train_batch_size", "trial_name", "trial_params")) {
      assertTrue(st.has(k), "trainer_state.json has " + k);
    }
    assertEquals(2, st.get("global_step").asLong());
    assertEquals(4, st.get("train_batch_size").asInt()); // 2 rows x gradient_accumulation_steps 2
    assertEquals(1, st.get("logging_steps").asInt());
    assertTrue(st.get("logging_steps").isIntegralNumber());
    JsonNode h = st.get("log_history");
    assertEquals(2, h.size());
    JsonNode first = h.get(0);
    List<String> order = new ArrayList<>();
    first.fieldNames().forEachRemaining(order::add);
    assertEquals("loss", order.get(0));
    assertEquals(List.of("epoch", "step"), order.subList(order.size() - 2, order.size()));
    assertEquals(lines.get(0).get("loss"), first.get("loss"));
    assertEquals(lines.get(0).get("learning_rate"), first.get("learning_rate"));
    assertEquals(lines.get(0).get("grad_norm"), first.get("grad_norm"));
    assertEquals(1, first.get("step").asInt());

    // output_dir/trainer_state.json (open-r1's save_state): every record plus the train_runtime entry
    JsonNode fin = JSON.readTree(out.resolve(RunFolder.STATE_FILE).toFile());
    JsonNode fh = fin.get("log_history");
    assertEquals(lines.size() + 1, fh.size());
    assertTrue(fh.get(3).has("eval_loss"));
    JsonNode end = fh.get(fh.size() - 1);
    for (String k : List.of("train_runtime", "train_samples_per_second", "train_steps_per_second", "total_flos",
        "train_loss", "epoch", "step")) {
      assertTrue(end.has(k), "final entry has " + k + ": " + end);
    }
    assertEquals(4, end.get("step").asInt());
    assertEquals(4, fin.get("global_step").asInt());
    double meanLoss = 0;
    for (int i = 0; i < lines.size(); i++) {
      meanLoss += lines.get(i).has("loss") ? lines.get(i).get("loss").asDouble() / 4 : 0;
    }
    assertEquals(meanLoss, end.get("train_loss").asDouble(), 1e-12);
  }

  @Test
  void reportToValuesAreValidated(@TempDir Path dir) throws Exception {
    Path ok = dir.resolve("ok.yaml");
    Files.writeString(ok, "report_to: none\n");
    Recipe.load(ok);
    Files.writeString(ok, "report_to: all\n");
    Recipe.load(ok);
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "learning_rate: 1.0e-5\nreport_to: mlflow\n");
    RecipeException e = assertThrows(RecipeException.class, () -> Recipe.load(bad));
    assertTrue(e.getMessage().contains("bad.yaml:2") && e.getMessage().contains("report_to")
        && e.getMessage().contains("'mlflow' is not supported"), e.getMessage());
    Files.writeString(bad, "report_to: [tensorbord]\n");
    e = assertThrows(RecipeException.class, () -> Recipe.load(bad));
    assertTrue(e.getMessage().contains("did you mean 'tensorboard'"), e.getMessage());
    Files.writeString(bad, "report_to: [none, tensorboard]\n");
    e = assertThrows(RecipeException.class, () -> Recipe.load(bad));
    assertTrue(e.getMessage().contains("'none' cannot be combined"), e.getMessage());
    assertFalse(e.getMessage().contains("did you mean"));
  }
}
