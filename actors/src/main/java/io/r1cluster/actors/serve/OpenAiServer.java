package io.r1cluster.actors.serve;

import static org.apache.pekko.http.javadsl.server.PathMatchers.segment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.r1cluster.actors.metrics.Metrics;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.Cancellable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.IncomingConnection;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;

/**
 * The OpenAI-compatible HTTP API on Pekko HTTP:
 *
 * <pre>
 * GET  /health                 200 (no key needed; for probes)
 * GET  /metrics                Prometheus text format (no key needed)
 * GET  /v1/models              {"object": "list", "data": [{"id": MODEL, "object": "model", …}]}
 * POST /v1/chat/completions    chat.completion, or SSE chat.completion.chunk … [DONE] with "stream": true
 * POST /v1/completions         text_completion, or SSE text_completion … [DONE]
 * </pre>
 *
 * <p>With an API key set, {@code /v1/*} needs {@code Authorization: Bearer KEY} (else 401). A bad
 * body is 400 naming the field, another model 404, a full queue 429 with {@code Retry-After}, an
 * unknown route 404, a wrong method 405; every error has the OpenAI body ({@link ApiException}).
 * A client that disconnects — streaming or not — has its sequences cancelled when its connection
 * ends ({@link ClientConnection}): their rows leave the running batch at the next step.
 */
