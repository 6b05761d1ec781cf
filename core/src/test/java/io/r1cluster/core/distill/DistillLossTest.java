package io.r1cluster.core.distill;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.sft.SftTrainer;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import io.r1cluster.core.tokenizer.Tokenizer;
import io.r1cluster.core.train.MetricsLog;
import io.r1cluster.core.train.RunFolder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DistillLossTest {
  static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

  private static double[] softmax(double[] z, double t) {
    double max = Double.NEGATIVE_INFINITY;
    for (double v : z) {
      max = Math.max(max, v / t);
    }
    double sum = 0;
    double[] p = new double[z.length];
    for (int i = 0; i < z.length; i++) {
      p[i] = Math.exp(z[i] / t - max);
      sum += p[i];
    }
    for (int i = 0; i < z.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  @Test
  void lossIsAlphaTSquaredKlPlusOneMinusAlphaCeAveragedOverTrainedTokens() {
    double[][] student = {{1, 2, 0.5}, {0, 0, 0}, {3, -1, 1}};
    double[][] teacher = {{0.5, 1, 2}, {1, 0, -1}, {2, 2, 0}};
    int[] targets = {1, 0, 2};
    float[] mask = {1, 1, 0}; // the last position is a prompt token: not trained
    double alpha = 0.3;
    double temp = 2.0;
    double[] kl = new double[3];
    double[] ce = new double[3];
    double loss = 0;
    double klMean = 0;
    double ceMean = 0;
    for (int t = 0; t < 3; t++) {
      double[] p = softmax(teacher[t], temp);
      double[] q = softmax(student[t], temp);
      for (int v = 0; v < 3; v++) {
        kl[t] += p[v] * (Math.log(p[v]) - Math.log(q[v]));
      }
      ce[t] = -Math.log(softmax(student[t], 1.0)[targets[t]]);
      if (mask[t] == 1) {
        loss += (alpha * temp * temp * kl[t] + (1 - alpha) * ce[t]) / 2;
        klMean += kl[t] / 2;
        ceMean += ce[t] / 2;
      }
    }
    try (NDManager m = NDManager.newBaseManager()) {
      NDArray zs = m.create(flat(student), new Shape(1, 3, 3));
      NDArray zt = m.create(flat(teacher), new Shape(1, 3, 3));
      NDArray y = m.create(new long[] {targets[0], targets[1], targets[2]}, new Shape(1, 3));
      NDArray mk = m.create(mask, new Shape(1, 3));
      DistillLoss dl = new DistillLoss(null, alpha, temp);
      Map<String, NDArray> parts = new LinkedHashMap<>();
      NDArray per = dl.perToken(zs, y, DistillLoss.teacherLogProbs(zt, temp), parts);
      float[] perTok = per.toFloatArray();
      float[] klTok = parts.get(DistillLoss.KL).toFloatArray();
      float[] ceTok = parts.get(DistillLoss.CE).toFloatArray();
      for (int t = 0; t < 3; t++) {
        assertEquals(kl[t], klTok[t], 1e-5, "kl at " + t);
        assertEquals(ce[t], ceTok[t], 1e-5, "ce at " + t);
        assertEquals(alpha * temp * temp * kl[t] + (1 - alpha) * ce[t], perTok[t], 1e-5, "loss at " + t);
      }
      // token average over the trained tokens, as SftTrainer.accumulate takes it
      assertEquals(loss, per.mul(mk).sum().getFloat() / mk.sum().getFloat(), 1e-5);
      assertEquals(klMean, parts.get(DistillLoss.KL).mul(mk).sum().getFloat() / 2, 1e-5);
      assertEquals(ceMean, parts.get(DistillLoss.CE).mul(mk).sum().getFloat() / 2, 1e-5);
    }
  }

  private static float[] flat(double[][] a) {
    float[] f = new float[a.length * a[0].length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        f[i * a[0].length + j] = (float) a[i][j];
      }
    }
    return f;
  }

  /**
   * A teacher with a peaked, learnable next-token distribution: the demo model at its default init
   * (so the residual stream is mostly the current token's embedding, a bigram model) with the final
   * norm scaled up, which sharpens its logits.
   */
  static Path peakedTeacher(Path dir) {
    Path tokDir = dir.resolve("teacher-tok");
    DemoTokenizer.write(tokDir);
    try (Tokenizer tok = Tokenizer.load(tokDir)) {
      Qwen2Config c = Models.demoConfig(tok);
      try (Qwen2Model m = Qwen2Model.random(c, Device.cpu(), 3)) {
        List<TensorData> ts = new java.util.ArrayList<>();
        for (TensorData t : m.toTensors(DType.F32)) {
          if (t.name().equals("model.norm.weight")) {
            float[] v = new float[(int) t.shape()[0]];
            java.util.Arrays.fill(v, 30f);
            t = TensorData.ofFloats(t.name(), t.shape(), v);
          }
          ts.add(t);
        }
        Path out = dir.resolve("teacher");
        HfCheckpoint.save(out, c.toJson(), ts, HfCheckpoint.DEFAULT_MAX_SHARD_BYTES, null, tokDir);
        return out;
      }
    }
  }

  @Test
  void aShortDistillRunLowersTheKlToTheTeacher(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    DemoDataset.write(data, new DemoDataset.Options(24, 3, 1, 0.3, 2, DemoDataset.Options.defaults().tasks()));
    Path teacher = peakedTeacher(dir);
    Path r = dir.resolve("distill.yaml");
    Files.writeString(r, String.join("\n",
        "model_name_or_path: demo-small",
        "teacher_model: " + teacher,
        "dataset_name: " + data,
        "output_dir: " + dir.resolve("out"),
        "alpha: 1.0",
        "temperature: 1.0",
        "learning_rate: 1.0e-2",
        "lr_scheduler_type: constant",
        "max_length: 96",
        "packing: true",
        "per_device_train_batch_size: 4",
        "max_steps: 12",
        "logging_steps: 1",
        "save_strategy: 'no'",
        "seed: 3", ""));
    SftTrainer.Result res = new DistillTrainer(Recipe.load(r).settings(), QUIET).train();
    assertTrue(res.completed());
    Map<String, double[][]> m = MetricsLog.read(dir.resolve("out").resolve(RunFolder.METRICS_FILE));
    double[][] kl = m.get(DistillLoss.KL);
    assertEquals(12, kl.length);
    double first = (kl[0][1] + kl[1][1]) / 2;
    double last = (kl[10][1] + kl[11][1]) / 2;
    StringBuilder series = new StringBuilder();
    for (double[] p : kl) {
      series.append(String.format(java.util.Locale.ROOT, " %.3f", p[1]));
    }
    assertTrue(last < 0.7 * first, "KL per step:" + series);
    assertTrue(m.containsKey(DistillLoss.CE) && m.containsKey("loss"), m.keySet().toString());
    assertTrue(Files.exists(dir.resolve("out/model.safetensors")));
    assertEquals(List.of(64L), List.of((long) io.r1cluster.core.model.Qwen2Config.read(dir.resolve("out/config.json")).hiddenSize()),
        "the student keeps its own (smaller) shape");
  }
}
