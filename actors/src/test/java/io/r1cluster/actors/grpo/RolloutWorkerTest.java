package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RolloutWorker} alone: how many requests it hands the node's engine at once, what it replies,
 * and that a request it cannot serve comes back as a typed {@link RolloutWorker.GenerateFailed}.
 * The engine is a {@link Gate}: the test sees each submitted request and decides when and how it
 * finishes (the batched engine itself is tested in {@code RolloutBatchingTest}).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RolloutWorkerTest {
  ActorTestKit kit;

  /** The node's engine seen from the entity: every submit is queued for the test to complete. */
  static final class Gate implements RolloutBackend {
    record Submitted(Prompt prompt, long seed, long minVersion, CompletableFuture<Group> result) {}

    final LinkedBlockingQueue<Submitted> submitted = new LinkedBlockingQueue<>();
    final boolean batched;

    Gate(boolean batched) {
      this.batched = batched;
    }

    @Override
    public Group generate(Prompt prompt, long seed, long minVersion, Duration wait) {
      throw new UnsupportedOperationException("entities submit, they never block a thread on generate");
    }

    @Override
    public CompletableFuture<Group> submit(Prompt prompt, long seed, long minVersion, Duration wait, Executor slots) {
      CompletableFuture<Group> f = new CompletableFuture<>();
      submitted.add(new Submitted(prompt, seed, minVersion, f));
      return f;
    }

    @Override
    public boolean batched() {
      return batched;
    }

    Submitted next() throws InterruptedException {
      Submitted s = submitted.poll(10, TimeUnit.SECONDS);
      assertTrue(s != null, "a request reached the engine");
      return s;
    }

    void nothingMore() throws InterruptedException {
      assertNull(submitted.poll(300, TimeUnit.MILLISECONDS), "no further request reached the engine");
    }

    @Override
    public void close() {}
  }

  ActorRef<RolloutWorker.Command> worker(String maxInFlight, Gate gate) {
    kit = ActorTestKit.create("rollout-worker", ConfigFactory.parseString(
        "r1.grpo.rollout.max-in-flight = " + maxInFlight).withFallback(ConfigFactory.load()));
    NodeResources res = NodeResources.get(kit.system());
    res.useSlots(1);
    res.rollout().complete(gate);
    return kit.spawn(RolloutWorker.create("rollout-3", GrpoActorSettings.fromConfig(kit.system().settings().config())));
  }

  @AfterEach
  void stop() {
    if (kit != null) {
      kit.shutdownTestKit();
    }
  }

  static Prompt prompt(int i) {
    return Prompt.ofProblem("p" + i, i + "+1", Integer.toString(i + 1));
  }

  static Group groupOf(Prompt p, long version) {
    Completion c = new Completion(new int[] {7}, new float[] {-0.5f}, "x", FinishReason.STOP, version);
    return new Group(p, new int[] {1}, List.of(c, c), version);
  }

  @Test
  void runsAtMostMaxInFlightAndStartsTheNextWhenOneFinishes() throws Exception {
    Gate gate = new Gate(true); // batched, but max-in-flight = 2 caps it
    ActorRef<RolloutWorker.Command> w = worker("2", gate);
    TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
    for (int i = 0; i < 3; i++) {
      w.tell(new RolloutWorker.Generate(100 + i, "run", prompt(i), 40 + i, 5, probe.ref()));
    }
    Gate.Submitted a = gate.next();
    Gate.Submitted b = gate.next();
    gate.nothingMore();
    assertEquals("p0", a.prompt().id());
    assertEquals(40, a.seed());
    assertEquals(5, a.minVersion(), "the oldest acceptable version reaches the engine");
    assertEquals("p1", b.prompt().id());
    probe.expectNoMessage(Duration.ofMillis(100));

    Group g1 = groupOf(b.prompt(), 6);
    b.result().complete(g1);
    RolloutWorker.Generated r1 = assertInstanceOf(RolloutWorker.Generated.class, probe.receiveMessage());
    assertEquals(101, r1.dispatchId());
    assertSame(g1, r1.group());
    assertTrue(r1.generateNanos() >= 0);
    Gate.Submitted c = gate.next(); // the waiting request starts once one finished
    assertEquals("p2", c.prompt().id());

    a.result().complete(groupOf(a.prompt(), 5));
    c.result().complete(groupOf(c.prompt(), 6));
    List<Long> ids = List.of(probe.receiveMessage().dispatchId(), probe.receiveMessage().dispatchId());
    assertTrue(ids.containsAll(List.of(100L, 102L)), ids.toString());
  }

  @Test
  void aBatchedEngineGetsEveryRequestAtOnce() throws Exception {
    Gate gate = new Gate(true);
    ActorRef<RolloutWorker.Command> w = worker("0", gate);
    TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
    for (int i = 0; i < 5; i++) {
      w.tell(new RolloutWorker.Generate(i, "run", prompt(i), i, 0, probe.ref()));
    }
    for (int i = 0; i < 5; i++) {
      gate.next();
    }
  }

  @Test
  void anUnbatchedEngineGetsOneRequestPerSlot() throws Exception {
    Gate gate = new Gate(false);
    ActorRef<RolloutWorker.Command> w = worker("0", gate); // one slot
    TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
    w.tell(new RolloutWorker.Generate(1, "run", prompt(1), 1, 0, probe.ref()));
    w.tell(new RolloutWorker.Generate(2, "run", prompt(2), 2, 0, probe.ref()));
    Gate.Submitted first = gate.next();
    gate.nothingMore();
    first.result().complete(groupOf(first.prompt(), 0));
    assertEquals(1, probe.receiveMessage().dispatchId());
    gate.next();
  }

  @Test
  void anEngineErrorIsATypedFailureNamingTheEntity() throws Exception {
    Gate gate = new Gate(true);
    ActorRef<RolloutWorker.Command> w = worker("1", gate);
    TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
    w.tell(new RolloutWorker.Generate(8, "run", prompt(8), 1, 3, probe.ref()));
    w.tell(new RolloutWorker.Generate(9, "run", prompt(9), 1, 3, probe.ref()));
    gate.next().result().completeExceptionally(new java.util.concurrent.TimeoutException("no weights v3 within 1s"));
    RolloutWorker.GenerateFailed f = assertInstanceOf(RolloutWorker.GenerateFailed.class, probe.receiveMessage());
    assertEquals(8, f.dispatchId());
    assertTrue(f.reason().startsWith("rollout-3: ") && f.reason().contains("no weights v3 within 1s"), f.reason());
    Gate.Submitted next = gate.next(); // the failure freed the slot
    assertEquals("p9", next.prompt().id());
  }

  @Test
  void aNodeServingAnotherRunRefusesInsteadOfAnsweringWithOtherWeights() throws Exception {
    Gate gate = new Gate(true);
    ActorRef<RolloutWorker.Command> w = worker("0", gate);
    NodeResources.get(kit.system()).serve("run-b");
    TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
    w.tell(new RolloutWorker.Generate(4, "run-a", prompt(4), 1, 0, probe.ref()));
    RolloutWorker.GenerateFailed f = assertInstanceOf(RolloutWorker.GenerateFailed.class, probe.receiveMessage());
    assertEquals(4, f.dispatchId());
    assertTrue(f.reason().contains("serves run run-b, not run-a"), f.reason());
    gate.nothingMore();
    w.tell(new RolloutWorker.Generate(5, "run-b", prompt(5), 1, 0, probe.ref()));
    gate.next().result().complete(groupOf(prompt(5), 0));
    assertInstanceOf(RolloutWorker.Generated.class, probe.receiveMessage());
  }

  @Test
  void whenStoppedEveryHeldRequestFailsBackAndALateResultIsDropped() throws Exception {
    Gate gate = new Gate(true);
    ActorRef<RolloutWorker.Command> w = worker("1", gate);
    TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
    w.tell(new RolloutWorker.Generate(1, "run", prompt(1), 1, 0, probe.ref())); // generating
    w.tell(new RolloutWorker.Generate(2, "run", prompt(2), 1, 0, probe.ref())); // waiting
    Gate.Submitted running = gate.next();
    // request 2 must have left the mailbox before the stop: the test kit's stop is a system message and
    // overtakes queued messages, which then go to dead letters with no reply (seen once in CI under load).
    // Nothing of the entity shows that it holds request 2, so give it time, asserting that nothing answered yet.
    probe.expectNoMessage(Duration.ofMillis(500));
    kit.stop(w);
    List<RolloutWorker.Reply> replies = List.of(probe.receiveMessage(), probe.receiveMessage());
    for (RolloutWorker.Reply r : replies) {
      assertTrue(assertInstanceOf(RolloutWorker.GenerateFailed.class, r).reason().contains("stopped"), r.toString());
    }
    assertEquals(java.util.Set.of(1L, 2L), java.util.Set.of(replies.get(0).dispatchId(), replies.get(1).dispatchId()));
    running.result().complete(groupOf(prompt(1), 0));
    probe.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void shardingsStopMessageComesAfterTheRequestsQueuedBeforeIt() throws Exception {
    Gate gate = new Gate(true);
    ActorRef<RolloutWorker.Command> w = worker("1", gate);
    GrpoActorSettings settings = GrpoActorSettings.fromConfig(kit.system().settings().config());
    RolloutWorker.Command stop = RolloutWorker.entity(kit.system(), settings).stopMessage()
        .orElseThrow(() -> new AssertionError("the entity has no stop message: the shard would stop it with a system message"));
    TestProbe<RolloutWorker.Reply> probe = kit.createTestProbe();
    // what the shard does on a hand-over: the stop message right behind requests still in the mailbox
    w.tell(new RolloutWorker.Generate(1, "run", prompt(1), 1, 0, probe.ref()));
    w.tell(new RolloutWorker.Generate(2, "run", prompt(2), 1, 0, probe.ref()));
    w.tell(new RolloutWorker.Generate(3, "run", prompt(3), 1, 0, probe.ref()));
    w.tell(stop);
    List<RolloutWorker.Reply> replies = List.of(probe.receiveMessage(), probe.receiveMessage(), probe.receiveMessage());
    for (RolloutWorker.Reply r : replies) {
      assertTrue(assertInstanceOf(RolloutWorker.GenerateFailed.class, r).reason().contains("stopped"), r.toString());
    }
    assertEquals(java.util.Set.of(1L, 2L, 3L), replies.stream().map(RolloutWorker.Reply::dispatchId).collect(java.util.stream.Collectors.toSet()));
    probe.expectTerminated(w, Duration.ofSeconds(5));
  }

  @Test
  void whileItHoldsARequestTheEntityReportsItAndStopsWhenItHoldsNone() throws Exception {
    Gate gate = new Gate(true);
    ActorRef<RolloutWorker.Command> w = worker("1", gate);
    TestProbe<RolloutWorker.Reply> replies = kit.createTestProbe();
    TestProbe<RolloutWorker.Working> progress = kit.createTestProbe();
    w.tell(new RolloutWorker.Generate(1, "run", prompt(1), 1, 0, replies.ref(), progress.ref(), 100)); // generating
    w.tell(new RolloutWorker.Generate(2, "run", prompt(2), 1, 0, replies.ref(), progress.ref(), 100)); // waiting
    Gate.Submitted first = gate.next();
    for (int i = 0; i < 3; i++) {
      assertEquals(java.util.Set.of(1L, 2L), ids(progress.receiveMessage(Duration.ofSeconds(2))));
    }
    first.result().complete(groupOf(prompt(1), 0));
    assertEquals(1, replies.receiveMessage().dispatchId());
    Gate.Submitted second = gate.next();
    progress.fishForMessage(Duration.ofSeconds(2), m -> ids(m).equals(java.util.Set.of(2L))
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    second.result().complete(groupOf(prompt(2), 0));
    assertEquals(2, replies.receiveMessage().dispatchId());
    // a report sent before the entity saw the result may still come (naming request 2 only); then none
    RolloutWorker.Working late = null;
    try {
      late = progress.receiveMessage(Duration.ofMillis(300));
    } catch (AssertionError none) {
      // no report was on its way
    }
    if (late != null) {
      assertEquals(java.util.Set.of(2L), ids(late));
    }
    progress.expectNoMessage(Duration.ofMillis(400));
  }

  /**
   * The asker stops (its learner failed over, its run ended): the requests it asked are dropped at
   * once, the running one cancelled in the engine, the waiting one never started, while another
   * asker's request starts in the freed place.
   */
  @Test
  void theRequestsOfAStoppedAskerAreDroppedAndTheirPlaceFreed() throws Exception {
    Gate gate = new Gate(false); // one slot: one request runs, the others wait
    ActorRef<RolloutWorker.Command> w = worker("1", gate);
    TestProbe<RolloutWorker.Reply> replies = kit.createTestProbe();
    TestProbe<RolloutWorker.Working> gone = kit.createTestProbe();
    TestProbe<RolloutWorker.Working> other = kit.createTestProbe();
    w.tell(new RolloutWorker.Generate(1, "run", prompt(1), 1, 0, replies.ref(), gone.ref(), 60_000)); // running
    w.tell(new RolloutWorker.Generate(2, "run", prompt(2), 1, 0, replies.ref(), gone.ref(), 60_000)); // waiting
    w.tell(new RolloutWorker.Generate(3, "run", prompt(3), 1, 0, replies.ref(), other.ref(), 60_000)); // waiting
    Gate.Submitted first = gate.next();
    assertEquals(prompt(1), first.prompt());
    gate.nothingMore();
    gone.stop();
    Gate.Submitted third = gate.next();
    assertEquals(prompt(3), third.prompt(), "the other asker's request takes the freed place, not request 2");
    assertTrue(first.result().isCancelled(), "the stopped asker's running request is cancelled in the engine");
    gate.nothingMore();
    third.result().complete(groupOf(prompt(3), 0));
    assertEquals(3, replies.receiveMessage().dispatchId());
    replies.expectNoMessage(Duration.ofMillis(300));
  }

  private static java.util.Set<Long> ids(RolloutWorker.Working w) {
    return java.util.Arrays.stream(w.dispatchIds()).boxed().collect(java.util.stream.Collectors.toSet());
  }
}
