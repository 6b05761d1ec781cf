package io.r1cluster.actors.serialization;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.serializers.CollectionSerializer;
import com.esotericsoftware.kryo.serializers.MapSerializer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Length checks on everything Kryo sizes from a length prefix on the wire (arrays, collections,
 * maps, strings), done <em>before</em> anything is allocated: a length is refused when it exceeds the
 * configured bound ({@code r1.serialization.kryo.max-length}) or when the bytes left in the message
 * cannot possibly hold that many elements (a {@code double[]} of n needs 8n bytes, any element at least
 * one). Without this a 6-byte message announcing an {@code int[]} of 400 M elements makes Kryo
 * allocate 1.6 GB before it notices the data is missing.
 *
 * <p>The wire format is Kryo's own; only reading is guarded. A refused length is a
 * {@link KryoException} naming what was refused, which {@link KryoSerializer} turns into a rejected
 * message.
 */
final class BoundedReads {
  private BoundedReads() {}

  /** Refuses {@code n} elements of at least {@code minBytes} bytes each, read from {@code in}. */
  static void check(Input in, long n, int minBytes, String what) {
    long max = in instanceof BoundedInput b ? b.maxLength : Integer.MAX_VALUE;
    if (n < 0 || n > max) {
      throw new KryoException(what + " of length " + n + " exceeds r1.serialization.kryo.max-length " + max);
    }
    if (in.getInputStream() == null) {
      long left = in.limit() - in.position();
      if (n * minBytes > left) {
        throw new KryoException(what + " of length " + n + " needs at least " + n * minBytes
            + " bytes but the message has " + left + " left");
      }
    }
  }

  /** An {@link Input} that carries the configured bound and checks string lengths. */
  static final class BoundedInput extends Input {
    final int maxLength;

    BoundedInput(int maxLength) {
      this.maxLength = maxLength;
    }

    @Override
    public String readString() {
      int start = position;
      if (readVarIntFlag()) { // UTF-8 form: a char count follows (ASCII form is bounded by the bytes themselves)
        int count = readVarIntFlag(true);
        try {
          if (count > 1) {
            check(this, count - 1L, 1, "string");
          }
        } finally {
          position = start;
        }
      }
      return super.readString();
    }

    @Override
    public StringBuilder readStringBuilder() {
      int start = position;
      if (readVarIntFlag()) {
        int count = readVarIntFlag(true);
        try {
          if (count > 1) {
            check(this, count - 1L, 1, "string");
          }
        } finally {
          position = start;
        }
      }
      return super.readStringBuilder();
    }
  }

  /**
   * The bounded serializer for {@code type}, or {@code null} when Kryo's default needs no guard.
   * Arrays: Kryo's array serializers read {@code length + 1} as their first varint; it is peeked and
   * checked, then the default reads as usual. Collections and maps: the size is checked where they
   * allocate ({@code create}).
   */
  @SuppressWarnings({"rawtypes", "unchecked"})
  static Serializer<?> forType(Kryo kryo, Class<?> type) {
    if (type.isArray()) {
      return new ArrayGuard(kryo.getDefaultSerializer(type), elementBytes(type.getComponentType()), type.getSimpleName());
    }
    if (type == ArrayList.class) {
      return new BoundedCollection();
    }
    if (type == HashMap.class || type == LinkedHashMap.class || Map.class.isAssignableFrom(type)
        && kryo.getDefaultSerializer(type).getClass() == MapSerializer.class) {
      return new BoundedMap(false);
    }
    Serializer<?> d = kryo.getDefaultSerializer(type);
    String name = d.getClass().getName();
    if (name.endsWith("JdkImmutableListSerializer")) {
      return new BoundedImmutableCollection(false);
    }
    if (name.endsWith("JdkImmutableSetSerializer")) {
      return new BoundedImmutableCollection(true);
    }
    if (name.endsWith("JdkImmutableMapSerializer")) {
      return new BoundedMap(true);
    }
    return null;
  }

  private static int elementBytes(Class<?> c) {
    if (c == double.class) {
      return 8;
    }
    if (c == float.class) {
      return 4;
    }
    // int and long arrays are varint-encoded (1 byte and up); byte, boolean, and any object (a null
    // marker or class id) take at least one byte
    return 1;
  }

  /** Peeks the {@code length + 1} varint every Kryo array serializer starts with. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final class ArrayGuard extends Serializer<Object> {
    private final Serializer delegate;
    private final int elementBytes;
    private final String what;

    ArrayGuard(Serializer delegate, int elementBytes, String what) {
      super(delegate.getAcceptsNull(), delegate.isImmutable());
      this.delegate = delegate;
      this.elementBytes = elementBytes;
      this.what = what;
    }

    @Override
    public void write(Kryo kryo, Output output, Object object) {
      delegate.write(kryo, output, object);
    }

    @Override
    public Object read(Kryo kryo, Input input, Class type) {
      int start = input.position();
      int lengthPlusOne = input.readVarInt(true);
      try {
        if (lengthPlusOne > 1) {
          check(input, lengthPlusOne - 1L, elementBytes, what);
        }
      } finally {
        input.setPosition(start);
      }
      return delegate.read(kryo, input, type);
    }

    @Override
    public Object copy(Kryo kryo, Object original) {
      return delegate.copy(kryo, original);
    }
  }

  /** {@link ArrayList} with the size checked before it is pre-sized. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final class BoundedCollection extends CollectionSerializer<Collection> {
    @Override
    protected Collection create(Kryo kryo, Input input, Class<? extends Collection> type, int size) {
      check(input, size, 1, "collection");
      return super.create(kryo, input, type, size);
    }
  }

  /** {@code List.of}/{@code Set.of} results: read into a checked list, then made immutable again. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final class BoundedImmutableCollection extends CollectionSerializer<Collection> {
    private final boolean set;

    BoundedImmutableCollection(boolean set) {
      this.set = set;
      setElementsCanBeNull(false);
    }

    @Override
    protected Collection create(Kryo kryo, Input input, Class<? extends Collection> type, int size) {
      check(input, size, 1, set ? "set" : "list");
      return new ArrayList(size);
    }

    @Override
    public Collection read(Kryo kryo, Input input, Class<? extends Collection> type) {
      Collection c = super.read(kryo, input, type);
      return set ? Set.of(c.toArray()) : List.of(c.toArray());
    }

    @Override
    public Collection copy(Kryo kryo, Collection original) {
      return original; // immutable
    }
  }

  /** Maps (mutable ones, and {@code Map.of}/{@code Map.copyOf} results) with the size checked first. */
  @SuppressWarnings({"rawtypes", "unchecked"})
  private static final class BoundedMap extends MapSerializer<Map> {
    private final boolean immutable;

    BoundedMap(boolean immutable) {
      this.immutable = immutable;
      if (immutable) {
        setKeysCanBeNull(false);
        setValuesCanBeNull(false);
      }
    }

    @Override
    protected Map create(Kryo kryo, Input input, Class<? extends Map> type, int size) {
      check(input, size, 2, "map"); // a key and a value, at least a byte each
      return immutable ? new HashMap(size * 4 / 3 + 1) : super.create(kryo, input, type, size);
    }

    @Override
    public Map read(Kryo kryo, Input input, Class<? extends Map> type) {
      Map m = super.read(kryo, input, type);
      return immutable ? Map.copyOf(m) : m;
    }

    @Override
    public Map copy(Kryo kryo, Map original) {
      return immutable ? original : super.copy(kryo, original);
    }
  }
}