public final class OpenAiServer implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final StatusCode CLIENT_CLOSED = StatusCodes.custom(499, "Client Closed Request",
      "the client closed its connection before the answer was ready");
  private static final List<String> ROUTES = List.of("/health", "/metrics", "/v1/models", "/v1/chat/completions",
      "/v1/completions");

  /** Where to listen and the key clients must send (null: none). */
  public record Settings(String host, int port, String apiKey) {}

  private final ActorSystem<?> system;
  private final ServedModel model;
  private final ServeBackend backend;
  private final byte[] apiKey;
  private final ServeMetrics metrics;
  private final PrometheusRegistry registry;
  private final Materializer mat;
  private final SecureRandom ids = new SecureRandom();
  private final long created = System.currentTimeMillis() / 1000;
  private ServerBinding binding;
  private Cancellable sampler;

  private OpenAiServer(ActorSystem<?> system, ServedModel model, ServeBackend backend, String apiKey) {
    this.system = system;
    this.model = model;
    this.backend = backend;
    this.apiKey = apiKey == null ? null : apiKey.getBytes(StandardCharsets.UTF_8);
    this.registry = Metrics.get(system).registry();
    this.metrics = new ServeMetrics(registry);
    this.mat = Materializer.matFromSystem(system);
  }

  /** Binds and starts serving; the backend and model stay owned by the caller. */
  public static OpenAiServer start(ActorSystem<?> system, ServedModel model, ServeBackend backend, Settings s) {
    OpenAiServer srv = new OpenAiServer(system, model, backend, s.apiKey());
    // Connection-level binding: each connection's flow is watched, so a client that hangs up cancels its
    // generations when its connection ends (ClientConnection), not when a write to it fails.
    Flow<HttpRequest, HttpResponse, NotUsed> routes = srv.route().flow(system);
    int maxConnections = system.settings().config().getInt("pekko.http.server.max-connections");
    srv.binding = Http.get(system).newServerAt(s.host(), s.port()).connectionSource()
        .mapAsyncUnordered(maxConnections, c -> srv.serve(c, routes))
        .to(Sink.ignore())
        .run(srv.mat).toCompletableFuture().join();
    srv.sampler = system.scheduler().scheduleAtFixedRate(Duration.ofSeconds(1), Duration.ofSeconds(1),
        () -> srv.metrics.sample(backend), system.executionContext());
    return srv;
  }

  /** Serves one connection; completes when it ends, after its running generations were cancelled. */
  private CompletionStage<Done> serve(IncomingConnection c, Flow<HttpRequest, HttpResponse, NotUsed> routes) {
    ClientConnection conn = new ClientConnection();
    CompletionStage<Done> ended = c.handleWith(Flow.of(HttpRequest.class)
        // The request side ends when the client closes (or resets) its socket, also while a response
        // is still being generated; after a "Connection: close" request it ends only once the response is out.
        .watchTermination((m, requestsEnd) -> {
          requestsEnd.whenComplete((x, e) -> conn.closed());
          return m;
        })
        .map(r -> r.addAttribute(ClientConnection.KEY, conn))
        .via(routes)
        .watchTermination((m, done) -> done), mat);
    return ended.handle((x, err) -> {
      conn.closed();
      return Done.getInstance();
    });
  }

  public InetSocketAddress address() {
    return binding.localAddress();
  }

  /** {@code http://host:port/v1}, the base URL OpenAI clients take. */
  public String baseUrl() {
    InetSocketAddress a = address();
    return "http://" + a.getHostString() + ":" + a.getPort() + "/v1";
  }

  Route route() {
    AllDirectives d = new AllDirectives() {};
    return d.concat(
        d.path("health", () -> d.get(() -> d.complete(StatusCodes.OK, "ok"))),
        d.path("metrics", () -> d.get(() -> {
          metrics.sample(backend);
          return d.complete(HttpResponse.create().withEntity(
              ContentTypes.create(MediaTypes.TEXT_PLAIN, org.apache.pekko.http.javadsl.model.HttpCharsets.UTF_8),
              Metrics.scrape(registry)));
        })),
        d.pathPrefix("v1", () -> d.optionalHeaderValueByName("Authorization", auth -> {
          if (!authorized(auth)) {
            metrics.requests.labelValues("auth", "401").inc();
            return d.complete(error(new ApiException(401, "invalid_request_error", null, "invalid_api_key",
                "Incorrect API key provided (send Authorization: Bearer KEY)")));
          }
          return d.concat(
              d.path("models", () -> d.get(() -> {
                metrics.requests.labelValues("models", "200").inc();
                return d.complete(json(200, models()));
              })),
              d.path(segment("chat").slash("completions"), () -> d.post(() -> generate(d, true))),
              d.path("completions", () -> d.post(() -> generate(d, false))));
        })),
        d.extractRequest(req -> {
          String path = req.getUri().path();
          boolean known = ROUTES.contains(path);
          return d.complete(error(new ApiException(known ? 405 : 404, "invalid_request_error", null, null,
              (known ? "method " + req.method().value() + " not allowed on " : "no route ") + path)));
        }));
  }

  private boolean authorized(Optional<String> header) {
    if (apiKey == null) {
      return true;
    }
    String h = header.orElse("");
    if (!h.startsWith("Bearer ")) {
      return false;
    }
    return MessageDigest.isEqual(apiKey, h.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8));
  }

  private ObjectNode models() {
    ObjectNode o = JSON.createObjectNode();
    o.put("object", "list");
    ObjectNode m = o.putArray("data").addObject();
    m.put("id", model.id());
    m.put("object", "model");
    m.put("created", created);
    m.put("owned_by", "r1");
    m.put("max_model_len", model.contextLength());
    return o;
  }

  private Route generate(AllDirectives d, boolean chat) {
    return d.optionalAttribute(ClientConnection.KEY, conn -> d.entity(Unmarshaller.entityToString(),
        body -> generate(d, chat, body, conn.orElseGet(ClientConnection::new))));
  }

  private Route generate(AllDirectives d, boolean chat, String body, ClientConnection conn) {
    String endpoint = chat ? "chat" : "completions";
    long t0 = System.nanoTime();
    ApiRequest req;
    try {
      req = ApiRequest.parse(body, chat, model, JSON);
    } catch (ApiException e) {
      metrics.requests.labelValues(endpoint, String.valueOf(e.status())).inc();
      return d.complete(error(e));
    } catch (RuntimeException e) {
      metrics.requests.labelValues(endpoint, "400").inc();
      return d.complete(error(ApiException.badField(null, "cannot read the request: " + e)));
    }
    String id = (chat ? "chatcmpl-" : "cmpl-") + HexFormat.of().formatHex(ids.generateSeed(12));
    long seed = req.seed() != null ? req.seed() : ids.nextLong();
    Runnable first = () -> metrics.ttft.observe((System.nanoTime() - t0) / 1e9);
    if (!req.stream()) {
      Generation g = new Generation(req, model, JSON, id, System.currentTimeMillis() / 1000, null, first);
      try {
        g.attach(backend.submit(g.jobs(seed)));
      } catch (ServeBackend.Busy | ServeBackend.Unavailable | ApiException e) {
        return d.complete(refused(endpoint, e));
      }
      conn.register(g);
      CompletionStage<HttpResponse> resp = g.result().handle((o, err) -> {
        conn.done(g);
        if (err instanceof CancellationException || err != null && err.getCause() instanceof CancellationException) {
          metrics.requests.labelValues(endpoint, "499").inc(); // nginx's "client closed request"; nobody reads this
          return HttpResponse.create().withStatus(CLIENT_CLOSED);
        }
        if (err != null) {
          metrics.requests.labelValues(endpoint, "500").inc();
          return error(new ApiException(500, "server_error", null, null, "generation failed: " + err));
        }
        metrics.requests.labelValues(endpoint, "200").inc();
        return json(200, o);
      });
      return d.completeWithFuture(resp);
    }
    int cap = req.n() * (req.params().maxNewTokens() + 4) + 16;
    Pair<BoundedSourceQueue<ByteString>, Source<ByteString, NotUsed>> q =
        Source.<ByteString>queue(cap).preMaterialize(mat);
    BoundedSourceQueue<ByteString> queue = q.first();
    Generation[] holder = new Generation[1];
    Generation g = new Generation(req, model, JSON, id, System.currentTimeMillis() / 1000, payload -> {
      QueueOfferResult r = queue.offer(ByteString.fromString("data: " + payload + "\n\n", StandardCharsets.UTF_8));
      if (r != QueueOfferResult.enqueued()) {
        holder[0].cancel(); // the client is gone (or too slow to read its own tokens)
      }
      if (Generation.DONE.equals(payload)) {
        queue.complete();
      }
    }, first);
    holder[0] = g;
    try {
      g.start();
      g.attach(backend.submit(g.jobs(seed)));
    } catch (ServeBackend.Busy | ServeBackend.Unavailable | ApiException e) {
      queue.complete();
      return d.complete(refused(endpoint, e));
    }
    conn.register(g);
    metrics.requests.labelValues(endpoint, "200").inc();
    Source<ByteString, ?> src = q.second().watchTermination((m, done) -> {
      done.whenComplete((x, err) -> { // finished or client gone: either way no row stays
        g.cancel();
        conn.done(g);
      });
      return m;
    });
    return d.complete(HttpResponse.create()
        .addHeader(RawHeader.create("Cache-Control", "no-cache"))
        .withEntity(HttpEntities.createChunked(ContentTypes.create(MediaTypes.TEXT_EVENT_STREAM), src)));
  }

  /**
   * The answer to a submission the backend refused: 429 queue full, 503 nothing to generate with yet
   * (both with Retry-After), or a 4xx the engine's limits give.
   */
  private HttpResponse refused(String endpoint, RuntimeException e) {
    HttpResponse r;
    if (e instanceof ServeBackend.Busy b) {
      r = error(new ApiException(429, "rate_limit_error", null, "queue_full", b.getMessage() + "; retry later"))
          .addHeader(RawHeader.create("Retry-After", String.valueOf(b.retryAfterSeconds())));
    } else if (e instanceof ServeBackend.Unavailable u) {
      r = error(new ApiException(503, "server_error", null, "model_not_ready", u.getMessage()))
          .addHeader(RawHeader.create("Retry-After", String.valueOf(u.retryAfterSeconds())));
    } else {
      r = error((ApiException) e);
    }
    metrics.requests.labelValues(endpoint, String.valueOf(r.status().intValue())).inc();
    return r;
  }

  private static HttpResponse json(int status, ObjectNode body) {
    return HttpResponse.create().withStatus(status)
        .withEntity(HttpEntities.create(ContentTypes.APPLICATION_JSON, body.toString()));
  }

  private static HttpResponse error(ApiException e) {
    return json(e.status(), e.body(JSON));
  }

  /** Stops accepting connections and waits up to {@code grace} for open ones. */
  public void stop(Duration grace) {
    if (sampler != null) {
      sampler.cancel();
    }
    if (binding != null) {
      binding.terminate(grace).toCompletableFuture().orTimeout(grace.toMillis() + 5000, TimeUnit.MILLISECONDS)
          .exceptionally(t -> null).join();
    }
  }

  @Override
  public void close() {
    stop(Duration.ofSeconds(2));
  }
}
