package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A run spec with a real-model-sized tokenizer (a 7 MiB tokenizer.json, like Qwen2.5's) reaches a
 * node agent on another ActorSystem over real Artery: it travels on the large-message stream
 * (reference.conf), not in the 256 KiB frames of ordinary messages, and arrives intact.
 */
class LargeRunSpecTest {
  private ActorTestKit a;
  private ActorTestKit b;

  @AfterEach
  void stop() {
    for (ActorTestKit k : new ActorTestKit[] {b, a}) {
      if (k != null) {
        k.shutdownTestKit();
      }
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aSevenMebibyteTokenizerReachesTheNodeAgentIntact() {
    a = ActorTestKit.create("r1", GrpoFixtures.node("\"seed\", \"learner\"", ""));
    b = ActorTestKit.create("r1", GrpoFixtures.node("\"rollout\"", ""));
    TestProbe<NodeAgent.Join> got = b.createTestProbe();
    // stands in for the node agent at its real path, forwarding what arrives to the probe
    b.system().systemActorOf(Behaviors.<NodeAgent.Command>receiveMessage(m -> {
      if (m instanceof NodeAgent.Join j) {
        got.getRef().tell(j);
      }
      return Behaviors.same();
    }), "r1-node-agent", Props.empty());
    ActorRef<NodeAgent.Command> remote = ActorRefResolver.get(a.system())
        .resolveActorRef(b.system().address() + "/system/r1-node-agent");

    StringBuilder sb = new StringBuilder(7 << 20);
    Random rnd = new Random(1);
    while (sb.length() < (7 << 20)) {
      sb.append("\"tok").append(rnd.nextInt(1_000_000)).append("\": ").append(sb.length()).append(", ");
    }
    String tokenizer = sb.toString();
    RunSpec spec = new RunSpec("run-1", "{}", Map.of("tokenizer.json", tokenizer, "tokenizer_config.json", "{}"), null, Map.of(),
        new RunSpec.Sampling(8, 64, 64, 1.0, 1.0, 0, 0.0), List.of("accuracy"), List.of(), Map.of(), 1, true,
        new RunSpec.WeightSource("IPC", "/dev/shm/x", "", 42L, 0L,
            io.r1cluster.actors.transport.WeightKey.random().bytes()), null);
    remote.tell(new NodeAgent.Join(spec));
    NodeAgent.Join j = got.receiveMessage(Duration.ofSeconds(40));
    assertEquals(tokenizer, j.spec().tokenizerFiles().get("tokenizer.json"));
    assertEquals("run-1", j.spec().runId());
    assertTrue(j.spec().inflightWeightUpdate(), "the recipe's cluster.inflight_weight_update crosses Artery");
  }
}
