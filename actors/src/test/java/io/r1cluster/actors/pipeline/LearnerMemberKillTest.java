package io.r1cluster.actors.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.actors.grpo.ChildJvm;
import io.r1cluster.actors.grpo.GrpoFixtures;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.StepReports;
import io.r1cluster.core.recipe.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The learner member is a real OS process and dies by SIGKILL in the middle of a GRPO stage. Two
 * {@code r1 member --roles learner --pipeline RECIPE --run-dir RUN} processes share the run folder;
 * this JVM is the seed, and a second ActorSystem in it the rollout and reward node (joining once both learners are up). A (the oldest learner member) hosts the stage
 * supervisor singleton and the GRPO learner; once the stage's {@code checkpoint-2} is written, A gets
 * SIGKILL (no leaving, no shutdown hook, no final save, its run-folder lock dropped by the kernel).
 * The split-brain resolver downs A, the singleton starts on B, and B resumes the stage from A's last
 * checkpoint. Counted from the learners' step reports ({@code grpo/steps.jsonl}, both lifetimes):
 * every prompt is trained exactly once in the history of the final weights, each step once.
 */
class LearnerMemberKillTest {
  /** GRPO steps of the run (2 prompts each). */
  static final int STEPS = 30;

  @TempDir Path tmp;
  private ActorTestKit s;
  private ActorTestKit r;
  private final List<ChildJvm> children = new CopyOnWriteArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ChildJvm c : children) {
      c.close();
    }
    if (r != null) {
      ActorTestKit.shutdown(r.system(), Duration.ofSeconds(30), false);
    }
    if (s != null) {
      ActorTestKit.shutdown(s.system(), Duration.ofSeconds(30), false); // members may be gone: do not fail on a slow leave
    }
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void theNextLearnerMemberResumesAfterASigkillAndEveryPromptIsTrainedOnce() throws Exception {
    Path model = GrpoFixtures.tinyModel(tmp.resolve("model"));
    Path data = GrpoFixtures.demoData(tmp.resolve("data"), 2 * STEPS);
    // one grpo stage: 2 prompts per step, 1 epoch = STEPS steps, checkpoint every 2; the kill follows checkpoint-2,
    // this node's generation is held the moment it is seen, and the steps after it leave room for a test thread
    // that gets the CPU late on a loaded machine (a CI run with 20 steps once saw A finish before the kill)
    Path recipe = tmp.resolve("pipeline.yaml");
    Files.writeString(recipe, String.join("\n",
        "model_name_or_path: " + model,
        "dataset_name: " + data,
        "dataset_prompt_column: problem",
        "seed: 3",
        "eval_after_stage: false",
        "per_device_train_batch_size: 8",
        "num_generations: 4",
        "max_prompt_length: 64",
        "max_completion_length: 12",
        "save_steps: 2",
        "logging_steps: 1",
        "cluster:",
        "  max_staleness: 1",
        "  prompts_per_step: 2",
        "pipeline:",
        "  - name: grpo",
        "    type: grpo",
        "    learning_rate: 1.0e-3",
        "    lr_scheduler_type: constant",
        "    num_train_epochs: 1",
        "    beta: 0.0",
        "    temperature: 1.0",
        "    reward_funcs: [format, tag_count]",
        ""));
    Path run = tmp.resolve("run");
    String timing = """
        pekko.cluster.failure-detector.acceptable-heartbeat-pause = 4s
        pekko.cluster.split-brain-resolver.stable-after = 3s
        r1.grpo.dispatch-timeout = 8s
        """;
    s = ActorTestKit.create("r1", GrpoFixtures.node("\"seed\"", timing));
    Cluster cs = Cluster.get(s.system());
    cs.manager().tell(Join.create(cs.selfMember().address()));
    String seed = "127.0.0.1:" + cs.selfMember().address().getPort().get();
    GrpoNode.start(s.system());

    ChildJvm a = learner(tmp.resolve("learner-a.log"), seed, recipe, run);
    awaitUp(2, a);
    ChildJvm b = learner(tmp.resolve("learner-b.log"), seed, recipe, run);
    awaitUp(3, b); // A joined first: it is the oldest learner member and hosts the supervisor
    // the rollout and reward roles join only now: until B is up, A's learner has nobody to generate for it
    // (on an idle machine A otherwise ran all its steps while B's JVM was starting)
    r = ActorTestKit.create("r1", GrpoFixtures.node("\"rollout\", \"reward\"", timing));
    Cluster.get(r.system()).manager().tell(Join.create(cs.selfMember().address()));
    GrpoNode.start(r.system());

    Path ckpt = run.resolve("grpo/checkpoint-2");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.isDirectory(ckpt)) {
      if (System.nanoTime() > deadline || !a.isAlive()) {
        throw new AssertionError("A never reached grpo/checkpoint-2:\n" + a.log());
      }
      Thread.sleep(5);
    }
    // hold this node's generation (the only rollout node) between two token steps: A's learner can train
    // at most what is already generated while the kill is under way
    io.r1cluster.core.generate.BatchEngine engine = ((io.r1cluster.actors.grpo.RolloutEngine)
        io.r1cluster.actors.grpo.NodeResources.get(r.system()).rollout().get(30, TimeUnit.SECONDS)).batchEngine(0);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    engine.withModel(mdl -> {
      try {
        return release.await(120, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    int killed;
    try {
      killed = a.kill();
    } finally {
      release.countDown();
    }
    assertEquals(137, killed, "A died of SIGKILL");
    String logA = a.log();
    assertTrue(logA.contains("stage grpo runs on the GRPO actors"), logA);
    assertTrue(!logA.contains("supervisor: pipeline done"), "A was killed before the end:\n" + logA);
    JsonNode afterKill = new ObjectMapper().readTree(run.resolve("state.json").toFile());
    assertEquals("running", stage(afterKill, "grpo").path("status").asText(), "A was killed in the middle of GRPO");
    assertTrue(!Files.exists(run.resolve("grpo/model.safetensors")), "no final save by A");
    int stepsBeforeKill = StepReports.effective(run.resolve("grpo")).lastKey();
    assertTrue(stepsBeforeKill < STEPS, "A was killed mid-stage, after step " + stepsBeforeKill);

    assertTrue(b.awaitLog("supervisor: pipeline done", Duration.ofSeconds(150)), "B finished the run:\n" + b.log());
    String logB = b.log();
    Matcher m = Pattern.compile("resuming from \\S*checkpoint-(\\d+) \\(step (\\d+) of " + STEPS + "\\)").matcher(logB);
    assertTrue(m.find(), "B resumed the stage from A's checkpoint:\n" + logB);
    int k = Integer.parseInt(m.group(1));
    assertTrue(k >= 2 && k <= stepsBeforeKill, "resumed from checkpoint-" + k + ", A reported " + stepsBeforeKill);
    System.out.printf("[kill-test] learner member A (pid %d) SIGKILLed after step %d; B resumed from checkpoint-%d%n",
        a.pid(), stepsBeforeKill, k);
    JsonNode end = new ObjectMapper().readTree(run.resolve("state.json").toFile());
    assertEquals("done", stage(end, "grpo").path("status").asText());
    assertTrue(Files.isRegularFile(run.resolve("grpo/model.safetensors")));

    // exactly once, from the step reports of both learner lifetimes
    Path out = run.resolve("grpo");
    List<String> runs = StepReports.runs(out);
    assertEquals(2, runs.size(), "two learner lifetimes wrote steps.jsonl: " + runs);
    TreeMap<Integer, JsonNode> h = StepReports.effective(out);
    for (int st = 1; st <= STEPS; st++) {
      assertEquals(runs.get(st <= k ? 0 : 1), h.get(st).get("run").asText(),
          "step " + st + " of the final weights: A's up to its checkpoint-" + k + ", then B's");
    }
    StepReports.assertEachPromptTrained(out,
        StepReports.promptIds(Recipe.load(recipe).stages().get(0).settings()), 1, STEPS);
  }

  private ChildJvm learner(Path log, String seed, Path recipe, Path run) throws java.io.IOException {
    ChildJvm c = ChildJvm.r1(log, ChildJvm.MEMBER_PROPS, "member", "--roles",
        "learner", "--pipeline", recipe.toString(), "--run-dir", run.toString(), "--seed", seed);
    children.add(c);
    return c;
  }

  private void awaitUp(int n, ChildJvm watch) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      int up = 0;
      for (var mem : Cluster.get(s.system()).state().getMembers()) {
        if (mem.status() == MemberStatus.up()) {
          up++;
        }
      }
      if (up >= n) {
        return;
      }
      assertTrue(System.nanoTime() < deadline && watch.isAlive(), () -> "cluster did not form:\n" + watch.log());
      Thread.sleep(50);
    }
  }

  private static JsonNode stage(JsonNode state, String name) {
    for (JsonNode st : state.path("stages")) {
      if (st.path("name").asText().equals(name)) {
        return st;
      }
    }
    throw new AssertionError("no stage " + name + " in " + state);
  }
}
