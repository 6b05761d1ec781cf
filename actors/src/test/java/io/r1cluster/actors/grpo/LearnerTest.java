package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.ScoredGroup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Learner} alone, on a real job (tiny model, real {@link io.r1cluster.core.grpo.GrpoLearner},
 * weights published over Aeron IPC): the test plays its dispatcher (it sends
 * {@link PromptDispatcher.Batch}es as the dispatcher's replies) and a {@link TestProbe} registered as
 * a {@link NodeAgent} sees what the nodes are told. Its own dispatcher child runs, but on a node that
 * never joins a cluster it gets no groups. Observed: agent messages, step reports, metrics.jsonl,
 * checkpoint folders, the final save and the job's outcome.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LearnerTest {
  static ActorTestKit kit;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("learner", ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.enabled = off
        pekko.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 1s
        r1.grpo.dispatch-timeout = 60s
        """).withFallback(ConfigFactory.load()));
    RolloutWorker.init(kit.system(), GrpoActorSettings.fromConfig(kit.system().settings().config()));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  @TempDir Path tmp;
  GrpoJob job;
  final LinkedBlockingQueue<GrpoJob.StepReport> reports = new LinkedBlockingQueue<>();
  final TestProbe<NodeAgent.Command> agent = kit.createTestProbe();

  @AfterEach
  void close() {
    if (job != null) {
      job.close();
    }
  }

  /** A job over 8 demo prompts, 2 per step, and a learner for it; returns once the agent was asked to join. */
  ActorRef<Learner.Command> learner(String extra) throws Exception {
    Path recipe = GrpoFixtures.recipe(tmp, GrpoFixtures.tinyModel(tmp.resolve("model")),
        GrpoFixtures.demoData(tmp.resolve("data"), 8), 0, 2, 1, extra);
    job = GrpoJob.prepare(recipe, kit.system().settings().config(), "127.0.0.1");
    job.onStep(reports::add);
    kit.system().receptionist().tell(Receptionist.register(NodeAgent.KEY, agent.ref()));
    ActorRef<Learner.Command> l = kit.spawn(Learner.create(job, GrpoActorSettings.fromConfig(
        kit.system().settings().config()), System.out));
    NodeAgent.Join join = (NodeAgent.Join) agent.fishForMessage(Duration.ofSeconds(30),
        m -> m instanceof NodeAgent.Join ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore()).get(0);
    assertEquals(job.runId, join.spec().runId());
    return l;
  }

  /** The dispatcher's reply: the groups of {@code keys}, 4 completions each, rewards 1 0 1 0, from {@code version}. */
  PromptDispatcher.Batch batch(long version, int tokenId, long... keys) {
    List<ScoredGroup> groups = new ArrayList<>();
    for (long k : keys) {
      List<Completion> cs = new ArrayList<>();
      float[][] rewards = new float[4][];
      float[] totals = new float[4];
      for (int i = 0; i < 4; i++) {
        cs.add(new Completion(new int[] {tokenId, tokenId + 1 + i, tokenId + 2}, new float[] {-2f, -2f, -2f},
            "c", FinishReason.STOP, version));
        totals[i] = i % 2 == 0 ? 1f : 0f;
        rewards[i] = new float[] {totals[i], 0f};
      }
      Group g = new Group(job.prompts.get((int) k), new int[] {3, 4, 5}, cs, version);
      groups.add(new ScoredGroup(g, List.of("format", "tag_count"), rewards, totals));
    }
    int n = keys.length;
    PromptLedger.Counters c = new PromptLedger.Counters(8, n, n, 0, 0, 0, n, 0, 0, 0, 0, 2);
    return new PromptDispatcher.Batch(groups, false, c, 12L * n, 0.1, null, keys, new long[0]);
  }

  GrpoJob.StepReport report() throws InterruptedException {
    GrpoJob.StepReport r = reports.poll(60, TimeUnit.SECONDS);
    assertNotNull(r, "a step was reported");
    return r;
  }

  void announced(long version) {
    agent.fishForMessage(Duration.ofSeconds(30), m -> {
      if (m instanceof NodeAgent.WeightsAnnounced a) {
        assertEquals(job.runId, a.runId());
        assertTrue(a.version() <= version, "announced " + a.version() + " before " + version);
        return a.version() == version ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore();
      }
      return FishingOutcomes.continueAndIgnore();
    });
  }

  @Test
  void trainsEachBatchAnnouncesTheVersionCheckpointsAndSavesAtMaxSteps() throws Exception {
    ActorRef<Learner.Command> l = learner("max_steps: 2\nsave_steps: 1");
    l.tell(batch(0, 6, 0, 1));
    GrpoJob.StepReport r1 = report();
    assertEquals(1, r1.step());
    assertEquals(1, r1.version());
    assertEquals(List.of(0L, 1L), java.util.Arrays.stream(r1.trainedKeys()).boxed().toList());
    assertTrue(r1.metrics().containsKey("loss") && r1.metrics().containsKey("weights/version"), r1.metrics().toString());
    announced(1);
    Path ckpt = job.outputDir.resolve("checkpoint-1");
    agent.awaitAssert(Duration.ofSeconds(30), () -> {
      assertTrue(Files.isRegularFile(ckpt.resolve("trainer_state.json")), "checkpoint-1 written between steps");
      return null;
    });
    assertEquals(1, Files.readAllLines(job.outputDir.resolve("metrics.jsonl")).size());

    l.tell(batch(1, 9, 2, 3));
    GrpoJob.StepReport r2 = report();
    assertEquals(2, r2.step());
    assertEquals(2, r2.version());
    announced(2); // the last step's weights are always published
    GrpoJob.RunResult done = job.done().get(60, TimeUnit.SECONDS); // max_steps: no further TakeBatch answered
    assertTrue(done.completed());
    assertEquals(2, done.steps());
    assertEquals(2, done.version());
    assertEquals(-1, done.stopReceivedAfter());
    assertTrue(Files.isRegularFile(job.outputDir.resolve("model.safetensors")), "the final save");
    assertTrue(Files.isRegularFile(job.outputDir.resolve("trainer_state.json")));
    assertFalse(Files.exists(job.outputDir.resolve("checkpoint-2")), "no checkpoint at the last step: the final save");
    assertEquals(2, Files.readAllLines(job.outputDir.resolve("metrics.jsonl")).size());
  }

  /** A node that missed an announcement learns of the version anyway: the learner repeats it every second. */
  @Test
  void thePublishedVersionIsAnnouncedAgainEverySecond() throws Exception {
    ActorRef<Learner.Command> l = learner("max_steps: 3");
    l.tell(batch(0, 6, 0, 1));
    assertEquals(1, report().version());
    announced(1);
    long t0 = System.nanoTime();
    for (int i = 0; i < 2; i++) {
      NodeAgent.WeightsAnnounced again = (NodeAgent.WeightsAnnounced) agent.fishForMessage(Duration.ofSeconds(5),
          m -> m instanceof NodeAgent.WeightsAnnounced ? FishingOutcomes.complete() : FishingOutcomes.continueAndIgnore()).get(0);
      assertEquals(1, again.version());
    }
    long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
    assertTrue(ms >= 900 && ms < 5000, "two repeats in " + ms + " ms");
    l.tell(Learner.Stop.INSTANCE);
    job.done().get(60, TimeUnit.SECONDS);
  }

  @Test
  void stopEndsTheRunAfterTheStepInFlightWithoutTheFinalSave() throws Exception {
    ActorRef<Learner.Command> l = learner("");
    l.tell(batch(0, 6, 0, 1));
    l.tell(Learner.Stop.INSTANCE); // while the step runs
    GrpoJob.RunResult r = job.done().get(60, TimeUnit.SECONDS);
    assertFalse(r.completed());
    assertEquals(0, r.stopReceivedAfter(), "Stop came before the first step finished");
    assertEquals(1, r.steps(), "the step in flight finished");
    assertEquals(1, report().step());
    assertFalse(Files.exists(job.outputDir.resolve("model.safetensors")), "no final save");
    l.tell(batch(1, 6, 2, 3)); // stopped: nothing more is trained
    assertTrue(reports.poll(500, TimeUnit.MILLISECONDS) == null);
  }

  @Test
  void aFailingStepFailsTheRunAndSavesNothing() throws Exception {
    ActorRef<Learner.Command> l = learner("save_steps: 1");
    l.tell(batch(0, 1_000_000, 0, 1)); // token ids outside the vocabulary: the step throws
    ExecutionException e = assertThrows(ExecutionException.class, () -> job.done().get(60, TimeUnit.SECONDS));
    assertNotNull(e.getCause());
    assertTrue(reports.isEmpty(), "a failed step is not reported");
    assertFalse(Files.exists(job.outputDir.resolve("checkpoint-1")));
    assertFalse(Files.exists(job.outputDir.resolve("model.safetensors")));
    TestProbe<Object> watcher = kit.createTestProbe();
    watcher.expectTerminated(l, Duration.ofSeconds(10));
  }
}
