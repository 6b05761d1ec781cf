package io.r1cluster.actors.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Wire compatibility of the registrations each protocol makes for itself: the full id table, as
 * released, must come out of {@link KryoRegistry} unchanged (a node decodes only ids it knows, so
 * a moved id breaks every mixed-version cluster).
 */
class KryoIdsTest {

  /** Every id ever released, with its class (1007 and 1008 are retired and must stay unused). */
  static final Map<Integer, String> RELEASED = new LinkedHashMap<>();

  static {
    RELEASED.put(10, "[I");
    RELEASED.put(11, "[F");
    RELEASED.put(12, "[J");
    RELEASED.put(13, "[D");
    RELEASED.put(14, "[B");
    RELEASED.put(15, "[Z");
    RELEASED.put(16, "[S");
    RELEASED.put(17, "[[F");
    RELEASED.put(18, "[[I");
    RELEASED.put(19, "[Ljava.lang.String;");
    RELEASED.put(20, "[Ljava.lang.Object;");
    RELEASED.put(30, "java.util.ArrayList");
    RELEASED.put(31, "java.util.HashMap");
    RELEASED.put(32, "java.util.LinkedHashMap");
    RELEASED.put(33, "java.util.TreeMap");
    RELEASED.put(34, "java.util.ImmutableCollections$ListN");
    RELEASED.put(35, "java.util.ImmutableCollections$List12");
    RELEASED.put(36, "java.util.ImmutableCollections$MapN");
    RELEASED.put(37, "java.util.ImmutableCollections$Map1");
    RELEASED.put(38, "java.util.ImmutableCollections$SetN");
    RELEASED.put(39, "java.util.ImmutableCollections$Set12");
    RELEASED.put(40, "java.util.ImmutableCollections$SubList");
    RELEASED.put(41, "java.util.Collections$EmptyList");
    RELEASED.put(42, "java.util.Collections$EmptyMap");
    RELEASED.put(43, "java.util.Collections$UnmodifiableRandomAccessList");
    RELEASED.put(100, "io.r1cluster.core.data.Prompt");
    RELEASED.put(101, "io.r1cluster.core.data.ChatMessage");
    RELEASED.put(102, "io.r1cluster.core.data.Completion");
    RELEASED.put(103, "io.r1cluster.core.data.FinishReason");
    RELEASED.put(104, "io.r1cluster.core.data.Group");
    RELEASED.put(105, "io.r1cluster.core.data.ScoredGroup");
    RELEASED.put(106, "io.r1cluster.core.data.TrainBatch");
    RELEASED.put(107, "io.r1cluster.core.checkpoint.DType");
    RELEASED.put(200, "org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter");
    RELEASED.put(300, "io.r1cluster.actors.transport.ChunkRange");
    RELEASED.put(301, "io.r1cluster.actors.transport.ResendRequest");
    RELEASED.put(1000, "io.r1cluster.actors.grpo.RunSpec");
    RELEASED.put(1001, "io.r1cluster.actors.grpo.RunSpec$Sampling");
    RELEASED.put(1002, "io.r1cluster.actors.grpo.RunSpec$WeightSource");
    RELEASED.put(1003, "io.r1cluster.actors.grpo.NodeAgent$Join");
    RELEASED.put(1004, "io.r1cluster.actors.grpo.NodeAgent$WeightsAnnounced");
    RELEASED.put(1005, "io.r1cluster.actors.grpo.RolloutWorker$Generate");
    RELEASED.put(1006, "io.r1cluster.actors.grpo.RewardWorker$Score");
    RELEASED.put(1009, "io.r1cluster.actors.grpo.Learner$Resend");
    RELEASED.put(1010, "io.r1cluster.actors.grpo.RolloutWorker$Generated");
    RELEASED.put(1011, "io.r1cluster.actors.grpo.RolloutWorker$GenerateFailed");
    RELEASED.put(1012, "io.r1cluster.actors.grpo.RewardWorker$Scored");
    RELEASED.put(1013, "io.r1cluster.actors.grpo.RewardWorker$ScoreFailed");
    RELEASED.put(1014, "io.r1cluster.actors.grpo.RolloutWorker$Working");
    RELEASED.put(1100, "io.r1cluster.actors.pipeline.StageSupervisor$GetStatus");
    RELEASED.put(1101, "io.r1cluster.actors.pipeline.StageSupervisor$Status");
  }

  @Test
  void everyReleasedIdMapsToTheSameClassAndNothingElseIsRegistered() {
    Map<Integer, String> now = new TreeMap<>();
    for (KryoRegistry.Entry e : KryoRegistry.entries()) {
      now.put(e.id(), e.type().getName());
    }
    assertEquals(new TreeMap<>(RELEASED), now);
  }

  @Test
  void protocolsRegisterOnlyInTheProtocolRange() {
    for (KryoRegistry.Entry e : KryoRegistry.entries()) {
      if (e.type().getName().startsWith("io.r1cluster.actors.")) {
        assertTrue(e.id() >= KryoRegistry.FIRST_PROTOCOL_ID && e.id() < KryoRegistry.FIRST_EXTRA_ID, e.toString());
      }
    }
  }

  @Test
  void theProtocolsAreFoundNextToTheirMessages() {
    // each message family's ids live in a nested KryoIds of the class that declares its messages
    Map<Integer, Class<?>> byId = new TreeMap<>();
    new io.r1cluster.actors.grpo.RolloutWorker.KryoIds().register(byId::put);
    assertEquals(Map.of(1005, io.r1cluster.actors.grpo.RolloutWorker.Generate.class,
        1010, io.r1cluster.actors.grpo.RolloutWorker.Generated.class,
        1011, io.r1cluster.actors.grpo.RolloutWorker.GenerateFailed.class,
        1014, io.r1cluster.actors.grpo.RolloutWorker.Working.class), byId);
  }

  @Test
  void aClashBetweenTwoProtocolsFailsAtStartUp() {
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> KryoRegistry.checkedAdd(new java.util.ArrayList<>(KryoRegistry.entries()), 1005, KryoIdsTest.class));
    assertTrue(e.getMessage().contains("clashes with io.r1cluster.actors.grpo.RolloutWorker$Generate id 1005"),
        e.getMessage());
  }
}
