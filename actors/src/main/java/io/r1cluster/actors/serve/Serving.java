package io.r1cluster.actors.serve;

import ai.djl.Device;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.r1cluster.core.generate.BatchEngine;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * A standalone server: a local ActorSystem (for Pekko HTTP and the metrics registry), the model,
 * one {@link BatchEngine} for it and the {@link OpenAiServer} in front. {@code r1 serve}, {@code r1
 * chat}, the serve benchmark and the tests start it the same way.
 */
public final class Serving implements AutoCloseable {
  /**
   * @param host address to bind ({@code 127.0.0.1} by default; {@code 0.0.0.0} for all interfaces)
   * @param port TCP port (0: any free one)
   * @param apiKey key clients must send as {@code Authorization: Bearer KEY}; null for none
   * @param servedName model id clients use; null: the MODEL argument
   * @param maxRows sequences decoded together (rows of the engine)
   * @param maxWaiting sequences queued beyond the rows before 429
   * @param maxModelLen prompt + completion tokens at most (0: the model's context length, capped at 4096)
   * @param seed weights of the built-in demo model
   */
  public record Options(String host, int port, String apiKey, String servedName, int maxRows, int maxWaiting,
      int maxModelLen, long seed) {
    public static Options defaults() {
      return new Options("127.0.0.1", 8000, null, null, 64, 256, 0, 0);
    }

    public Options withPort(int p) {
      return new Options(host, p, apiKey, servedName, maxRows, maxWaiting, maxModelLen, seed);
    }

    public Options withApiKey(String k) {
      return new Options(host, port, k, servedName, maxRows, maxWaiting, maxModelLen, seed);
    }

    public Options withQueue(int rows, int waiting) {
      return new Options(host, port, apiKey, servedName, rows, waiting, maxModelLen, seed);
    }

    public Options withServedName(String name) {
      return new Options(host, port, apiKey, name, maxRows, maxWaiting, maxModelLen, seed);
    }
  }

  private final ActorSystem<Void> system;
  private final ServedModel model;
  private final ServeBackend backend;
  private final OpenAiServer server;

  private Serving(ActorSystem<Void> system, ServedModel model, ServeBackend backend, OpenAiServer server) {
    this.system = system;
    this.model = model;
    this.backend = backend;
    this.server = server;
  }

  /** Loads {@code modelArg} on {@code device} and starts serving it. */
  public static Serving start(String modelArg, Device device, Options o) {
    ServedModel model = ServedModel.load(modelArg, o.servedName(), o.seed(), device);
    ActorSystem<Void> system = null;
    BatchEngine engine = null;
    try {
      int len = o.maxModelLen() > 0 ? Math.min(o.maxModelLen(), model.contextLength()) : Math.min(4096, model.contextLength());
      model.limitContext(len);
      engine = new BatchEngine(model.model(), false, 0, model::decode, new BatchEngine.Options(o.maxRows(), len, false),
          "serve");
      ServeBackend backend = new EngineBackend(engine, true, o.maxWaiting());
      Config config = ConfigFactory.parseString("pekko.actor.provider = local\n"
          + "pekko.coordinated-shutdown.exit-jvm = off\n"
          + "pekko.http.server.idle-timeout = 600s\n"
          + "pekko.http.server.request-timeout = 600s\n"
          + "pekko.loglevel = WARNING").withFallback(ConfigFactory.load());
      system = ActorSystem.create(Behaviors.empty(), "r1-serve", config);
      OpenAiServer server = OpenAiServer.start(system, model, backend,
          new OpenAiServer.Settings(o.host(), o.port(), o.apiKey()));
      return new Serving(system, model, backend, server);
    } catch (RuntimeException e) {
      if (engine != null) {
        engine.close();
      }
      if (system != null) {
        system.terminate();
      }
      model.close();
      throw e;
    }
  }

  public InetSocketAddress address() {
    return server.address();
  }

  /** {@code http://host:port/v1}, the base URL OpenAI clients take. */
  public String baseUrl() {
    return server.baseUrl();
  }

  public ServedModel model() {
    return model;
  }

  public ServeBackend backend() {
    return backend;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  @Override
  public void close() {
    server.stop(Duration.ofSeconds(2));
    backend.close();
    system.terminate();
    try {
      system.getWhenTerminated().toCompletableFuture().get(20, java.util.concurrent.TimeUnit.SECONDS);
    } catch (Exception e) {
      // the JVM may be exiting; nothing else to release
    }
    model.close();
  }
}
