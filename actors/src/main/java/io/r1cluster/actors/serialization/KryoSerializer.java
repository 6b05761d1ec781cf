package io.r1cluster.actors.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Registration;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.DefaultClassResolver;
import com.esotericsoftware.kryo.util.Pool;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * The one Pekko serializer for cross-node messages, backed by Kryo 5 with registration required.
 *
 * <p>Wire format: Kryo's varint class id (from {@link KryoRegistry}, never a class name) followed by
 * the object. No Pekko manifest is used: the id identifies the class. Decoding an id that this node
 * does not know, or a class name (which Kryo would otherwise accept), fails before any object is
 * created.
 *
 * <p>Thread-safe: Kryo instances (with their Output/Input) come from a pool. Typed {@code ActorRef}s
 * travel as path strings through {@link ActorRefResolver}.
 *
 * <p>Configured in {@code reference.conf} as serializer {@code r1-kryo}, bound to
 * {@link KryoMessage} and the core data records. Extra classes (tests, plug-ins) can be registered
 * with {@code r1.serialization.kryo.extra-registrations { "fully.qualified.Name" = 10001 }}.
 *
 * <p>Reading is bounded ({@link BoundedReads}): an array, collection or string length from the wire
 * beyond {@code r1.serialization.kryo.max-length}, or beyond what the message's remaining bytes can
 * hold, is rejected before anything is allocated.
 */
public final class KryoSerializer extends JSerializer {

  /** Pekko serializer id; must never change (it is written into every remote envelope). */
  public static final int IDENTIFIER = 7341;

  private static final byte[] EMPTY = new byte[0];
  private static final int INITIAL_BUFFER = 4096;
  /** Output buffers that grew past this are dropped after use instead of kept in the pool. */
  private static final int KEEP_BUFFER_MAX = 1 << 20;

  private final ExtendedActorSystem system;
  private final List<KryoRegistry.Entry> extra;
  private final int maxLength;
  private volatile ActorRefResolver resolver;
  private final Pool<Holder> pool;

  /** Per-instance Kryo plus reusable streams; used by one thread at a time. */
  private static final class Holder {
    final Kryo kryo;
    Output output = new Output(INITIAL_BUFFER, -1);
    final Input input;

    Holder(Kryo kryo, int maxLength) {
      this.kryo = kryo;
      this.input = new BoundedReads.BoundedInput(maxLength);
    }
  }

  /** Refuses class names on the wire: with registration required only ids are legitimate. */
  private static final class IdOnlyClassResolver extends DefaultClassResolver {
    @Override
    protected Registration readName(Input input) {
      throw new KryoException("class name on the wire rejected (r1-kryo accepts registered class ids only)");
    }
  }

  /** Called reflectively by Pekko. */
  public KryoSerializer(ExtendedActorSystem system) {
    this.system = system;
    this.extra = extraRegistrations(system.settings().config(), system.dynamicAccess().classLoader());
    this.maxLength = maxLength(system.settings().config());
    this.pool = new Pool<>(true, false, 64) {
      @Override
      protected Holder create() {
        return new Holder(newKryo(), maxLength);
      }
    };
  }

  private Kryo newKryo() {
    Kryo kryo = new Kryo(new IdOnlyClassResolver(), null);
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    kryo.setClassLoader(system.dynamicAccess().classLoader());
    KryoRegistry.registerAll(kryo, this::resolver, extra);
    return kryo;
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) {
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }

  /** {@code r1.serialization.kryo.max-length}: the longest array, collection or string accepted from the wire. */
  static int maxLength(Config config) {
    String path = "r1.serialization.kryo.max-length";
    int n = config.hasPath(path) ? config.getInt(path) : 16 * 1024 * 1024;
    if (n < 1) {
      throw new IllegalArgumentException(path + " must be at least 1, got " + n);
    }
    return n;
  }

  static List<KryoRegistry.Entry> extraRegistrations(Config config, ClassLoader loader) {
    String path = "r1.serialization.kryo.extra-registrations";
    List<KryoRegistry.Entry> out = new ArrayList<>();
    if (!config.hasPath(path)) {
      return out;
    }
    for (Map.Entry<String, ConfigValue> e : config.getObject(path).entrySet()) {
      String name = e.getKey();
      int id = config.getObject(path).toConfig().getInt("\"" + name + "\"");
      try {
        out.add(new KryoRegistry.Entry(id, Class.forName(name, false, loader)));
      } catch (ClassNotFoundException ex) {
        throw new IllegalArgumentException(path + ": class " + name + " not found", ex);
      }
    }
    return out;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    Holder h = pool.obtain();
    try {
      h.output.reset();
      h.kryo.writeClassAndObject(h.output, o);
      byte[] bytes = h.output.toBytes();
      if (h.output.getBuffer().length > KEEP_BUFFER_MAX) {
        h.output = new Output(INITIAL_BUFFER, -1);
      }
      return bytes;
    } catch (IllegalArgumentException | KryoException e) {
      throw new IllegalArgumentException("r1-kryo cannot serialize " + o.getClass().getName()
          + " (every class in a message needs a Kryo id: a line in its protocol's KryoIds, see KryoRegistry): " + e.getMessage(), e);
    } finally {
      pool.free(h);
    }
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    Holder h = pool.obtain();
    try {
      h.input.setBuffer(bytes);
      Object o = h.kryo.readClassAndObject(h.input);
      if (h.input.position() != bytes.length) {
        throw new IllegalArgumentException("r1-kryo: " + (bytes.length - h.input.position())
            + " trailing bytes after " + (o == null ? "null" : o.getClass().getName()));
      }
      return o;
    } catch (KryoException e) {
      throw new IllegalArgumentException("r1-kryo rejected a message from the wire: " + e.getMessage(), e);
    } finally {
      h.input.setBuffer(EMPTY);
      pool.free(h);
    }
  }
}
