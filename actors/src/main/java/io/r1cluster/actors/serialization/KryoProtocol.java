package io.r1cluster.actors.serialization;

/**
 * One message family's Kryo ids, declared next to its messages (a nested {@code KryoIds} class in
 * the protocol's actor or record) and listed in
 * {@code META-INF/services/io.r1cluster.actors.serialization.KryoProtocol}, where
 * {@link KryoRegistry} finds it with {@link java.util.ServiceLoader}. An id never changes once
 * released (it, not the class name, goes on the wire); pick new ids from your package's block in
 * {@link KryoRegistry}. A message class no protocol registers cannot be sent.
 */
public interface KryoProtocol {

  /** Where a protocol adds its classes. */
  @FunctionalInterface
  interface Ids {
    /** Registers {@code type} under the wire id {@code id}; a clash with any other id or class fails at start-up. */
    void add(int id, Class<?> type);
  }

  /** Adds every class of this protocol that crosses a node boundary (messages and the records inside them). */
  void register(Ids ids);
}
