package io.r1cluster.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.recipe.Recipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kill -9} of a real JVM in the middle of a GRPO stage (the other resume tests stop a stage
 * in-process): the pipeline runs in a child JVM, which is killed with SIGKILL as soon as the stage's
 * {@code checkpoint-2} appears; running the pipeline again resumes from the last whole checkpoint
 * and ends with the steps, rewards and bit-identical weights of an uninterrupted run.
 */
class PipelineKillTest {

  /** The child JVM: runs the pipeline of {@code args[0]} in the run folder {@code args[1]}. */
  public static final class Child {
    public static void main(String[] args) {
      new Pipeline(Recipe.load(Path.of(args[0])), Path.of(args[1]), System.out).run();
    }
  }

  @Test
  void aPipelineKilledWithSigkillMidGrpoResumesToTheUninterruptedResult(@TempDir Path dir) throws Exception {
    Path data = PipelineTest.data(dir);
    Path r = PipelineTest.recipe(dir, data, 8, false, "");
    Path a = dir.resolve("run-a");
    new Pipeline(Recipe.load(r), a, PipelineTest.QUIET).run();

    Path b = dir.resolve("run-b");
    Path childLog = dir.resolve("child.log");
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new java.util.ArrayList<>(List.of(java, "-Dai.djl.offline=true", "-Dai.djl.pytorch.num_threads=1",
        "-Dai.djl.pytorch.num_interop_threads=1", "-Xmx2g"));
    cmd.addAll(io.r1cluster.core.ChildJvmFlags.inherited()); // module flags and r1.* settings of this JVM
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Child.class.getName(), r.toString(), b.toString()));
    Process child = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(childLog.toFile()).start();
    Path ckpt = b.resolve("grpo").resolve("checkpoint-2");
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      while (!Files.isDirectory(ckpt) && child.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(Files.isDirectory(ckpt), "the child reached grpo/checkpoint-2; its log:\n" + log(childLog));
    } finally {
      child.destroyForcibly(); // SIGKILL: no shutdown hooks, no final save
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    }
    assertEquals(137, child.exitValue(), "killed by SIGKILL, not finished; its log:\n" + log(childLog));
    assertEquals("running", new Pipeline(Recipe.load(r), b, PipelineTest.QUIET).readState().get("grpo").status());
    assertFalse(Files.exists(b.resolve("grpo").resolve("model.safetensors")), "no final save");
    // what a kill in the middle of writing checkpoint-4 leaves behind (a dead process's temp folder)
    Path half = b.resolve("grpo").resolve(".checkpoint-4.tmp-999999999-1");
    Files.createDirectories(half);
    Files.writeString(half.resolve("model.safetensors"), "half");

    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Pipeline.StageState> sb = new Pipeline(Recipe.load(r), b, new PrintStream(out, true, StandardCharsets.UTF_8)).run();
    assertTrue(sb.stream().allMatch(s -> s.status().equals("done")));
    String resumed = out.toString(StandardCharsets.UTF_8);
    assertTrue(resumed.contains("stage sft: done"), resumed);
    assertTrue(resumed.contains("resuming from " + b.resolve("grpo").resolve("checkpoint-")), resumed);

    Map<String, double[][]> ma = new Pipeline(Recipe.load(r), a, PipelineTest.QUIET).metrics("grpo");
    Map<String, double[][]> mb = new Pipeline(Recipe.load(r), b, PipelineTest.QUIET).metrics("grpo");
    assertEquals(8, mb.get("reward").length, "every step logged once");
    assertArrayEquals(ma.get("reward"), mb.get("reward"));
    assertArrayEquals(Files.readAllBytes(a.resolve("grpo/model.safetensors")),
        Files.readAllBytes(b.resolve("grpo/model.safetensors")));
    try (Stream<Path> s = Files.list(b.resolve("grpo"))) {
      assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no temporary folders left");
    }
  }

  private static String log(Path p) {
    try {
      return Files.exists(p) ? Files.readString(p) : "(none)";
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }
}
