package io.r1cluster.actors.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;
import com.typesafe.config.ConfigFactory;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Hostile lengths on the wire: every one must be refused with an error before Kryo allocates what
 * it announces. Allocation is measured on the reading thread, so a serializer that allocates first
 * and fails later (Kryo's default) fails these tests even when the heap happens to be big enough.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class KryoBoundsTest {
  static ActorTestKit testKit;
  static KryoSerializer serializer;
  /** Far below what any of the hostile messages asks for (1.6 GB and up). */
  static final long ALLOCATION_LIMIT = 32L << 20;

  @BeforeAll
  static void start() {
    testKit = ActorTestKit.create("kryo-bounds", ConfigFactory.parseString("r1.serialization.kryo.max-length = 1000000")
        .withFallback(ConfigFactory.load()));
    serializer = (KryoSerializer) SerializationExtension.get(Adapter.toClassic(testKit.system()))
        .serializerByIdentity().apply(KryoSerializer.IDENTIFIER);
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  static long allocated() {
    return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
  }

  /** Asserts the message is rejected with a message containing {@code expected}, allocating little. */
  static void rejected(byte[] bytes, String expected) {
    long before = allocated();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> serializer.fromBinaryJava(bytes, null));
    long used = allocated() - before;
    assertTrue(e.getMessage().contains(expected), e.getMessage());
    assertTrue(used < ALLOCATION_LIMIT, "rejecting allocated " + used + " bytes: " + e.getMessage());
  }

  @Test
  void sixByteIntArrayOf400MillionIsRejectedWithoutAllocating() {
    Output out = new Output(16);
    out.writeVarInt(10 + 2, true); // class id of int[] (Kryo writes id + 2)
    out.writeVarInt(400_000_000 + 1, true); // length + 1
    byte[] bytes = out.toBytes();
    assertEquals(6, bytes.length);
    rejected(bytes, "int[] of length 400000000 exceeds r1.serialization.kryo.max-length 1000000");
  }

  @Test
  void lengthWithinTheBoundButBeyondTheMessageIsRejected() {
    Output out = new Output(16);
    out.writeVarInt(13 + 2, true); // double[]
    out.writeVarInt(900_000 + 1, true); // 7.2 MB announced, a few bytes present
    out.writeDouble(7);
    rejected(out.toBytes(), "double[] of length 900000 needs at least 7200000 bytes but the message has 8 left");
  }

  @Test
  void nestedFloatMatrixOfHugeRowsIsRejected() {
    Output out = new Output(32);
    out.writeVarInt(17 + 2, true); // float[][]
    out.writeVarInt(3 + 1, true);
    out.writeVarInt(500_000_000 + 1, true); // first row
    rejected(out.toBytes(), "of length 500000000 exceeds");
  }

  /** size() lies; Kryo's CollectionSerializer writes it as the length and then the one real element. */
  static final class LyingList extends ArrayList<Object> {
    LyingList() {
      super.add("x");
    }

    @Override
    public int size() {
      return 400_000_000;
    }
  }

  static final class LyingMap extends HashMap<Object, Object> {
    LyingMap() {
      super.put("k", "v");
    }

    @Override
    public int size() {
      return 400_000_000;
    }
  }

  @Test
  void collectionsAnnouncingHugeSizesAreRejected() {
    Kryo rogue = new Kryo();
    rogue.register(LyingList.class, new CollectionSerializer<>(), 30); // our ArrayList id
    rogue.register(LyingMap.class, new MapSerializer<>(), 31); // our HashMap id
    rogue.register(String.class);
    Output out = new Output(64, -1);
    rogue.writeClassAndObject(out, new LyingList());
    rejected(out.toBytes(), "collection of length 400000000 exceeds");

    rogue.register(LyingList.class, new CollectionSerializer<>(), 34); // List.of(...) id
    out = new Output(64, -1);
    rogue.writeClassAndObject(out, new LyingList());
    rejected(out.toBytes(), "list of length 400000000 exceeds");

    out = new Output(64, -1);
    rogue.writeClassAndObject(out, new LyingMap());
    rejected(out.toBytes(), "map of length 400000000 exceeds");
  }

  @Test
  void stringAnnouncingHugeLengthIsRejected() {
    Output out = new Output(32);
    out.writeVarInt(19 + 2, true); // String[]
    out.writeVarInt(1 + 1, true);
    out.writeVarIntFlag(true, 400_000_000 + 1, true); // UTF-8 form, 400 M chars
    out.writeByte('a');
    rejected(out.toBytes(), "string of length 400000000 exceeds");
  }

  @Test
  void legitimateContainersStillRoundTrip() {
    int[] big = new int[200_000];
    for (int i = 0; i < big.length; i++) {
      big[i] = i * 7;
    }
    assertArrayEquals(big, (int[]) serializer.fromBinaryJava(serializer.toBinary(big), null));
    List<String> l = List.of("a", "é", "c");
    assertEquals(l, serializer.fromBinaryJava(serializer.toBinary(l), null));
    Map<String, Object> m = Map.of("a", 1, "b", List.of(2.5, 3.5));
    assertEquals(m, serializer.fromBinaryJava(serializer.toBinary(m), null));
    ArrayList<Object> a = new ArrayList<>(List.of(1, "two"));
    a.add(null);
    assertEquals(a, serializer.fromBinaryJava(serializer.toBinary(a), null));
    String s = "ü".repeat(50_000);
    assertArrayEquals(new String[] {s, null}, (String[]) serializer.fromBinaryJava(serializer.toBinary(new String[] {s, null}), null));
  }
}
