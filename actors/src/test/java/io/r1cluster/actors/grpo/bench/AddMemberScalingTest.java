package io.r1cluster.actors.grpo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.actors.grpo.PromptLedger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Adding a rollout member to a running GRPO job (separate ActorSystems on loopback, real Artery and
 * Cluster Sharding; a FIXED-LATENCY ROLLOUT ENGINE, simulated and named as such) moves rollout
 * entities onto it, raises throughput, and loses or repeats no prompt.
 */
@Timeout(240)
class AddMemberScalingTest {
  @Test
  void addingAMemberMidRunRaisesThroughputAndLosesNoPrompt() throws Exception {
    // 1 member serving one 100 ms generation at a time (10 groups/s); 2 more join at step 4
    SimulatedGrpo.Plan plan = new SimulatedGrpo.Plan(8 * 24, 8, 2, 4, 16, 100, 0, 12, 2, 1, 1);
    SimulatedGrpo.Grown g = SimulatedGrpo.runScaling(plan, 1, 4, 2);
    PromptLedger.Counters c = g.result().run().counters();
    System.out.printf("add-member scaling: %.1f groups/s before, %.1f after; retried %d, duplicates ignored %d%n",
        g.groupsPerSecondBefore(), g.groupsPerSecondAfter(), c.retried(), c.duplicateIgnored());
    assertEquals(c.total(), c.trained() + c.filtered(), "every prompt consumed");
    assertEquals(0, c.trainedTwice(), "no prompt trained twice");
    assertTrue(g.groupsPerSecondAfter() > 1.4 * g.groupsPerSecondBefore(),
        "throughput before " + g.groupsPerSecondBefore() + " groups/s, after " + g.groupsPerSecondAfter());
  }

  @Test
  void aMemberLeavingGracefullyMidRunLosesNoPrompt() throws Exception {
    // 3 members; one leaves through coordinated shutdown (what SIGTERM runs) at step 3
    SimulatedGrpo.Plan plan = new SimulatedGrpo.Plan(8 * 12, 8, 2, 4, 16, 100, 0, 12, 2, 1, 1);
    SimulatedGrpo.Grown g = SimulatedGrpo.runScaling(plan, 3, 3, -1);
    PromptLedger.Counters c = g.result().run().counters();
    System.out.printf("graceful leave: %d steps, retried %d, duplicates ignored %d%n", g.result().steps(), c.retried(),
        c.duplicateIgnored());
    assertEquals(12, g.result().steps());
    assertEquals(c.total(), c.trained() + c.filtered(), "every prompt consumed");
    assertEquals(0, c.trainedTwice(), "no prompt trained twice");
  }
}
