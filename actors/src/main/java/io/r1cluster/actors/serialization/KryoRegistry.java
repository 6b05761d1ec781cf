package io.r1cluster.actors.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.serializers.ImmutableCollectionsSerializers;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.serializers.RecordSerializer;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Comparator;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * The fixed Kryo class ids. Every class that may appear inside a message bound to
 * {@link KryoSerializer} has an id that never changes once released: the id, not the class name,
 * goes on the wire, and a node only decodes ids it knows.
 *
 * <p>This class lists the payload types every protocol shares (JDK arrays and collections, the
 * core data records, Pekko's typed ActorRef). Messages are registered by their own protocol: a
 * nested {@link KryoProtocol} next to the messages (e.g. {@code RolloutWorker.KryoIds}), found
 * with {@link ServiceLoader}. To add a message: add one {@code ids.add(ID, Type.class);} line to
 * its protocol's {@code KryoIds}, with an id from your package's block below (a new protocol also
 * gets a line in {@code META-INF/services/io.r1cluster.actors.serialization.KryoProtocol}). Records
 * get Kryo's {@link RecordSerializer} (canonical constructor, so their validation runs on the
 * receiving side too), enums the enum serializer, everything else Kryo's default for its type.
 *
 * <p>Id blocks:
 * <pre>
 *   10–  99  JDK types (arrays, boxed values, collections)
 *  100– 199  io.r1cluster.core.data / checkpoint records
 *  200– 299  Pekko types (typed ActorRef)
 *  300– 399  io.r1cluster.actors.transport control messages
 * 1000–1999  io.r1cluster.actors (rollout, reward, learner, GRPO stream)
 * 2000–2999  io.r1cluster.actors supervisor
 * 3000–3999  io.r1cluster.actors cluster / CLI
 * 10000+     r1.serialization.kryo.extra-registrations (config; tests)
 * </pre>
 */
public final class KryoRegistry {

  /** One registration: a fixed id and its class. */
  public record Entry(int id, Class<?> type) {}

  /** Smallest id accepted from {@code r1.serialization.kryo.extra-registrations}. */
  public static final int FIRST_EXTRA_ID = 10_000;

  /** Smallest id a {@link KryoProtocol} may use (below: the shared payload types listed here). */
  public static final int FIRST_PROTOCOL_ID = 300;

  private static final List<Entry> ENTRIES = new ArrayList<>();

  static {
    // ---- JDK: arrays stay primitive on the wire ----
    add(10, int[].class);
    add(11, float[].class);
    add(12, long[].class);
    add(13, double[].class);
    add(14, byte[].class);
    add(15, boolean[].class);
    add(16, short[].class);
    add(17, float[][].class);
    add(18, int[][].class);
    add(19, String[].class);
    add(20, Object[].class);
    // ---- JDK collections (immutable ones are what List.copyOf / Map.copyOf return) ----
    add(30, ArrayList.class);
    add(31, HashMap.class);
    add(32, LinkedHashMap.class);
    add(33, TreeMap.class);
    add(34, List.of().getClass()); // ListN
    add(35, List.of(1).getClass()); // List12
    add(36, Map.of().getClass()); // MapN
    add(37, Map.of(1, 1).getClass()); // Map1
    add(38, Set.of().getClass()); // SetN
    add(39, Set.of(1).getClass()); // Set12
    add(40, List.of(1, 2, 3).subList(0, 1).getClass()); // SubList of an immutable list
    add(41, Collections.emptyList().getClass());
    add(42, Collections.emptyMap().getClass());
    add(43, Collections.unmodifiableList(new ArrayList<>()).getClass());
    // ---- io.r1cluster.core ----
    add(100, Prompt.class);
    add(101, ChatMessage.class);
    add(102, Completion.class);
    add(103, FinishReason.class);
    add(104, Group.class);
    add(105, ScoredGroup.class);
    add(106, TrainBatch.class);
    add(107, DType.class);
    // ---- Pekko ----
    add(200, typedActorRefClass());
    // ---- every protocol's messages (ids >= FIRST_PROTOCOL_ID), in a fixed order ----
    // (retired, never to be reused: 1007, 1008 — the dispatcher's Scored / GenerateFailed before the
    // GRPO stream asked the workers)
    List<KryoProtocol> protocols = new ArrayList<>();
    ServiceLoader.load(KryoProtocol.class, KryoRegistry.class.getClassLoader()).forEach(protocols::add);
    protocols.sort(Comparator.comparing(p -> p.getClass().getName()));
    for (KryoProtocol p : protocols) {
      p.register((id, type) -> {
        if (id < FIRST_PROTOCOL_ID) {
          throw new IllegalStateException("Kryo registry: " + p.getClass().getName() + " registers " + type.getName()
              + " with id " + id + ", below the protocol range (>= " + FIRST_PROTOCOL_ID + ")");
        }
        add(id, type);
      });
    }
  }

  private KryoRegistry() {}

  private static void add(int id, Class<?> type) {
    checkedAdd(ENTRIES, id, type);
  }

  /** Appends {@code id → type} to {@code entries}, failing when the id or the class is taken or out of range. */
  static void checkedAdd(List<Entry> entries, int id, Class<?> type) {
    for (Entry e : entries) {
      if (e.id() == id || e.type() == type) {
        throw new IllegalStateException("Kryo registry: " + type.getName() + " id " + id + " clashes with "
            + e.type().getName() + " id " + e.id());
      }
    }
    if (id >= FIRST_EXTRA_ID) {
      throw new IllegalStateException("Kryo registry: id " + id + " is in the config range (>= " + FIRST_EXTRA_ID + ")");
    }
    entries.add(new Entry(id, type));
  }

  private static Class<?> typedActorRefClass() {
    try {
      // the one concrete typed ActorRef class (self refs, spawned refs, resolved remote refs)
      return Class.forName("org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter");
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Pekko typed ActorRefAdapter not found", e);
    }
  }

  /** The built-in registrations, in id order of declaration. */
  public static List<Entry> entries() {
    return List.copyOf(ENTRIES);
  }

  /**
   * Registers every entry (plus {@code extra}) on a fresh Kryo instance.
   *
   * @param extra additional class → id pairs (ids ≥ {@link #FIRST_EXTRA_ID})
   */
  static void registerAll(Kryo kryo, Supplier<ActorRefResolver> resolver, List<Entry> extra) {
    ImmutableCollectionsSerializers.addDefaultSerializers(kryo);
    kryo.addDefaultSerializer(ActorRef.class, new TypedActorRefSerializer(resolver));
    for (Entry e : ENTRIES) {
      register(kryo, e);
    }
    for (Entry e : extra) {
      if (e.id() < FIRST_EXTRA_ID) {
        throw new IllegalArgumentException("extra Kryo registration " + e.type().getName() + ": id " + e.id()
            + " must be >= " + FIRST_EXTRA_ID);
      }
      for (Entry b : ENTRIES) {
        if (b.type() == e.type()) {
          throw new IllegalArgumentException("extra Kryo registration " + e.type().getName()
              + " is already registered with id " + b.id());
        }
      }
      register(kryo, e);
    }
  }

  @SuppressWarnings({"rawtypes", "unchecked"})
  private static void register(Kryo kryo, Entry e) {
    Serializer bounded = BoundedReads.forType(kryo, e.type());
    if (e.type().isRecord()) {
      kryo.register(e.type(), new RecordSerializer(e.type()), e.id());
    } else if (bounded != null) {
      kryo.register(e.type(), bounded, e.id()); // lengths from the wire checked before allocating
    } else {
      kryo.register(e.type(), e.id());
    }
  }
}
