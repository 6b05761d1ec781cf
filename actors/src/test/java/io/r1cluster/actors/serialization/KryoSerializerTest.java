package io.r1cluster.actors.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import com.typesafe.config.ConfigFactory;
import io.r1cluster.actors.transport.ChunkRange;
import io.r1cluster.actors.transport.ResendRequest;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KryoSerializerTest {

  /** A test-only message, registered through config (ids >= 10000). */
  public record Ask(Prompt prompt, ActorRef<Group> replyTo) implements KryoMessage {}

  /** Never registered: must not be created from the wire. */
  public static final class Canary {
    static final AtomicBoolean CONSTRUCTED = new AtomicBoolean();
    public int x = 1;

    public Canary() {
      CONSTRUCTED.set(true);
    }
  }

  static ActorTestKit testKit;
  static Serialization serialization;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("kryo", ConfigFactory.parseString("""
        pekko.actor.serialize-messages = on
        pekko.actor.serialize-creators = off
        r1.serialization.kryo.extra-registrations {
          "io.r1cluster.actors.serialization.KryoSerializerTest$Ask" = 10001
        }
        """).withFallback(ConfigFactory.load()));
    serialization = SerializationExtension.get(Adapter.toClassic(testKit.system()));
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static Completion completion(int n, long version) {
    int[] ids = new int[n];
    float[] lp = new float[n];
    for (int i = 0; i < n; i++) {
      ids[i] = 1000 + i;
      lp[i] = -0.25f * i;
    }
    return new Completion(ids, lp, "<think>t</think><answer>" + n + "</answer>", FinishReason.STOP, version);
  }

  static Group group() {
    Prompt p = new Prompt("gsm8k-17", List.of(new ChatMessage("system", "be brief"), new ChatMessage("user", "2+2?")),
        "4", Map.of("level", 3, "source", "test", "ratio", 0.5, "tags", List.of("a", "b"), "flag", true));
    return new Group(p, new int[] {1, 2, 3}, List.of(completion(4, 9), completion(2, 9)), 9);
  }

  @SuppressWarnings("unchecked")
  static <T> T roundTrip(T o) {
    Serializer s = serialization.findSerializerFor(o);
    assertEquals(KryoSerializer.IDENTIFIER, s.identifier(), "bound to r1-kryo: " + o.getClass());
    byte[] bytes = s.toBinary(o);
    return (T) serialization.deserialize(bytes, s.identifier(), "").get();
  }

  @Test
  void coreRecordsRoundTripWithPrimitiveArrays() {
    Group g = group();
    Group g2 = roundTrip(g);
    assertEquals(g.prompt(), g2.prompt());
    assertArrayEquals(g.promptTokenIds(), g2.promptTokenIds());
    assertEquals(g.policyVersion(), g2.policyVersion());
    for (int i = 0; i < g.size(); i++) {
      Completion a = g.completions().get(i);
      Completion b = g2.completions().get(i);
      assertArrayEquals(a.tokenIds(), b.tokenIds());
      assertArrayEquals(a.logProbs(), b.logProbs());
      assertEquals(a.text(), b.text());
      assertSame(a.finishReason(), b.finishReason());
    }
    Prompt p2 = roundTrip(g.prompt());
    assertEquals(g.prompt(), p2);

    ScoredGroup sg = new ScoredGroup(g, List.of("accuracy", "format"),
        new float[][] {{1f, Float.NaN}, {0f, 1f}}, new float[] {1f, 0.5f});
    TrainBatch tb = new TrainBatch(List.of(sg), List.of(new float[] {0.7f, -0.7f}));
    TrainBatch tb2 = roundTrip(tb);
    ScoredGroup sg2 = tb2.groups().get(0);
    assertEquals(sg.rewardNames(), sg2.rewardNames());
    assertArrayEquals(sg.rewards()[0], sg2.rewards()[0]); // NaN bit-compatible via floatToIntBits
    assertArrayEquals(sg.rewards()[1], sg2.rewards()[1]);
    assertArrayEquals(sg.total(), sg2.total());
    assertArrayEquals(tb.advantages().get(0), tb2.advantages().get(0));
    assertArrayEquals(g.completions().get(0).tokenIds(), sg2.group().completions().get(0).tokenIds());

    ResendRequest rr = new ResendRequest(42, 7, List.of(new ChunkRange(3, 2), ChunkRange.ALL));
    assertEquals(rr, roundTrip(rr));
  }

  @Test
  void primitiveArraysAreWrittenCompactly() {
    int[] ids = new int[1000];
    java.util.Arrays.fill(ids, 100_000);
    Completion c = new Completion(ids, new float[1000], "", FinishReason.LENGTH, 1);
    byte[] bytes = serialization.findSerializerFor(c).toBinary(c);
    // 1000 varints of 3 bytes + 1000 floats of 4 bytes + small header: no boxing, no per-element class ids
    assertTrue(bytes.length < 7000 + 64, "size " + bytes.length);
  }

  @Test
  void actorRefTravelsAsPathAndResolves() {
    TestProbe<Group> probe = testKit.createTestProbe();
    Ask ask = new Ask(group().prompt(), probe.getRef());
    Ask back = roundTrip(ask);
    assertEquals(probe.getRef(), back.replyTo());
    back.replyTo().tell(group());
    assertEquals("gsm8k-17", probe.receiveMessage().prompt().id());
  }

  @Test
  void aGenerateRequestCarriesItsProgressRefAndTheReportsComeBack() {
    TestProbe<io.r1cluster.actors.grpo.RolloutWorker.Reply> replies = testKit.createTestProbe();
    TestProbe<io.r1cluster.actors.grpo.RolloutWorker.Working> progress = testKit.createTestProbe();
    var g = new io.r1cluster.actors.grpo.RolloutWorker.Generate(17, "run-1", group().prompt(), 99L, 3, replies.getRef(),
        progress.getRef(), 250);
    var back = roundTrip(g);
    assertEquals(g.dispatchId(), back.dispatchId());
    assertEquals(g.prompt(), back.prompt());
    assertEquals(250, back.progressEveryMillis());
    assertEquals(progress.getRef(), back.progressTo());
    back.progressTo().tell(roundTrip(new io.r1cluster.actors.grpo.RolloutWorker.Working(new long[] {17, 1L << 40})));
    assertArrayEquals(new long[] {17, 1L << 40}, progress.receiveMessage().dispatchIds());
  }

  @Test
  void aScoreRequestCarriesItsProgressRef() {
    TestProbe<io.r1cluster.actors.grpo.RewardWorker.Reply> replies = testKit.createTestProbe();
    TestProbe<io.r1cluster.actors.grpo.RolloutWorker.Working> progress = testKit.createTestProbe();
    var s = new io.r1cluster.actors.grpo.RewardWorker.Score(21, group(), replies.getRef(), progress.getRef(), 125);
    var back = roundTrip(s);
    assertEquals(21, back.dispatchId());
    assertEquals(s.group().prompt(), back.group().prompt());
    assertEquals(125, back.progressEveryMillis());
    assertEquals(progress.getRef(), back.progressTo());
    assertEquals(replies.getRef(), back.replyTo());
  }

  @Test
  void serializeMessagesOnSystemDeliversRegisteredMessage() {
    // with serialize-messages = on every local send is serialized and deserialized on the way
    ActorRef<Ask> echo = testKit.spawn(Behaviors.receive(Ask.class)
        .onMessage(Ask.class, a -> {
          a.replyTo().tell(new Group(a.prompt(), new int[] {5}, List.of(completion(3, 1)), 1));
          return Behaviors.same();
        }).build());
    TestProbe<Group> probe = testKit.createTestProbe();
    echo.tell(new Ask(group().prompt(), probe.getRef()));
    Group g = probe.receiveMessage(Duration.ofSeconds(10));
    assertEquals(group().prompt(), g.prompt());
    assertArrayEquals(new int[] {1000, 1001, 1002}, g.completions().get(0).tokenIds());
  }

  @Test
  void unregisteredClassFromTheWireIsRejectedNeverInstantiated() throws Exception {
    Kryo rogue = new Kryo();
    rogue.setRegistrationRequired(true);
    rogue.register(Canary.class, 4242);
    Output out = new Output(64, -1);
    rogue.writeClassAndObject(out, new Canary());
    Canary.CONSTRUCTED.set(false);
    byte[] byId = out.toBytes();

    Kryo byName = new Kryo();
    byName.setRegistrationRequired(false);
    Output out2 = new Output(64, -1);
    byName.writeClassAndObject(out2, new Canary());
    Canary.CONSTRUCTED.set(false);
    byte[] named = out2.toBytes();

    assertInstanceOf(KryoSerializer.class, serialization.serializerFor(Ask.class));
    KryoSerializer s = (KryoSerializer) serialization.serializerFor(Ask.class);
    IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class, () -> s.fromBinaryJava(byId, null));
    assertTrue(e1.getMessage().contains("4242"), e1.getMessage());
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> s.fromBinaryJava(named, null));
    assertTrue(e2.getMessage().contains("class name on the wire rejected"), e2.getMessage());
    assertFalse(Canary.CONSTRUCTED.get(), "an unregistered class was instantiated");
  }

  @Test
  void unregisteredClassCannotBeSent() throws Exception {
    Serializer s = serialization.serializerFor(Ask.class);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.toBinary(new Canary()));
    assertTrue(e.getMessage().contains("KryoRegistry"), e.getMessage());
  }

  @Test
  void registryIdsAreUniqueAndStable() {
    assertEquals(100, KryoRegistry.entries().stream().filter(x -> x.type() == Prompt.class).findFirst()
        .orElseThrow().id());
    assertEquals(KryoRegistry.entries().size(),
        KryoRegistry.entries().stream().mapToInt(KryoRegistry.Entry::id).distinct().count());
  }
}
