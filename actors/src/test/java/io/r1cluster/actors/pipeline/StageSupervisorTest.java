package io.r1cluster.actors.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.actors.grpo.GrpoFixtures;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.StepReports;
import io.r1cluster.core.pipeline.Pipeline;
import io.r1cluster.core.pipeline.PipelineTest;
import io.r1cluster.core.recipe.Recipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stage supervisor as a cluster singleton over real Artery remoting: S = seed, A and B =
 * learner members sharing one run folder, R = a rollout + reward member. A (the oldest learner)
 * runs the pipeline; its GRPO stage runs on the actors (A's learner, R's rollouts and rewards). A
 * is cut off in the middle of the GRPO stage without leaving the cluster (as a crash would), the
 * split-brain resolver downs it, the singleton starts on B, and B resumes the stage on the actors
 * from A's last checkpoint-N.
 *
 * <p>The result has the accounting of an uninterrupted run: the same steps and the same number of
 * prompts trained, none twice. It does not have the same weights or rewards: the actor path is
 * asynchronous (rollouts run ahead by up to max_staleness versions and are scheduled by the
 * cluster), so bit-identical weights are not asserted any more.
 */
class StageSupervisorTest {
  @TempDir Path tmp;
  private final List<ActorTestKit> kits = new ArrayList<>();

