package io.r1cluster.actors.grpo.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The simulated backends drive the real actors to completion, in sync and async mode. */
class SimulatedGrpoTest {
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void fixedLatencyRunCompletesWithEveryPromptTrainedOnce() throws Exception {
    for (int s : new int[] {0, 1}) {
      SimulatedGrpo.Result r = SimulatedGrpo.run(new SimulatedGrpo.Plan(48, 8, s, 4, 16, 20, 20, 4, 2, 8, 2));
      System.out.println("max_staleness " + s + ": " + r.secondsPerStep() * 1000 + " ms/step, " + r.run().counters());
      assertEquals(6, r.steps());
      assertEquals(48, r.run().counters().trained());
      assertEquals(0, r.run().counters().trainedTwice());
      assertTrue(r.secondsPerStep() < 1.0, "no stall: " + r.secondsPerStep());
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aGenerationLongerThanShardingsIdleTimeoutIsNotPassivated() throws Exception {
    // sharding passivates entities idle for 1 s here (2 min by default) and a group takes 2.5 s to generate:
    // a rollout entity gets no message while it generates, so it must not count as idle
    SimulatedGrpo.Result r = SimulatedGrpo.run(new SimulatedGrpo.Plan(8, 4, 0, 2, 4, 2500, 0, 2, 4, 8, 1),
        "pekko.cluster.sharding.passivation.default-idle-strategy.idle-entity.timeout = 1s");
    System.out.println("long generations: " + r.run().counters());
    assertEquals(2, r.steps());
    assertEquals(8, r.run().counters().trained());
    assertEquals(0, r.run().counters().retried(), "no attempt failed back");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aGenerationLongerThanTheDispatchTimeoutRunsOnceToTheEnd() throws Exception {
    // groups take 2.5 s to generate; a prompt not scored 1 s after dispatch used to be dispatched again (and
    // its first attempt's reply dropped), so every prompt was generated over and over and no step finished
    SimulatedGrpo.Result r = SimulatedGrpo.run(new SimulatedGrpo.Plan(8, 4, 0, 2, 4, 2500, 0, 2, 4, 8, 1),
        "r1.grpo.dispatch-timeout = 1s");
    System.out.println("generations past the dispatch timeout: " + r.run().counters() + ", " + r.groupsGenerated()
        + " groups generated");
    assertEquals(2, r.steps());
    assertEquals(8, r.run().counters().trained());
    assertEquals(8, r.groupsGenerated(), "each prompt generated once, counted by the simulated engines");
    assertEquals(0, r.run().counters().retried());
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void scoringLongerThanTheDispatchTimeoutRunsOnceToTheEnd() throws Exception {
    // one reward worker, 0.7 s a group, 8 groups of a step arriving at once: the last is scored 5.6 s
    // after it arrived. Waiting for a worker and waiting in a worker's queue used to count against the
    // 1 s dispatch timeout, so most groups were generated again (and again)
    SimulatedGrpo.Result r = SimulatedGrpo.run(new SimulatedGrpo.Plan(16, 8, 0, 2, 4, 0, 0, 2, 8, 16, 1),
        "r1.grpo.dispatch-timeout = 1s", 700);
    System.out.println("scoring past the dispatch timeout: " + r.run().counters() + ", " + r.groupsGenerated()
        + " groups generated");
    assertEquals(2, r.steps());
    assertEquals(16, r.run().counters().trained());
    assertEquals(16, r.groupsGenerated(), "each prompt generated once, counted by the simulated engines");
    assertEquals(0, r.run().counters().retried());
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aLongGenerationOnAnotherMemberIsReportedOverArteryAndRunsOnce() throws Exception {
    // the rollouts run on a separate ActorSystem (real Artery on loopback): its entities' progress
    // reports cross the wire to the learner node's dispatcher, which would re-dispatch every 2.5 s
    // generation after the 1 s timeout without them
    SimulatedGrpo.Grown g = SimulatedGrpo.runScaling(new SimulatedGrpo.Plan(8, 4, 0, 2, 4, 2500, 0, 2, 4, 8, 1), 1, -1, 0,
        "r1.grpo.dispatch-timeout = 1s");
    SimulatedGrpo.Result r = g.result();
    System.out.println("remote generations past the dispatch timeout: " + r.run().counters() + ", "
        + java.util.Arrays.toString(g.generatedPerMember()) + " groups generated");
    assertEquals(2, r.steps());
    assertEquals(8, r.run().counters().trained());
    assertEquals(8, r.groupsGenerated(), "each prompt generated once, counted by the member's simulated engine");
    assertEquals(0, r.run().counters().retried());
  }
}
