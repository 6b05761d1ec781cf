package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.train.RunFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The actor learner's checkpoint-N and resume, in one JVM: a run is cut off (its ActorSystem
 * terminated, no final save) after a checkpoint, and a new ActorSystem on the same output folder
 * finishes it. The weights differ from an uninterrupted run (rollouts are asynchronous), but the
 * accounting does not: the same number of steps, every (epoch, prompt) trained exactly once by the
 * weights that reach the end, and each step logged once. Also: {@link Learner.Stop} ends a run
 * without the final save, and a diverged run (non-finite weights) fails without a checkpoint.
 */
class GrpoResumeTest {
  @TempDir Path tmp;
  private final List<ActorTestKit> kits = new ArrayList<>();

  @AfterEach
  void stop() {
    kits.forEach(ActorTestKit::shutdownTestKit);
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void aRunCutOffAfterACheckpointResumesAndTrainsEveryPromptOncePerEpoch() throws Exception {
    // 8 prompts x 2 epochs, 1 per step: 16 steps, checkpoint every 2
    Path recipe = GrpoFixtures.recipe(tmp, GrpoFixtures.tinyModel(tmp.resolve("model")),
        GrpoFixtures.demoData(tmp.resolve("data"), 8), 1, 1, 2, "save_steps: 2");
    Path out = tmp.resolve("out");

    ActorTestKit first = kit();
    GrpoJob j1 = GrpoFixtures.startAlone(first.system(), recipe, r -> {
      if (r.step() == 7) {
        // checkpoint-4 and -6 were queued on the learner thread before steps 5 and 7: they are written
        first.system().terminate(); // cut off: no stop, no final save
      }
    });
    try {
      first.system().getWhenTerminated().toCompletableFuture().get(120, TimeUnit.SECONDS);
      ExecutionException e = assertThrows(ExecutionException.class, () -> j1.done().get(60, TimeUnit.SECONDS));
      assertTrue(e.getCause().getMessage().contains("the learner stopped"), e.getCause().toString());
    } finally {
      j1.close();
    }
    assertFalse(Files.exists(out.resolve("model.safetensors")), "the cut-off run saved no final model");
    Path ckpt = RunFolder.latestCheckpoint(out);
    assertNotNull(ckpt, "a checkpoint-N before the cut");
    JsonNode st = new ObjectMapper().readTree(ckpt.resolve(RunFolder.STATE_FILE).toFile());
    int k = st.get("global_step").asInt();
    assertTrue(k == 6 || k == 8, "latest checkpoint " + ckpt);
    assertEquals(k, st.get("policy_version").asInt(), "one version per step");
    assertEquals(k, st.get("ledger").get("trained_keys").size(), "one prompt per step");
    assertTrue(Files.isRegularFile(ckpt.resolve(RunFolder.OPTIMIZER_FILE)));
    assertTrue(Files.isRegularFile(ckpt.resolve("model.safetensors")));

    ActorTestKit second = kit();
    GrpoJob j2 = GrpoFixtures.startAlone(second.system(), recipe, null);
    GrpoJob.RunResult r;
    try {
      assertEquals(ckpt, j2.resumedFrom());
      assertEquals(k, j2.startStep());
      r = j2.done().get(180, TimeUnit.SECONDS);
    } finally {
      j2.close();
    }
    assertTrue(r.completed());
    assertEquals(-1, r.stopReceivedAfter(), "no Stop was sent");
    assertEquals(16, j2.totalSteps());
    assertEquals(16, r.steps(), "the same step count as an uninterrupted run (2 epochs x 8 prompts / 1 per step)");
    assertEquals(16, r.version());
    // exactly once per epoch, counted from the learners' step reports (steps.jsonl, both lifetimes), not the ledger
    List<String> runs = StepReports.runs(out);
    assertEquals(2, runs.size(), "two learner lifetimes: " + runs);
    var history = StepReports.effective(out);
    for (int s = 1; s <= 16; s++) {
      assertEquals(runs.get(s <= k ? 0 : 1), history.get(s).get("run").asText(),
          "step " + s + " of the final weights: run 1 up to its checkpoint-" + k + ", then run 2");
    }
    StepReports.assertEachPromptTrained(out, StepReports.promptIds(io.r1cluster.core.recipe.Recipe.load(recipe).settings()),
        2, 16);
    List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
    assertEquals(16, lines.size(), "each step logged once (run 1's lines after its checkpoint are dropped)");
    for (int i = 0; i < 16; i++) {
      JsonNode m = new ObjectMapper().readTree(lines.get(i));
      assertEquals(i + 1, m.get("step").asInt());
    }
    for (String f : List.of("model.safetensors", "config.json", "tokenizer.json", "generation_config.json",
        "plots/reward.png")) {
      assertTrue(Files.isRegularFile(out.resolve(f)), f);
    }
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void stopEndsTheRunAfterTheStepInFlightWithoutTheFinalSave() throws Exception {
    Path recipe = GrpoFixtures.recipe(tmp, GrpoFixtures.tinyModel(tmp.resolve("model")),
        GrpoFixtures.demoData(tmp.resolve("data"), 8), 1, 1, 2, "save_steps: 2");
    ActorTestKit k = kit();
    Cluster c = Cluster.get(k.system());
    c.manager().tell(Join.create(c.selfMember().address()));
    GrpoJob job = GrpoJob.prepare(recipe, k.system().settings().config(), "127.0.0.1");
    GrpoNode.start(k.system());
    // the learner as a pipeline stage starts it (a plain actor, as ActorGrpoStage does: no singleton proxy), so Stop is
    // queued on the learner's own mailbox while step 3 is reported, not buffered until a proxy finds the
    // singleton (CI once saw that take longer than the remaining 13 steps)
    AtomicReference<ActorRef<Learner.Command>> learner = new AtomicReference<>();
    job.onStep(r -> {
      if (r.step() == 3) {
        learner.get().tell(Learner.Stop.INSTANCE); // what a cancelled pipeline stage sends
      }
    });
    learner.set(GrpoNode.startLocalLearner(k.system(), job, System.out, "stopped-learner"));
    GrpoJob.RunResult r;
    try {
      r = job.done().get(100, TimeUnit.SECONDS);
    } finally {
      job.close();
    }
    assertFalse(r.completed());
    int at = r.stopReceivedAfter();
    assertEquals(3, at, "Stop is queued while step 3 is reported, before step 4 can end");
    assertTrue(r.steps() == at || r.steps() == at + 1,
        "the step in flight when Stop arrived (after step " + at + ") ends, no more: " + r.steps());
    Path out = r.outputDir();
    assertFalse(Files.exists(out.resolve("model.safetensors")), "no final save");
    assertEquals(r.steps(), Files.readAllLines(out.resolve("metrics.jsonl")).size());
    assertEquals(out.resolve("checkpoint-" + r.steps() / 2 * 2), RunFolder.latestCheckpoint(out),
        "the run resumes from its last checkpoint");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aDivergedRunFailsWithoutWritingACheckpoint() throws Exception {
    // a learning rate beyond float range turns the first update into inf/NaN weights
    Path recipe = GrpoFixtures.recipe(tmp, GrpoFixtures.tinyModel(tmp.resolve("model")),
        GrpoFixtures.demoData(tmp.resolve("data"), 8), 1, 1, 1, "save_steps: 1");
    Files.writeString(recipe, Files.readString(recipe).replace("learning_rate: 1.0e-3", "learning_rate: 1.0e+39"));
    ActorTestKit k = kit();
    GrpoJob job = GrpoFixtures.startAlone(k.system(), recipe, null);
    ExecutionException e;
    try {
      e = assertThrows(ExecutionException.class, () -> job.done().get(100, TimeUnit.SECONDS));
    } finally {
      job.close();
    }
    assertTrue(e.getCause().getMessage().contains("is not finite after step 1"), e.getCause().toString());
    Path out = tmp.resolve("out");
    try (var files = Files.list(out)) {
      List<String> names = files.map(f -> f.getFileName().toString()).toList();
      assertTrue(names.stream().noneMatch(n -> n.startsWith("checkpoint")), "no checkpoint, not even a partial one: " + names);
      assertFalse(names.contains("model.safetensors"), names.toString());
    }
  }

  private ActorTestKit kit() {
    ActorTestKit k = ActorTestKit.create("r1", GrpoFixtures.node(GrpoFixtures.ALL_ROLES, """
        pekko.coordinated-shutdown.run-by-actor-system-terminate = off
        """));
    kits.add(k);
    return k;
  }
}