  @AfterEach
  void stop() {
    for (int i = kits.size() - 1; i >= 0; i--) {
      kits.get(i).shutdownTestKit();
    }
  }

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void supervisorMovesToTheNextLearnerWhenItsNodeIsLostAndTheRunEndsAsIfUninterrupted() throws Exception {
    Path recipe = PipelineTest.recipe(tmp, PipelineTest.data(tmp), 10, false, "");

    // reference: the same pipeline, uninterrupted, in this thread
    Path ref = tmp.resolve("ref");
    new Pipeline(Recipe.load(recipe), ref, new PrintStream(new ByteArrayOutputStream())).run();

    ActorTestKit s = start("\"seed\"", "");
    // A can be cut off abruptly: terminating it does not leave the cluster
    ActorTestKit a = start("\"learner\"", """
        pekko.coordinated-shutdown.run-by-actor-system-terminate = off
        pekko.cluster.run-coordinated-shutdown-when-down = off
        """);
    Address seed = Cluster.get(s.system()).selfMember().address();
    Cluster.get(s.system()).manager().tell(Join.create(seed));
    Cluster.get(a.system()).manager().tell(Join.create(seed));
    awaitUp(s.system(), 2);
    ActorTestKit b = start("\"learner\"", "");
    Cluster.get(b.system()).manager().tell(Join.create(seed));
    awaitUp(s.system(), 3);
    ActorTestKit r = start("\"rollout\", \"reward\"", "");
    Cluster.get(r.system()).manager().tell(Join.create(seed));
    awaitUp(s.system(), 4);
    for (ActorTestKit k : List.of(s, a, b, r)) {
      GrpoNode.start(k.system());
    }

    Path run = tmp.resolve("run");
    ByteArrayOutputStream logA = new ByteArrayOutputStream();
    ByteArrayOutputStream logB = new ByteArrayOutputStream();
    StageSupervisor.init(a.system(), recipe, run, new PrintStream(logA, true), Duration.ofSeconds(30));
    ActorRef<StageSupervisor.Command> viaB =
        StageSupervisor.init(b.system(), recipe, run, new PrintStream(logB, true), Duration.ofSeconds(30));
    StageSupervisor.init(s.system(), recipe, run, System.out, Duration.ofSeconds(30)); // proxy only: no learner role

    // A (oldest learner) runs it; wait for the first GRPO checkpoint, then cut A off
    TestProbe<StageSupervisor.Status> probe = b.createTestProbe();
    viaB.tell(new StageSupervisor.GetStatus(probe.getRef()));
    StageSupervisor.Status first = probe.receiveMessage(Duration.ofSeconds(20));
    assertEquals("running", first.phase());
    assertEquals(a.system().address().toString(), first.host(), "the oldest learner member hosts the supervisor");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (!Files.isDirectory(run.resolve("grpo/checkpoint-2"))) {
      assertTrue(System.nanoTime() < deadline, "A never reached the first GRPO checkpoint");
      Thread.sleep(20);
    }
    CompletableFuture.runAsync(() -> a.system().terminate()); // no leaving: the others must notice
    a.system().getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    JsonNode afterCut = new ObjectMapper().readTree(run.resolve("state.json").toFile());
    assertEquals("running", stage(afterCut, "grpo").path("status").asText(), "A was cut off in the middle of GRPO");

    // B takes over and finishes
    StageSupervisor.Status last = null;
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
    while (last == null || !last.phase().equals("done")) {
      assertTrue(System.nanoTime() < deadline, "the run did not finish on B: " + last);
      // asks sent while the proxy still points at A are lost with A: ask again until B answers
      viaB.tell(new StageSupervisor.GetStatus(probe.getRef()));
      try {
        last = probe.receiveMessage(Duration.ofSeconds(2));
      } catch (AssertionError noAnswerYet) {
        continue;
      }
      assertTrue(!last.phase().equals("failed"), last.error());
      Thread.sleep(200);
    }
    assertEquals(b.system().address().toString(), last.host());
    assertTrue(last.table().contains("stage"), last.table());
    String b1 = logB.toString(StandardCharsets.UTF_8);
    assertTrue(b1.contains("stage sft: done"), "B skips the finished stage:\n" + b1);
    assertTrue(b1.contains("resuming from") && b1.contains("grpo/checkpoint-"), "B resumes GRPO from A's checkpoint:\n" + b1);
    String a1 = logA.toString(StandardCharsets.UTF_8);
    assertTrue(a1.contains("stage grpo runs on the GRPO actors"), a1);
    assertTrue(b1.contains("stage grpo runs on the GRPO actors"), b1);

    // the accounting of the uninterrupted run (not its weights: see the class comment)
    Pipeline refP = new Pipeline(Recipe.load(recipe), ref, System.out);
    Pipeline runP = new Pipeline(Recipe.load(recipe), run, System.out);
    Map<String, double[][]> mr = refP.metrics("grpo");
    Map<String, double[][]> mb = runP.metrics("grpo");
    assertEquals(10, mr.get("reward").length);
    assertEquals(10, mb.get("reward").length, "steps 1..10 logged once each (A's lines after its checkpoint dropped)");
    // 10 steps x 1 prompt, none twice: counted from the learners' step reports (A's and B's), not the ledger
    StepReports.assertNoPromptTwice(run.resolve("grpo"), 10, 1);
    // and the same prompts as the uninterrupted run: at max_staleness 0 batches are taken in key order
    assertEquals(StepReports.trainedPromptIds(ref.resolve("grpo")), StepReports.trainedPromptIds(run.resolve("grpo")),
        "the prompts of the uninterrupted run, from its step reports");
    assertEquals(2, StepReports.runs(run.resolve("grpo")).size(), "A's and B's learner wrote step reports");
    assertEquals(10, mb.get("global_step")[9][1]);
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
        "generation_config.json", "plots/reward.png")) {
      assertTrue(Files.isRegularFile(run.resolve("grpo").resolve(f)), "the stage output has " + f);
    }
    JsonNode end = new ObjectMapper().readTree(run.resolve("state.json").toFile());
    for (JsonNode st : end.path("stages")) {
      assertEquals("done", st.path("status").asText(), st.toString());
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

  private ActorTestKit start(String roles, String extra) {
    ActorTestKit k = ActorTestKit.create("r1", GrpoFixtures.node(roles, extra));
    kits.add(k);
    return k;
  }

  static void awaitUp(ActorSystem<?> s, int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      int up = 0;
      for (var m : Cluster.get(s).state().getMembers()) {
        if (m.status() == MemberStatus.up()) {
          up++;
        }
      }
      if (up >= n) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, "cluster did not form");
      Thread.sleep(50);
    }
  }
}
