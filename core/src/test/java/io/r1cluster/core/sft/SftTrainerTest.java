package io.r1cluster.core.sft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.eval.PassAtK;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import io.r1cluster.core.tokenizer.Tokenizer;
import io.r1cluster.core.train.MetricsLog;
import io.r1cluster.core.train.RunFolder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftTrainerTest {

  static Tokenizer demoTokenizer(Path dir) {
    DemoTokenizer.write(dir);
    return Tokenizer.load(dir);
  }

  static SftExample example(String id, String q, String a) {
    return new SftExample(id, List.of(new ChatMessage("user", q)), List.of(new ChatMessage("assistant", a)));
  }

  @Test
  void completionOnlyLossTrainsExactlyTheAssistantTurn(@TempDir Path dir) {
    try (Tokenizer tok = demoTokenizer(dir)) {
      SftEncoder enc = new SftEncoder(tok, tok.chatTemplate(), 512, true);
      String answer = "<think>\n2+3=5.\n</think>\n<answer>\n5\n</answer>";
      SftEncoder.Encoded e = enc.encode(example("a", "What is 2 + 3?", answer));
      assertEquals(answer + "<|im_end|>\n", enc.trainedText(e));
      // the prompt, including the assistant header, is never trained
      String all = tok.decode(e.ids(), false);
      assertTrue(all.startsWith("<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n<|im_start|>assistant\n"));
      assertFalse(e.trained()[0]);
      SftEncoder full = new SftEncoder(tok, tok.chatTemplate(), 512, false);
      assertEquals(e.ids().length, full.encode(example("a", "What is 2 + 3?", answer)).trainedCount());
      // multi-turn: both assistant turns trained, the user turn between them not
      SftExample conv = new SftExample("c", List.of(new ChatMessage("user", "hi"), new ChatMessage("assistant", "yo"),
          new ChatMessage("user", "2+2?")), List.of(new ChatMessage("assistant", "4")));
      assertEquals("yo<|im_end|>\n4<|im_end|>\n", enc.trainedText(enc.encode(conv)));
      // truncation keeps the first max_length tokens
      SftEncoder shortEnc = new SftEncoder(tok, tok.chatTemplate(), 10, true);
      SftEncoder.Encoded t = shortEnc.encode(example("a", "What is 2 + 3?", answer));
      assertEquals(10, t.ids().length);
      assertTrue(t.truncated());
    }
  }

  @Test
  void packedExamplesDoNotAttendToEachOtherAndBoundariesAreNotTrained(@TempDir Path dir) {
    try (Tokenizer tok = demoTokenizer(dir)) {
      SftEncoder enc = new SftEncoder(tok, tok.chatTemplate(), 512, true);
      List<SftEncoder.Encoded> es = List.of(
          enc.encode(example("a", "What is 12 * 3?", "<think>\nx\n</think>\n<answer>\n36\n</answer>")),
          enc.encode(example("b", "Solve 2x + 3 = 7", "<think>\n2x = 4.\n</think>\n<answer>\n2\n</answer>")));
      List<SftBatcher.Row> packed = SftBatcher.rows(es, new int[] {0, 1}, 512, true);
      assertEquals(1, packed.size());
      SftBatcher.Batch pb = SftBatcher.batch(es, packed);
      SftBatcher.Batch alone = SftBatcher.batch(es, List.of(new SftBatcher.Row(List.of(1))));
      int n0 = es.get(0).ids().length;
      int n1 = es.get(1).ids().length;
      // the target at the boundary (first token of b, predicted from a's last token) is masked
      assertEquals(0f, pb.lossMask()[0][n0 - 1]);
      assertEquals(es.get(0).trainedCount() + es.get(1).trainedCount(), pb.targetTokens());
      assertEquals(alone.targetTokens(), es.get(1).trainedCount());
      Qwen2Config cfg = Qwen2Config.of(tok.vocabSize(), 32, 64, 2, 4, 2, 256, true);
      try (Qwen2Model m = Qwen2Model.random(cfg, Device.cpu(), 7); NDManager s = NDManager.newBaseManager()) {
        NDArray lp = m.logits(s, s.create(pb.ids()), s.create(pb.segments()), s.create(pb.positions()));
        NDArray la = m.logits(s, s.create(alone.ids()), s.create(alone.segments()), s.create(alone.positions()));
        float[] packedB = lp.get("0, " + n0 + ":" + (n0 + n1) + ", :").toFloatArray();
        float[] aloneB = la.get("0, 0:" + n1 + ", :").toFloatArray();
        assertArrayEquals(aloneB, packedB, 1e-4f);
      }
    }
  }

  static Path writeRecipe(Path dir, Path data, Path out, int maxSteps, int saveSteps) throws Exception {
    Path recipe = dir.resolve("sft-" + out.getFileName() + ".yaml");
    Files.writeString(recipe, String.join("\n",
        "model_name_or_path: demo",
        "dataset_name: " + data,
        "learning_rate: 2.0e-03",
        "lr_scheduler_type: cosine",
        "warmup_ratio: 0.1",
        "max_steps: " + maxSteps,
        "per_device_train_batch_size: 4",
        "gradient_accumulation_steps: 2",
        "max_length: 96",
        "packing: true",
        "seed: 3",
        "logging_steps: 1",
        "save_steps: " + saveSteps,
        "save_total_limit: 1",
        "eval_strategy: steps",
        "eval_steps: 3",
        "output_dir: " + out, ""));
    return recipe;
  }

  /**
   * 40 demo rows at seed 1: train = the first 36, test = the last 4 (the demo test split has no
   * traces; for eval_loss use held-out rows that have them).
   */
  static void writeTracedSplits(Path data) throws java.io.IOException {
    DemoDataset.write(data, new DemoDataset.Options(40, 4, 1, 0.3, 2, DemoDataset.Options.defaults().tasks()));
    Files.write(data.resolve("test.jsonl"), Files.readAllLines(data.resolve("train.jsonl")).subList(36, 40));
    Files.write(data.resolve("train.jsonl"), Files.readAllLines(data.resolve("train.jsonl")).subList(0, 36));
  }

  @Test
  void resumeFromACheckpointContinuesExactly(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    writeTracedSplits(data);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    var ra = new SftTrainer(Recipe.load(writeRecipe(dir, data, a, 6, 2)).settings(StageType.SFT), quiet).train();
    assertTrue(ra.completed());
    assertEquals(6, ra.globalStep());
    var rb1 = new SftTrainer(Recipe.load(writeRecipe(dir, data, b, 6, 2)).settings(StageType.SFT), quiet).stopAfter(3).train();
    assertFalse(rb1.completed());
    assertTrue(Files.isDirectory(b.resolve("checkpoint-2")));
    var rb2 = new SftTrainer(Recipe.load(writeRecipe(dir, data, b, 6, 2)).settings(StageType.SFT), quiet).train();
    assertEquals(2, rb2.resumedFrom());
    assertTrue(rb2.completed());
    // the same loss at every step, each step logged once, and bit-identical final weights
    Map<String, double[][]> ma = MetricsLog.read(a.resolve(RunFolder.METRICS_FILE));
    Map<String, double[][]> mb = MetricsLog.read(b.resolve(RunFolder.METRICS_FILE));
    assertEquals(6, ma.get("loss").length);
    // eval_strategy steps / eval_steps 3: held-out loss at steps 3 and 6
    assertEquals(2, ma.get("eval_loss").length);
    assertEquals(3.0, ma.get("eval_loss")[0][0]);
    assertTrue(Double.isFinite(ma.get("eval_loss")[1][1]) && ma.get("eval_loss")[1][1] > 0);
    assertArrayEquals(ma.get("eval_loss"), mb.get("eval_loss"));
    assertArrayEquals(ma.get("loss"), mb.get("loss"));
    assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
    // save_total_limit 1 keeps the last checkpoint only; the final model loads and has plots
    assertFalse(Files.exists(a.resolve("checkpoint-2")));
    assertTrue(Files.exists(a.resolve("checkpoint-4")));
    assertTrue(Files.exists(a.resolve("plots/loss.png")));
    try (Models.Loaded m = Models.loadCheckpoint(a)) {
      assertEquals(DemoTokenizer.vocabSize(), m.tokenizer().vocabSize());
    }
    // the loss went down over 6 steps
    double[][] loss = ma.get("loss");
    assertTrue(loss[5][1] < loss[0][1], "loss " + loss[0][1] + " -> " + loss[5][1]);
  }

  @Test
  void passAtKIsTheUnbiasedEstimator() {
    assertEquals(0.3, PassAtK.estimate(10, 3, 1), 1e-12);
    assertEquals(1 - 21.0 / 252.0, PassAtK.estimate(10, 3, 5), 1e-12);
    assertEquals(1.0, PassAtK.estimate(4, 2, 3), 0);
    assertEquals(0.0, PassAtK.estimate(8, 0, 4), 0);
  }
}
