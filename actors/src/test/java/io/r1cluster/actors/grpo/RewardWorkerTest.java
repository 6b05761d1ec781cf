package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.reward.RewardRegistry;
import io.r1cluster.core.reward.RewardScorer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link RewardWorker} alone (one ActorSystem per test, so each has its own {@link NodeResources}):
 * it joins the pool, scores with the node's real scorer in arrival order, and answers a scorer that
 * could not be built with a typed {@link RewardWorker.ScoreFailed}.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RewardWorkerTest {
  ActorTestKit kit;

  @BeforeEach
  void start() {
    kit = ActorTestKit.create("reward-worker", ConfigFactory.load());
  }

  @AfterEach
  void stop() {
    kit.shutdownTestKit();
  }

  /** The real scorer of the demo recipes: format and tag_count, weights 1 and 0.5. */
  static RewardScorer scorer() {
    return new RewardScorer(RewardRegistry.create(List.of("format", "tag_count"), Map.of()), List.of(1.0, 0.5));
  }

  static Group group(String id, String... texts) {
    Prompt p = new Prompt(id, List.of(new ChatMessage("user", "1+1")), "2", Map.of());
    List<Completion> cs = java.util.Arrays.stream(texts)
        .map(t -> new Completion(new int[] {1, 2}, new float[] {-0.1f, -0.2f}, t, FinishReason.STOP, 3)).toList();
    return new Group(p, new int[] {5, 6}, cs, 3);
  }

  static final String GOOD = "<think>\none plus one\n</think>\n<answer>\n2\n</answer>";

  @Test
  void joinsThePoolUnderItsServiceKey() {
    ActorRef<RewardWorker.Command> w = kit.spawn(RewardWorker.create());
    TestProbe<Receptionist.Listing> listing = kit.createTestProbe();
    kit.system().receptionist().tell(Receptionist.subscribe(RewardWorker.KEY, listing.ref()));
    listing.fishForMessage(Duration.ofSeconds(5), l -> l.getServiceInstances(RewardWorker.KEY).contains(w)
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
  }

  @Test
  void scoresEachGroupWithTheNodesScorerInArrivalOrder() {
    RewardScorer s = scorer();
    NodeResources.get(kit.system()).reward().complete(s);
    ActorRef<RewardWorker.Command> w = kit.spawn(RewardWorker.create());
    TestProbe<RewardWorker.Reply> probe = kit.createTestProbe();
    List<Group> groups = List.of(group("a", GOOD, "2"), group("b", "no tags", GOOD), group("c", "", ""));
    for (int i = 0; i < groups.size(); i++) {
      w.tell(new RewardWorker.Score(10 + i, groups.get(i), probe.ref()));
    }
    for (int i = 0; i < groups.size(); i++) {
      RewardWorker.Reply r = probe.receiveMessage(Duration.ofSeconds(10));
      assertEquals(10 + i, r.dispatchId(), "one group at a time, in the order they came");
      ScoredGroup got = assertInstanceOf(RewardWorker.Scored.class, r).group();
      ScoredGroup expected = s.score(groups.get(i));
      assertEquals(List.of("format", "tag_count"), got.rewardNames());
      assertArrayEquals(expected.total(), got.total(), 1e-6f);
      assertTrue(got.group() == groups.get(i) || got.group().equals(groups.get(i)), "the same group comes back");
    }
    // the formatted completion scores above the untagged one
    probe.expectNoMessage(Duration.ofMillis(200));
    ScoredGroup a = scorer().score(groups.get(0));
    assertTrue(a.total()[0] > a.total()[1], "format rewards the tagged answer: " + java.util.Arrays.toString(a.total()));
  }

  @Test
  void aScorerThatFailedToBuildGivesTypedFailuresAndTheWorkerGoesOn() {
    NodeResources.get(kit.system()).reward().completeExceptionally(new IllegalStateException("unknown reward 'nope'"));
    ActorRef<RewardWorker.Command> w = kit.spawn(RewardWorker.create());
    TestProbe<RewardWorker.Reply> probe = kit.createTestProbe();
    w.tell(new RewardWorker.Score(1, group("a", GOOD), probe.ref()));
    w.tell(new RewardWorker.Score(2, group("b", GOOD), probe.ref()));
    for (long id = 1; id <= 2; id++) {
      RewardWorker.Reply r = probe.receiveMessage(Duration.ofSeconds(10));
      assertEquals(id, r.dispatchId());
      String reason = assertInstanceOf(RewardWorker.ScoreFailed.class, r).reason();
      assertTrue(reason.startsWith("reward: ") && reason.contains("unknown reward 'nope'"), reason);
    }
  }

  /** A verifier that takes 400 ms a group. */
  static final class Slow implements io.r1cluster.core.reward.RewardFunction {
    @Override
    public String name() {
      return "slow";
    }

    @Override
    public float[] score(io.r1cluster.core.reward.RewardInput in) {
      try {
        Thread.sleep(400);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return new float[in.size()];
    }
  }

  @Test
  void reportsTheGroupsItHoldsWhileTheyWaitAndScoreThenStops() {
    NodeResources.get(kit.system()).reward().complete(new RewardScorer(List.of(new Slow()), List.of(1.0)));
    ActorRef<RewardWorker.Command> w = kit.spawn(RewardWorker.create());
    TestProbe<RewardWorker.Reply> replies = kit.createTestProbe();
    TestProbe<RolloutWorker.Working> progress = kit.createTestProbe();
    w.tell(new RewardWorker.Score(1, group("a", GOOD), replies.ref(), progress.ref(), 100));
    w.tell(new RewardWorker.Score(2, group("b", GOOD), replies.ref(), progress.ref(), 100));
    // while the first is scored, both are reported (the second waits in the worker's queue)
    RolloutWorker.Working first = progress.receiveMessage(Duration.ofSeconds(2));
    assertArrayEquals(new long[] {1, 2}, first.dispatchIds());
    assertEquals(1, replies.receiveMessage(Duration.ofSeconds(5)).dispatchId());
    // then only the second, until it is answered
    progress.fishForMessage(Duration.ofSeconds(2), m -> m.dispatchIds().length == 1 && m.dispatchIds()[0] == 2
        ? org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.complete()
        : org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes.continueAndIgnore());
    assertEquals(2, replies.receiveMessage(Duration.ofSeconds(5)).dispatchId());
    // reports sent while it still held the second may still be on their way; then none at all
    while (true) {
      RolloutWorker.Working late;
      try {
        late = progress.receiveMessage(Duration.ofMillis(150));
      } catch (AssertionError quiet) {
        break; // 150 ms without a report
      }
      assertArrayEquals(new long[] {2}, late.dispatchIds());
    }
    progress.expectNoMessage(Duration.ofMillis(500));
  }

  @Test
  void theQueuedGroupsOfAStoppedAskerAreDroppedNotScored() throws Exception {
    java.util.concurrent.atomic.AtomicInteger scored = new java.util.concurrent.atomic.AtomicInteger();
    io.r1cluster.core.reward.RewardFunction counting = new io.r1cluster.core.reward.RewardFunction() {
      @Override
      public String name() {
        return "counting";
      }

      @Override
      public float[] score(io.r1cluster.core.reward.RewardInput in) {
        scored.incrementAndGet();
        return new Slow().score(in);
      }
    };
    NodeResources.get(kit.system()).reward().complete(new RewardScorer(List.of(counting), List.of(1.0)));
    ActorRef<RewardWorker.Command> w = kit.spawn(RewardWorker.create());
    TestProbe<RewardWorker.Reply> replies = kit.createTestProbe();
    TestProbe<RolloutWorker.Working> gone = kit.createTestProbe();
    TestProbe<RolloutWorker.Working> alive = kit.createTestProbe();
    w.tell(new RewardWorker.Score(1, group("a", GOOD), replies.ref(), gone.ref(), 10_000));
    w.tell(new RewardWorker.Score(2, group("b", GOOD), replies.ref(), gone.ref(), 10_000));
    w.tell(new RewardWorker.Score(3, group("c", GOOD), replies.ref(), gone.ref(), 10_000));
    w.tell(new RewardWorker.Score(4, group("d", GOOD), replies.ref(), alive.ref(), 10_000));
    gone.stop(); // while the first is scored (400 ms): the second and third are dropped
    assertEquals(1, replies.receiveMessage(Duration.ofSeconds(5)).dispatchId(), "the group being scored runs to its end");
    assertEquals(4, replies.receiveMessage(Duration.ofSeconds(5)).dispatchId(), "the live asker's group comes next");
    replies.expectNoMessage(Duration.ofMillis(600));
    assertEquals(2, scored.get(), "two groups scored, the stopped asker's queued two never were");
  }
}
