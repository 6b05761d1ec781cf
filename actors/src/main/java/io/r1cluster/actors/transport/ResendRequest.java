package io.r1cluster.actors.transport;

import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.actors.serialization.KryoProtocol;
import java.util.List;

/**
 * A small control message from a weight receiver's node to the publisher's node: please publish
 * these parts of {@code version} again. Produced by {@link WeightReceiver#resendRequest(long)},
 * served by {@link WeightPublisher#resend(ResendRequest)}.
 *
 * @param publisherId the publisher the receiver expects (a request for another publisher is ignored)
 * @param version the snapshot version
 * @param ranges missing chunk ranges; {@code [ChunkRange.ALL]} when the manifest was never seen
 */
public record ResendRequest(long publisherId, long version, List<ChunkRange> ranges) implements KryoMessage {
  public ResendRequest {
    ranges = List.copyOf(ranges);
  }

  /** Wire ids of the resend protocol (block 300–399; see {@code KryoRegistry}). */
  public static final class KryoIds implements KryoProtocol {
    @Override
    public void register(KryoProtocol.Ids ids) {
      ids.add(300, ChunkRange.class);
      ids.add(301, ResendRequest.class);
    }
  }
}
