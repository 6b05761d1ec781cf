package io.r1cluster.actors.grpo;

import com.typesafe.config.Config;
import io.r1cluster.actors.transport.AeronSettings;
import io.r1cluster.actors.transport.EmbeddedAeron;
import io.r1cluster.actors.transport.WeightChannels;
import io.r1cluster.actors.transport.WeightKey;
import io.r1cluster.actors.transport.WeightPublisher;
import io.r1cluster.core.recipe.Transport;

/**
 * The weight publication a run's rollout nodes read, on the node that owns the weights (the GRPO
 * learner, or a pipeline's teacher): the embedded Aeron media driver, the {@link WeightPublisher}
 * and where receivers find it ({@link RunSpec.WeightSource}). IPC inside one host; UDP
 * multi-destination-cast between hosts, with the control endpoint on this node. Each feed draws a
 * fresh {@link WeightKey}: receivers learn it from the run spec (over Artery) and accept only messages
 * tagged with it.
 */
public final class WeightFeed implements AutoCloseable {
  private final EmbeddedAeron aeron;
  private final WeightPublisher publisher;
  private final RunSpec.WeightSource source;

  private WeightFeed(EmbeddedAeron aeron, WeightPublisher publisher, RunSpec.WeightSource source) {
    this.aeron = aeron;
    this.publisher = publisher;
    this.source = source;
  }

  /**
   * Launches the media driver and adds the publication (blocking).
   *
   * @param config the ActorSystem's config ({@code r1.transport.aeron}, {@code r1.grpo.weights})
   * @param host this node's hostname (UDP control endpoint, unless {@code r1.grpo.weights.udp-control-host} is set)
   */
  public static WeightFeed open(Transport transport, Config config, String host) {
    AeronSettings as = AeronSettings.fromConfig(config);
    GrpoActorSettings gs = GrpoActorSettings.fromConfig(config);
    EmbeddedAeron aeron = EmbeddedAeron.launch(as);
    WeightKey key = WeightKey.random();
    try {
      if (transport == Transport.IPC) {
        WeightPublisher pub = WeightPublisher.create(aeron.aeron(), WeightChannels.ipc(as), as, key);
        return new WeightFeed(aeron, pub,
            new RunSpec.WeightSource("IPC", aeron.directory(), "", pub.publisherId(), 0, key.bytes()));
      }
      String control = (gs.udpControlHost().isEmpty() ? host : gs.udpControlHost()) + ":" + gs.udpControlPort();
      WeightPublisher pub = WeightPublisher.create(aeron.aeron(), WeightChannels.udpPublication(as, control), as, key);
      return new WeightFeed(aeron, pub, new RunSpec.WeightSource("UDP", "", control, pub.publisherId(), 0, key.bytes()));
    } catch (RuntimeException e) {
      aeron.close();
      throw e;
    }
  }

  public WeightPublisher publisher() {
    return publisher;
  }

  /** Where receivers find the publication, announcing {@code version} as the newest published so far. */
  public RunSpec.WeightSource source(long version) {
    return source.withVersion(version);
  }

  @Override
  public void close() {
    publisher.close();
    aeron.close();
  }
}
