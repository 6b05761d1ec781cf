package io.r1cluster.actors.serve;

import ai.djl.Device;
import io.r1cluster.actors.grpo.NodeResources;
import io.r1cluster.actors.grpo.RolloutBackend;
import io.r1cluster.actors.grpo.RolloutEngine;
import io.r1cluster.core.generate.BatchEngine;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * The serve role of a cluster member ({@code r1 member --roles serve}): the same OpenAI-compatible
 * API as {@code r1 serve} ({@link OpenAiServer}), on the node's own ActorSystem — its Prometheus
 * registry, its coordinated shutdown.
 *
 * <p>Which engine generates:
 *
 * <pre>
 * roles serve           one BatchEngine of its own over MODEL (as r1 serve)
 * roles rollout,serve   the node's rollout engines (NodeResources → RolloutEngine, one BatchEngine
 *                       per device): API requests join the running batch of the least-loaded device
 *                       beside the run's rollouts, with the run's current policy weights. Before the
 *                       node has joined a run and received weights: 503 model_not_ready + Retry-After.
 *                       MODEL gives the tokenizer and chat template; its vocabulary must be the run's.
 * </pre>
 */
public final class NodeServing implements AutoCloseable {
  /** The cluster role ({@code --roles serve}). */
  public static final String ROLE = "serve";

  /**
   * @param model MODEL as for {@code r1 serve} (checkpoint folder, HF cache name or demo)
   * @param servedName model id clients use (null: MODEL)
   * @param maxRows rows of the node's own engine (serve role alone)
   * @param maxWaiting sequences queued beyond the rows before 429
   */
  public record Settings(String model, String servedName, String host, int port, String apiKey, int maxRows,
      int maxWaiting, long seed) {}

  private final ServedModel model;
  private final EngineBackend backend;
  private final OpenAiServer server;

  private NodeServing(ServedModel model, EngineBackend backend, OpenAiServer server) {
    this.model = model;
    this.backend = backend;
    this.server = server;
  }

  /**
   * Loads MODEL and binds the API; {@code shareRollout}: generate with the node's rollout engines
   * instead of an engine of its own. Stopped by the node's coordinated shutdown (or {@link #close}).
   */
  public static NodeServing start(ActorSystem<?> system, Settings s, Device device, boolean shareRollout) {
    ServedModel model = ServedModel.load(s.model(), s.servedName(), s.seed(), device);
    EngineBackend backend = null;
    try {
      if (shareRollout) {
        backend = new EngineBackend(new RolloutEngines(system, model), s.maxWaiting());
      } else {
        int len = Math.min(4096, model.contextLength());
        model.limitContext(len);
        BatchEngine own = new BatchEngine(model.model(), false, 0, model::decode,
            new BatchEngine.Options(s.maxRows(), len, false), "serve");
        backend = new EngineBackend(own, true, s.maxWaiting());
      }
      OpenAiServer server = OpenAiServer.start(system, model, backend, new OpenAiServer.Settings(s.host(), s.port(),
          s.apiKey()));
      NodeServing n = new NodeServing(model, backend, server);
      // stop taking requests before the node leaves the cluster; in-flight streams get the grace period
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceUnbind(), "r1-serve-unbind", () -> {
        n.close();
        return CompletableFuture.completedFuture(Done.getInstance());
      });
      return n;
    } catch (RuntimeException e) {
      if (backend != null) {
        backend.close();
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

  public EngineBackend backend() {
    return backend;
  }

  public ServedModel model() {
    return model;
  }

  private boolean closed;

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    server.stop(Duration.ofSeconds(5));
    backend.close(); // closes the own engine only; the rollout engines belong to the node
    model.close();
  }

  /**
   * The node's rollout engines for the current run, checked once each against the served model's
   * vocabulary (asynchronously, on the engine's thread: the HTTP side never blocks on it).
   */
  private static final class RolloutEngines implements EngineBackend.Engines {
    private final NodeResources resources;
    private final ServedModel model;
    private final Map<BatchEngine, CompletableFuture<Integer>> vocab = new ConcurrentHashMap<>();

    RolloutEngines(ActorSystem<?> system, ServedModel model) {
      this.resources = NodeResources.get(system);
      this.model = model;
    }

    @Override
    public List<BatchEngine> current() {
      CompletableFuture<RolloutBackend> f = resources.rollout();
      if (!f.isDone()) {
        throw new ServeBackend.Unavailable("this node has not joined a run yet: no policy weights to serve", 5);
      }
      if (f.isCompletedExceptionally()) {
        throw new ServeBackend.Unavailable("this node's rollout engine failed to start", 30);
      }
      if (!(f.join() instanceof RolloutEngine r)) {
        throw new ServeBackend.Unavailable("this node's rollout backend is not a batched engine", 30);
      }
      List<BatchEngine> es = new ArrayList<>();
      for (int i = 0; i < r.devices().size(); i++) {
        BatchEngine e = r.batchEngine(i);
        if (e != null) {
          es.add(e);
        }
      }
      if (es.isEmpty()) {
        throw new ServeBackend.Unavailable("the run's weights have not reached this node yet", 2);
      }
      int served = model.model().config().vocabSize();
      int positions = Integer.MAX_VALUE;
      for (BatchEngine e : es) {
        CompletableFuture<Integer> v = vocab.computeIfAbsent(e, x -> x.withModel(m -> m.config().vocabSize()));
        if (!v.isDone()) {
          throw new ServeBackend.Unavailable("checking the run's model against " + model.id(), 1);
        }
        if (v.isCompletedExceptionally() || v.join() != served) {
          throw new ServeBackend.Unavailable("the run's policy has a vocabulary of "
              + (v.isCompletedExceptionally() ? "?" : v.join()) + " tokens, the served model " + model.id() + " of "
              + served + ": serve the run's model (member --serve-model)", 60);
        }
        positions = Math.min(positions, e.options().maxSeqLen());
      }
      vocab.keySet().retainAll(es); // engines of a replaced run
      model.limitContext(positions); // requests are checked against the rollout engines' positions
      return es;
    }
  }
}
