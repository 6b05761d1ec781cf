package io.r1cluster.actors.serialization;

/**
 * Marker for actor messages that cross node boundaries. {@code reference.conf} binds every
 * implementation to {@link KryoSerializer}; the class must also be listed in {@link KryoRegistry}
 * (registration is required: an unlisted class fails on the sender, and an unknown id from the wire
 * fails on the receiver).
 */
public interface KryoMessage {}
