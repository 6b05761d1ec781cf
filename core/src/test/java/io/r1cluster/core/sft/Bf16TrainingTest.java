package io.r1cluster.core.sft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.train.MetricsLog;
import io.r1cluster.core.train.RunFolder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bf16: true} + {@code torch_dtype: bfloat16} on the demo SFT: the loss falls as float32's does
 * (step by step within 5 % of it, and not identical, so bf16 really computed), the optimizer state
 * stays float32 (master weights), and the checkpoints are bf16 safetensors with
 * {@code torch_dtype: bfloat16} in their config.
 */
class Bf16TrainingTest {

  @Test
  void bf16SftLowersTheLossLikeFloat32AndSavesBf16(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    SftTrainerTest.writeTracedSplits(data);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    Path f = dir.resolve("f32");
    Path b = dir.resolve("bf16");
    new SftTrainer(Recipe.load(SftTrainerTest.writeRecipe(dir, data, f, 6, 3)).settings(StageType.SFT), quiet).train();
    Path rb = SftTrainerTest.writeRecipe(dir, data, b, 6, 3);
    Files.writeString(rb, Files.readString(rb) + "bf16: true\ntorch_dtype: bfloat16\n");
    new SftTrainer(Recipe.load(rb).settings(StageType.SFT), quiet).train();

    double[][] lf = MetricsLog.read(f.resolve(RunFolder.METRICS_FILE)).get("loss");
    double[][] lb = MetricsLog.read(b.resolve(RunFolder.METRICS_FILE)).get("loss");
    assertEquals(6, lb.length);
    boolean differs = false;
    for (int i = 0; i < 6; i++) {
      double rel = Math.abs(lb[i][1] - lf[i][1]) / lf[i][1];
      assertTrue(rel <= 0.05, "step " + (i + 1) + ": bf16 loss " + lb[i][1] + " vs float32 " + lf[i][1]);
      differs |= lb[i][1] != lf[i][1];
    }
    assertTrue(differs, "bf16 losses equal float32's bit for bit: bf16 compute did not run");
    assertTrue(lb[5][1] < lb[0][1], "bf16 loss " + lb[0][1] + " -> " + lb[5][1]);

    // checkpoints in torch_dtype, optimizer state (and so the master weights it updates) in float32
    Path ckpt;
    try (Stream<Path> s = Files.list(b)) {
      ckpt = s.filter(p -> p.getFileName().toString().startsWith("checkpoint-")).findFirst().orElseThrow();
    }
    for (Path d : new Path[] {b, ckpt}) {
      for (TensorData t : SafeTensors.read(d.resolve("model.safetensors")).values()) {
        assertEquals(DType.BF16, t.dtype(), d + ": " + t.name());
      }
      assertTrue(Files.readString(d.resolve("config.json")).contains("\"torch_dtype\" : \"bfloat16\""), d.toString());
    }
    Map<String, TensorData> opt = SafeTensors.read(ckpt.resolve(RunFolder.OPTIMIZER_FILE));
    assertTrue(opt.values().stream().anyMatch(t -> t.numel() > 1));
    for (TensorData t : opt.values()) {
      assertEquals(DType.F32, t.dtype(), t.name());
    }
    try (Stream<Path> s = Files.list(f)) {
      assertTrue(s.anyMatch(p -> p.getFileName().toString().equals("model.safetensors")));
    }
    assertEquals(DType.F32, SafeTensors.read(f.resolve("model.safetensors")).values().iterator().next().dtype());
  }

  /**
   * A {@code bf16: true}, {@code torch_dtype: bfloat16} run stopped after step 3 and resumed from its
   * checkpoint-2 ends bit-identical to an uninterrupted run: checkpoint-2 keeps the float32 master weights
   * beside the bf16 model weights, and the resumed run starts from them (not from bf16-rounded weights)
   * and computes in bf16 again. Compared: every logged loss, checkpoint-4's master weights and optimizer
   * state, and the final bf16 model.
   */
  @Test
  void aResumedBf16RunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    SftTrainerTest.writeTracedSplits(data);
    PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    var ra = new SftTrainer(Recipe.load(bf16Recipe(dir, data, a)).settings(StageType.SFT), quiet).train();
    assertTrue(ra.completed());
    var rb1 = new SftTrainer(Recipe.load(bf16Recipe(dir, data, b)).settings(StageType.SFT), quiet).stopAfter(3).train();
    assertTrue(!rb1.completed());
    Path ck2 = b.resolve("checkpoint-2");
    Map<String, TensorData> master = SafeTensors.read(ck2.resolve(io.r1cluster.core.model.Models.MASTER_WEIGHTS_FILE));
    Map<String, TensorData> saved = SafeTensors.read(ck2.resolve("model.safetensors"));
    assertEquals(saved.keySet(), master.keySet());
    boolean finer = false;
    for (TensorData t : master.values()) {
      assertEquals(DType.F32, t.dtype(), t.name());
      assertEquals(DType.BF16, saved.get(t.name()).dtype(), t.name());
      finer |= !t.data().equals(saved.get(t.name()).convert(DType.F32).data());
    }
    assertTrue(finer, "the master weights equal their bf16 rounding: nothing to restore");
    var rb2 = new SftTrainer(Recipe.load(bf16Recipe(dir, data, b)).settings(StageType.SFT), quiet).train();
    assertEquals(2, rb2.resumedFrom());
    assertTrue(rb2.completed());
    assertArrayEquals(MetricsLog.read(a.resolve(io.r1cluster.core.train.RunFolder.METRICS_FILE)).get("loss"),
        MetricsLog.read(b.resolve(io.r1cluster.core.train.RunFolder.METRICS_FILE)).get("loss"));
    for (String f : new String[] {io.r1cluster.core.model.Models.MASTER_WEIGHTS_FILE, io.r1cluster.core.train.RunFolder.OPTIMIZER_FILE}) {
      assertArrayEquals(Files.readAllBytes(a.resolve("checkpoint-4").resolve(f)),
          Files.readAllBytes(b.resolve("checkpoint-4").resolve(f)), "checkpoint-4/" + f);
    }
    assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
    // the final save stays in torch_dtype, without master weights
    assertEquals(DType.BF16, SafeTensors.read(b.resolve("model.safetensors")).values().iterator().next().dtype());
    assertTrue(Files.readString(b.resolve("config.json")).contains("\"torch_dtype\" : \"bfloat16\""));
    assertTrue(!Files.exists(b.resolve(io.r1cluster.core.model.Models.MASTER_WEIGHTS_FILE)));
  }

  private static Path bf16Recipe(Path dir, Path data, Path out) throws Exception {
    Path r = SftTrainerTest.writeRecipe(dir, data, out, 6, 2);
    Files.writeString(r, Files.readString(r) + "bf16: true\ntorch_dtype: bfloat16\n");
    return r;
  }
}
