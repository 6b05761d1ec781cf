package io.r1cluster.actors.serialization;

/**
 * Marker for actor messages that cross node boundaries. {@code reference.conf} binds every
 * implementation to {@link KryoSerializer}; the class must also have an id in its protocol's
 * {@link KryoProtocol} (see {@link KryoRegistry}; registration is required: an unlisted class fails
 * on the sender, and an unknown id from the wire fails on the receiver).
 */
public interface KryoMessage {}
