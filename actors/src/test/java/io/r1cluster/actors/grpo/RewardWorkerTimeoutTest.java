package io.r1cluster.actors.grpo;

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
import io.r1cluster.core.reward.RewardFunction;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.reward.RewardScorer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A reward function that never returns must cost one group its score, not the stream. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RewardWorkerTimeoutTest {
  static ActorTestKit kit;
  static final CountDownLatch INTERRUPTED = new CountDownLatch(1);

  /** Hangs (until interrupted, then keeps hanging a moment) on prompts whose solution is "hang"; else 1.0. */
  static final class Hanging implements RewardFunction {
    @Override
    public String name() {
      return "hanging";
    }

    @Override
    public float[] score(RewardInput in) {
      if ("hang".equals(in.columns().get("solution").get(0))) {
        try {
          Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
          INTERRUPTED.countDown();
          return new float[] {42f, 42f}; // a late result: must be dropped
        }
      }
      return new float[] {1f, 1f};
    }
  }

  @BeforeAll
  static void start() {
    kit = ActorTestKit.create("reward-timeout", ConfigFactory.parseString("""
        r1.grpo.reward.scoring-timeout = 500ms
        r1.grpo.reward.max-waiting = 1
        """).withFallback(ConfigFactory.load()));
    NodeResources.get(kit.system()).reward().complete(new RewardScorer(List.of(new Hanging()), List.of(1.0)));
  }

  @AfterAll
  static void stop() {
    kit.shutdownTestKit();
  }

  static Group group(String id, String solution) {
    Prompt p = new Prompt(id, List.of(new ChatMessage("user", "q")), solution, Map.of());
    Completion c = new Completion(new int[] {1}, new float[] {-0.1f}, "a", FinishReason.STOP, 0);
    return new Group(p, new int[] {5}, List.of(c, c), 0);
  }

  @Test
  void hungFunctionGivesNoScoreAndTheNextGroupIsScored() {
    ActorRef<RewardWorker.Command> w = kit.spawn(RewardWorker.create());
    TestProbe<RewardWorker.Reply> probe = kit.createTestProbe();
    w.tell(new RewardWorker.Score(1, group("p-hang", "hang"), probe.ref()));
    w.tell(new RewardWorker.Score(2, group("p-ok", "4"), probe.ref()));
    w.tell(new RewardWorker.Score(3, group("p-extra", "4"), probe.ref())); // beyond max-waiting = 1

    RewardWorker.Reply refused = probe.receiveMessage(Duration.ofSeconds(5));
    assertEquals(3, refused.dispatchId());
    assertTrue(assertInstanceOf(RewardWorker.ScoreFailed.class, refused).reason().contains("busy"));

    RewardWorker.Reply first = probe.receiveMessage(Duration.ofSeconds(10));
    assertEquals(1, first.dispatchId());
    ScoredGroup none = assertInstanceOf(RewardWorker.Scored.class, first).group();
    for (float t : none.total()) {
      assertTrue(Float.isNaN(t), "no score: " + t);
    }
    for (float[] row : none.rewards()) {
      assertTrue(Float.isNaN(row[0]));
    }

    RewardWorker.Reply second = probe.receiveMessage(Duration.ofSeconds(10));
    assertEquals(2, second.dispatchId());
    ScoredGroup ok = assertInstanceOf(RewardWorker.Scored.class, second).group();
    assertEquals(1f, ok.total()[0]);
    probe.expectNoMessage(Duration.ofMillis(300)); // the late 42s of group 1 are never sent
  }

  @Test
  void theStuckThreadIsInterrupted() throws InterruptedException {
    ActorRef<RewardWorker.Command> w = kit.spawn(RewardWorker.create());
    TestProbe<RewardWorker.Reply> probe = kit.createTestProbe();
    w.tell(new RewardWorker.Score(7, group("p-hang-2", "hang"), probe.ref()));
    probe.receiveMessage(Duration.ofSeconds(10));
    assertTrue(INTERRUPTED.await(5, TimeUnit.SECONDS), "the scoring thread was interrupted");
  }
}
