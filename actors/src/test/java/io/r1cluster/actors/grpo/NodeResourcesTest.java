package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletionException;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** A node answers generate requests of the run its agent joined only (never with another run's weights). */
class NodeResourcesTest {
  private static final ActorTestKit KIT = ActorTestKit.create();

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  @Test
  void requestsOfAnotherRunFailUntilTheNodeJoinsIt() {
    NodeResources r = NodeResources.get(KIT.system());
    assertSame(r.rollout(), r.rollout("any"), "a node whose agent joined no run (benchmarks) serves any run");
    r.serve("grpo-1");
    assertSame(r.rollout(), r.rollout("grpo-1"));
    CompletionException e = assertThrows(CompletionException.class, () -> r.rollout("teacher-2").join());
    assertEquals("this node serves run grpo-1, not teacher-2 (it has not joined that run yet)", e.getCause().getMessage());
    r.reset();
    r.serve("teacher-2");
    assertSame(r.rollout(), r.rollout("teacher-2"));
    assertTrue(r.rollout("grpo-1").isCompletedExceptionally());
  }
}
