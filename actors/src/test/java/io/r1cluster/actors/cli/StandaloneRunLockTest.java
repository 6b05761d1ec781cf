package io.r1cluster.actors.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.actors.grpo.ChildJvm;
import io.r1cluster.actors.grpo.GrpoFixtures;
import io.r1cluster.core.checkpoint.RunFolderLock;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Standalone {@code r1 sft} and {@code r1 grpo} take the run-folder lock {@code r1 run} takes, on their
 * {@code output_dir}: while a real {@code r1} process trains there, a second {@code r1 sft} or
 * {@code r1 grpo} (or {@code r1 member --recipe}) on the same folder exits 2 naming the holder, and writes
 * nothing there. Each
 * command is tried as the holder (a child JVM, SIGKILLed afterwards: the kernel drops its lock).
 */
class StandaloneRunLockTest {
  @TempDir Path tmp;

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void aSecondSftOrGrpoOnABusyOutputFolderExitsTwo() throws Exception {
    Path model = GrpoFixtures.tinyModel(tmp.resolve("model"));
    Path data = GrpoFixtures.demoData(tmp.resolve("data"), 64);
    Path out = tmp.resolve("out");
    Path grpo = Files.writeString(tmp.resolve("grpo.yaml"), String.join("\n",
        "model_name_or_path: " + model, "dataset_name: " + data, "dataset_prompt_column: problem",
        "output_dir: " + out, "learning_rate: 1.0e-3", "num_train_epochs: 50", "per_device_train_batch_size: 8",
        "num_generations: 4", "max_prompt_length: 64", "max_completion_length: 8", "beta: 0.0", "save_strategy: 'no'",
        "reward_funcs: [format]", ""));
    Path sft = Files.writeString(tmp.resolve("sft.yaml"), String.join("\n",
        "model_name_or_path: " + model, "dataset_name: " + data, "output_dir: " + out, "learning_rate: 1.0e-3",
        "max_steps: 100000", "per_device_train_batch_size: 2", "max_length: 64", "save_strategy: 'no'",
        "eval_after_stage: false", ""));
    // the second commands: the same output folder, a few steps (should the lock not stop them, they end soon)
    Path grpo2 = Files.writeString(tmp.resolve("grpo-2.yaml"), Files.readString(grpo) + "max_steps: 2\n");
    Path sft2 = Files.writeString(tmp.resolve("sft-2.yaml"), Files.readString(sft).replace("max_steps: 100000", "max_steps: 2"));

    for (Path holderRecipe : List.of(grpo, sft)) {
      String holderCmd = holderRecipe == grpo ? "grpo" : "sft";
      deleteTree(out); // each holder starts on a fresh folder
      ChildJvm holder = ChildJvm.r1(tmp.resolve("holder-" + holderCmd + ".log"), List.of(), holderCmd,
          holderRecipe.toString());
      try {
        // the holder is training once metrics.jsonl exists
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (!Files.exists(out.resolve("metrics.jsonl"))) {
          assertTrue(System.nanoTime() < deadline && holder.isAlive(), () -> "r1 " + holderCmd + " started:\n" + holder.log());
          Thread.sleep(50);
        }
        List<String> before = listing(out);
        for (Path second : List.of(sft2, grpo2)) {
          String cmd = second == grpo2 ? "grpo" : "sft";
          StringWriter err = new StringWriter();
          CommandLine cl = R1.commandLine();
          cl.setErr(new PrintWriter(err, true));
          assertEquals(2, cl.execute(cmd, second.toString()), "r1 " + cmd + " beside r1 " + holderCmd + ": " + err);
          assertTrue(err.toString().contains("run folder is in use by another r1 process (pid " + holder.pid() + " "),
              err.toString());
        }
        assertEquals(before, listing(out), "the refused commands wrote nothing new");
        assertTrue(lockText(out).startsWith("pid " + holder.pid() + " "), "the holder's lock: " + lockText(out));
        assertTrue(holder.isAlive(), "the holder kept training:\n" + holder.log());
        // and as processes: the exit status of a real second r1 (a learner member with --recipe beside r1 grpo,
        // r1 grpo beside r1 sft); without the lock either would go on (joining, training) and time out here
        try (ChildJvm second = holderRecipe == grpo
            ? ChildJvm.r1(tmp.resolve("second-member.log"), List.of(), "member", "--roles", "learner", "--seed",
                "127.0.0.1:1", "--recipe", grpo2.toString())
            : ChildJvm.r1(tmp.resolve("second-grpo.log"), List.of(), "grpo", grpo2.toString())) {
          assertEquals(2, second.waitFor(Duration.ofSeconds(90)), second.log());
          assertTrue(second.log().contains("error: ") && second.log().contains("run folder is in use by another r1"
              + " process (pid " + holder.pid() + " "), second.log());
        }
      } finally {
        holder.close(); // SIGKILL
      }
    }
  }

  private static String lockText(Path out) throws java.io.IOException {
    Path f = out.resolve(RunFolderLock.FILE);
    return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
  }

  /**
   * The folder's entries, less what the holder itself goes on writing while it trains (its step
   * records and checkpoints appear whenever its steps end, also between two listings).
   */
  private static List<String> listing(Path dir) throws java.io.IOException {
    try (var s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString())
          .filter(n -> !n.equals("steps.jsonl") && !n.startsWith("checkpoint-") && !n.startsWith(".checkpoint-"))
          .sorted().toList();
    }
  }

  private static void deleteTree(Path dir) throws java.io.IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
