package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link PromptDispatcher} alone, seen from its two collaborators: a {@link TestProbe} is the
 * learner (it sends {@link PromptDispatcher.TakeBatch} and gets {@link PromptDispatcher.Batch}) and
 * the test plays the stream's sink (it delivers {@link PromptDispatcher.Arrived} outcomes and a probe
 * receives the acks). The dispatcher's own graph runs too, but its asks go to a shard region proxy of
 * a node that never joins a cluster, so nothing comes out of it within the test (dispatch timeout
 * 60 s). Dispatch ids are the ledger's: 1, 2, … for keys 0, 1, … (no shuffle).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class PromptDispatcherTest {
  static ActorTestKit kit;
  static GrpoActorSettings settings;

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("dispatcher", ConfigFactory.parseString("""
        pekko.actor.provider = cluster
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.jmx.enabled = off
        pekko.coordinated-shutdown.phases.cluster-sharding-shutdown-region.timeout = 1s
        r1.grpo.dispatch-timeout = 60s
        """).withFallback(ConfigFactory.load()));
    settings = GrpoActorSettings.fromConfig(kit.system().settings().config());
    RolloutWorker.init(kit.system(), settings); // a proxy: this node has no rollout role
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  static List<Prompt> prompts(int n) {
    List<Prompt> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Prompt.ofProblem("p" + i, i + "+1", Integer.toString(i + 1)));
    }
    return out;
  }

  /** A scored group of two 3-token completions generated at {@code version}, with these totals. */
  static ScoredGroup scored(String promptId, long version, float... totals) {
    List<Completion> cs = new ArrayList<>();
    float[][] rewards = new float[totals.length][];
    for (int i = 0; i < totals.length; i++) {
      cs.add(new Completion(new int[] {4, 5, 6}, new float[] {-1, -1, -1}, "c" + i, FinishReason.STOP, version));
      rewards[i] = new float[] {totals[i]};
    }
    Group g = new Group(Prompt.ofProblem(promptId, "q", "a"), new int[] {1}, cs, version);
    return new ScoredGroup(g, List.of("accuracy"), rewards, totals);
  }

  static GrpoStream.Outcome ok(long dispatchId, long version, float... totals) {
    return new GrpoStream.Outcome(dispatchId, scored("d" + dispatchId, version, totals), 1_000_000, null);
  }

  final TestProbe<Learner.Command> learner = kit.createTestProbe();
  final TestProbe<GrpoStream.Ack> sink = kit.createTestProbe();

  ActorRef<PromptDispatcher.Command> dispatcher(PromptLedger ledger, int pps, int maxStaleness, boolean dynamic) {
    return kit.spawn(PromptDispatcher.create("run", ledger,
        new PromptDispatcher.Plan(pps, maxStaleness, 1, dynamic, 0), settings, 0));
  }

  void arrive(ActorRef<PromptDispatcher.Command> d, GrpoStream.Outcome... outcomes) {
    d.tell(new PromptDispatcher.Arrived(sink.ref(), List.of(outcomes)));
    sink.expectMessage(Duration.ofSeconds(5), GrpoStream.Ack.INSTANCE); // one ack per delivery: the sink may go on
  }

  /** Waits until the dispatcher has filled its budget (its first pump: a TakeBatch or its tick). */
  void filled(ActorRef<PromptDispatcher.Command> d, int budget) {
    kit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(budget, counters(d).dispatched());
      return null;
    });
  }

  PromptLedger.Counters counters(ActorRef<PromptDispatcher.Command> d) {
    TestProbe<PromptLedger.Counters> p = kit.createTestProbe();
    d.tell(new PromptDispatcher.GetCounters(p.ref()));
    return p.receiveMessage(Duration.ofSeconds(5));
  }

  @Test
  void dispatchesUpToTheBudgetAndHandsTheLearnerABatchOnlyWhenItAsks() {
    // 6 prompts, 2 per step, max_staleness 1: budget (1 + 1) x 2 = 4
    ActorRef<PromptDispatcher.Command> d = dispatcher(new PromptLedger(prompts(6), 1, 0, false, 4), 2, 1, false);
    filled(d, 4); // on its tick: no learner has asked yet
    PromptLedger.Counters c0 = counters(d);
    assertEquals(4, c0.dispatched(), "the budget, not all 6 prompts");
    assertEquals(4, c0.inFlight());

    arrive(d, ok(2, 0, 1f, 0f), ok(1, 0, 0f, 1f)); // key 1 before key 0
    learner.expectNoMessage(Duration.ofMillis(200)); // the learner pulls: nothing is pushed
    assertEquals(4, counters(d).dispatched(), "buffered groups still hold the budget");

    d.tell(new PromptDispatcher.TakeBatch(0, learner.ref()));
    PromptDispatcher.Batch b = (PromptDispatcher.Batch) learner.receiveMessage(Duration.ofSeconds(5));
    assertFalse(b.done());
    assertArrayEquals(new long[] {0, 1}, b.trainedKeys(), "in key order, not arrival order");
    assertEquals("d1", b.groups().get(0).group().prompt().id());
    assertEquals("d2", b.groups().get(1).group().prompt().id());
    assertEquals(12, b.completionTokens(), "2 groups x 2 completions x 3 tokens");
    assertEquals(2, b.counters().trained());
    assertEquals(0, b.filteredKeys().length);

    PromptLedger.Counters c1 = counters(d);
    assertEquals(6, c1.dispatched(), "taking the batch freed two places in the budget");
    assertEquals(4, c1.inFlight());

    arrive(d, ok(3, 1, 1f, 0f), ok(4, 1, 1f, 0f));
    learner.expectNoMessage(Duration.ofMillis(200)); // a full batch waits for the next TakeBatch
    d.tell(new PromptDispatcher.TakeBatch(1, learner.ref()));
    PromptDispatcher.Batch b2 = (PromptDispatcher.Batch) learner.receiveMessage(Duration.ofSeconds(5));
    assertArrayEquals(new long[] {2, 3}, b2.trainedKeys());
  }

  @Test
  void waitsForAFullBatchThenReportsTheRunDone() {
    ActorRef<PromptDispatcher.Command> d = dispatcher(new PromptLedger(prompts(2), 1, 0, false, 2), 2, 0, false);
    d.tell(new PromptDispatcher.TakeBatch(0, learner.ref()));
    filled(d, 2);
    arrive(d, ok(1, 0, 1f, 0f));
    learner.expectNoMessage(Duration.ofMillis(200)); // one group of two
    arrive(d, ok(2, 0, 1f, 0f));
    PromptDispatcher.Batch b = (PromptDispatcher.Batch) learner.receiveMessage(Duration.ofSeconds(5));
    assertEquals(2, b.groups().size());
    assertArrayEquals(new int[] {1, 1}, b.trainedCounts(), "the last batch carries each key's train count");

    d.tell(new PromptDispatcher.TakeBatch(1, learner.ref()));
    PromptDispatcher.Batch end = (PromptDispatcher.Batch) learner.receiveMessage(Duration.ofSeconds(5));
    assertTrue(end.done());
    assertTrue(end.groups().isEmpty());
    assertEquals(2, end.counters().trained());
  }

  @Test
  void aGroupTooStaleForTheLearnersVersionIsDroppedAndItsPromptDispatchedAgain() {
    // max_staleness 0, one prompt per step: budget 1
    ActorRef<PromptDispatcher.Command> d = dispatcher(new PromptLedger(prompts(2), 1, 0, false, 1), 1, 0, false);
    d.tell(new PromptDispatcher.TakeBatch(1, learner.ref())); // the learner is at version 1 already
    filled(d, 1);
    arrive(d, ok(1, 0, 1f, 0f)); // key 0, generated by version 0
    learner.expectNoMessage(Duration.ofMillis(200));
    PromptLedger.Counters c = counters(d);
    assertEquals(1, c.droppedStale());
    assertEquals(2, c.dispatched(), "key 0 went out again, as dispatch 2");

    arrive(d, ok(2, 1, 0f, 1f)); // key 0 again, from version 1
    PromptDispatcher.Batch b = (PromptDispatcher.Batch) learner.receiveMessage(Duration.ofSeconds(5));
    assertArrayEquals(new long[] {0}, b.trainedKeys());
    assertEquals(1, b.groups().get(0).group().policyVersion());
    assertEquals(1, b.counters().droppedStale());
  }

  @Test
  void aFailedAttemptIsRetriedOnTheNextTickAndADuplicateIsIgnored() {
    ActorRef<PromptDispatcher.Command> d = dispatcher(new PromptLedger(prompts(2), 1, 0, false, 2), 2, 0, false);
    filled(d, 2);
    arrive(d, GrpoStream.Outcome.failed(1, "rollout-0: engine error"), ok(2, 0, 1f, 0f), ok(2, 0, 1f, 0f));
    PromptLedger.Counters c = counters(d);
    assertEquals(1, c.duplicateIgnored(), "the second reply for dispatch 2");
    assertEquals(1, c.completed());
    // re-dispatched on the dispatcher's next tick (not at once: a node that fails fast would spin)
    TestProbe<PromptLedger.Counters> p = kit.createTestProbe();
    p.awaitAssert(Duration.ofSeconds(5), () -> {
      PromptLedger.Counters now = counters(d);
      assertEquals(1, now.retried());
      assertEquals(3, now.dispatched());
      return null;
    });
    arrive(d, ok(3, 0, 0f, 1f)); // the retry of key 0
    d.tell(new PromptDispatcher.TakeBatch(0, learner.ref()));
    PromptDispatcher.Batch b = (PromptDispatcher.Batch) learner.receiveMessage(Duration.ofSeconds(5));
    assertArrayEquals(new long[] {0, 1}, b.trainedKeys());
    assertEquals("d3", b.groups().get(0).group().prompt().id());
  }

  @Test
  void dynamicSamplingConsumesFlatGroupsWithoutTrainingThem() {
    ActorRef<PromptDispatcher.Command> d = dispatcher(new PromptLedger(prompts(4), 1, 0, false, 4), 2, 1, true);
    d.tell(new PromptDispatcher.TakeBatch(0, learner.ref()));
    filled(d, 4);
    arrive(d, ok(1, 0, 1f, 1f), ok(2, 0, 1f, 0f)); // key 0 flat: no gradient
    learner.expectNoMessage(Duration.ofMillis(200)); // one group to train: wait for a second varied one
    arrive(d, ok(3, 0, 0f, 1f));
    PromptDispatcher.Batch b = (PromptDispatcher.Batch) learner.receiveMessage(Duration.ofSeconds(5));
    assertArrayEquals(new long[] {1, 2}, b.trainedKeys());
    assertArrayEquals(new long[] {0}, b.filteredKeys());
    assertEquals(1, b.counters().filtered());
  }
}
