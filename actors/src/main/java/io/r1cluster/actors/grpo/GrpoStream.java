package io.r1cluster.actors.grpo;

import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.ScoredGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.Supervision;
import org.apache.pekko.stream.typed.javadsl.ActorSink;
import org.apache.pekko.stream.typed.javadsl.ActorSource;

/**
 * The GRPO data path as a Pekko Streams graph, run on the learner node by its
 * {@link PromptDispatcher}:
 *
 * <pre>
 *   ActorSource ──► mapAsyncUnordered(p) ──────► mapAsyncUnordered(p) ──────► batch ──► ActorSink
 *   (attempts the    ask a RolloutWorker entity    ask a RewardWorker the                (ack-based: the
 *    ledger hands     (Cluster Sharding, least     Receptionist lists (least             dispatcher buffers
 *    out; a batch     outstanding first)           outstanding, at most                  groups for the
 *    per ack)                                      {@link RewardPool#PER_WORKER} each)   learner)
 * </pre>
 *
 * Backpressure runs end to end: the source emits only on demand (the dispatcher sends the next
 * attempts after the source's ack), and the dispatcher hands out a new prompt only while the
 * ledger's in-flight budget {@code (max_staleness + 1) × prompts_per_step} allows — a prompt leaves
 * the budget when the learner takes its group, so a slow learner stalls the source, and with it
 * the rollouts, instead of growing queues. {@code p} is that budget: every prompt in flight can be
 * generating at once, and the rollout nodes' slots decide how many actually run.
 *
 * <p>Failures never take the stream down: an attempt the ledger gives up on (its rollout entity
 * stopped reporting that it holds it: a dead node, see {@link InFlight}), an ask that times out or a
 * typed failure reply becomes a failed {@link Outcome}, which returns the prompt to the ledger for
 * re-dispatch; anything thrown inside a stage is resumed (the element is dropped and the ledger's
 * deadline re-dispatches its prompt).
 *
 * <p>Deadlines: a generation may take any time while its entity reports it every quarter of
 * {@code dispatch-timeout} ({@link RolloutWorker.Working}, which renews the attempt in the ledger);
 * so may scoring: a group waiting here for a free reward worker is renewed by the dispatcher, and a
 * reward worker reports the groups it holds the same way (each group's scoring is bounded by the
 * worker's {@code scoring-timeout}).
 */
final class GrpoStream {
  private GrpoStream() {}

  /** One attempt entering the graph. */
  record Attempt(long dispatchId, Prompt prompt, long seed, long minVersion) implements NoSerializationVerificationNeeded {}

  /**
   * The attempts waiting for their rollout entity's or reward worker's reply, and those waiting here
   * for a free reward worker. Neither ask has a deadline of its own ({@link RolloutWorker#ASK_LIMIT}):
   * the dispatcher ends ({@link #lapse}) the attempts its ledger gave up on (their entity or worker
   * stopped reporting them), so a long generation or slow scoring on a live node runs to the end and
   * a dead node's attempts end on time. An attempt waiting for a reward worker is on this node: the
   * dispatcher renews it ({@link #queuedForScoring}) however long the queue.
   */
  static final class InFlight {
    private final java.util.concurrent.ConcurrentHashMap<Long, CompletableFuture<?>> waiting =
        new java.util.concurrent.ConcurrentHashMap<>();
    private final Set<Long> queued = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** The attempts whose group waits on this node for a free reward worker. */
    Set<Long> queuedForScoring() {
      return queued;
    }

    /**
     * Sends {@code ask} for attempt {@code dispatchId} and returns its reply, which {@link #lapse}
     * can end first (the caller removes the entry once the reply is handled).
     */
    <T> CompletableFuture<T> ask(long dispatchId, java.util.function.Supplier<CompletionStage<T>> ask) {
      CompletableFuture<T> reply = new CompletableFuture<>();
      waiting.put(dispatchId, reply);
      ask.get().whenCompleteAsync((ok, err) -> {
        if (err != null) {
          reply.completeExceptionally(err);
        } else {
          reply.complete(ok);
        }
      }, SAME_THREAD);
      return reply;
    }

    /** Ends the attempt's wait with a failure (nothing if its reply came already). */
    void lapse(long dispatchId, String why) {
      CompletableFuture<?> f = waiting.remove(dispatchId);
      if (f != null) {
        f.completeExceptionally(new java.util.concurrent.TimeoutException(why));
      }
    }
  }

  /** Attempts the dispatcher sends into the source at once (one message and one ack per batch, not per prompt). */
  record Attempts(List<Attempt> attempts) implements NoSerializationVerificationNeeded {}

  /** What came out of the graph for an attempt: the scored group, or why there is none. */
  record Outcome(long dispatchId, ScoredGroup group, long generateNanos, String failure)
      implements NoSerializationVerificationNeeded {
    static Outcome failed(long dispatchId, String why) {
      return new Outcome(dispatchId, null, 0, why);
    }
  }

  /** The source's ack (the dispatcher may send the next attempt) and the sink's ack (send the next outcome). */
  enum Ack implements PromptDispatcher.Command, NoSerializationVerificationNeeded { INSTANCE }

  private record Rolled(Attempt attempt, RolloutWorker.Reply reply) {}

  /**
   * Materializes the graph; it lives as long as the dispatcher ({@code materializer} is bound to
   * it). Returns the source's actor ref: send it one {@link Attempts} batch per {@link Ack}. The sink
   * hands the dispatcher the outcomes gathered while it was busy with the previous ones, one
   * {@link PromptDispatcher.Arrived} per ack (batched only under backpressure: no added latency).
   */
  static ActorRef<Attempts> run(ActorSystem<?> system, Materializer materializer, GrpoActorSettings settings,
      String runId, int parallelism, RewardPool rewards, ActorRef<PromptDispatcher.Command> dispatcher, InFlight inFlight) {
    Rollouts rollouts = new Rollouts(system, settings, runId, dispatcher.narrow(), inFlight);
    Scoring scoring = new Scoring(system, rewards, dispatcher.narrow(), settings, inFlight);
    ActorRef<Ack> sourceReady = dispatcher.narrow();
    return ActorSource.<Attempts, Ack>actorRefWithBackpressure(sourceReady, Ack.INSTANCE, a -> Optional.empty(),
            a -> Optional.empty())
        .mapConcat(Attempts::attempts)
        .mapAsyncUnordered(parallelism, rollouts::generate)
        .mapAsyncUnordered(parallelism, scoring::score)
        .batch(parallelism, GrpoStream::firstOf, GrpoStream::add)
        .to(ActorSink.<List<Outcome>, PromptDispatcher.Command, Ack>actorRefWithBackpressure(dispatcher,
            PromptDispatcher.Arrived::new, PromptDispatcher.SinkStarted::new, Ack.INSTANCE,
            new PromptDispatcher.StreamEnded(null), PromptDispatcher.StreamEnded::new)
            // hold one batch at a time: while the dispatcher has not acked, outcomes gather in the batch stage
            .withAttributes(Attributes.inputBuffer(1, 1)))
        .withAttributes(ActorAttributes.withSupervisionStrategy(Supervision.getResumingDecider()))
        .run(materializer);
  }

  private static List<Outcome> firstOf(Outcome o) {
    List<Outcome> l = new ArrayList<>();
    l.add(o);
    return l;
  }

  private static List<Outcome> add(List<Outcome> l, Outcome o) {
    l.add(o);
    return l;
  }

  /**
   * Runs continuations on the thread that completes the ask (a few field updates). Needed because
   * the stages Pekko's asks return turn {@code handle}/{@code whenComplete} into their {@code Async}
   * forms on the common pool — which, with fewer than 3 cores, starts a new thread per task.
   */
  private static final java.util.concurrent.Executor SAME_THREAD = Runnable::run;

  private static String why(Throwable err) {
    Throwable t = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
    return t instanceof java.util.concurrent.TimeoutException ? "no reply in time (" + t.getMessage() + ")" : t.toString();
  }

  /**
   * Scores generated groups on the reward pool. A group first waits here for a worker with room
   * (renewed in the ledger meanwhile: it is on this node), then the worker reports it until it
   * answers. Called from the stream's stage only.
   */
  private static final class Scoring {
    private final ActorSystem<?> system;
    private final RewardPool rewards;
    private final ActorRef<RolloutWorker.Working> progressTo;
    private final long progressEveryMillis;
    private final InFlight inFlight;

    Scoring(ActorSystem<?> system, RewardPool rewards, ActorRef<RolloutWorker.Working> progressTo,
        GrpoActorSettings settings, InFlight inFlight) {
      this.system = system;
      this.rewards = rewards;
      this.progressTo = progressTo;
      this.progressEveryMillis = RolloutWorker.reportEvery(settings.dispatchTimeout()).toMillis();
      this.inFlight = inFlight;
    }

    CompletionStage<Outcome> score(Rolled r) {
      Attempt a = r.attempt();
      if (!(r.reply() instanceof RolloutWorker.Generated g)) {
        String reason = r.reply() instanceof RolloutWorker.GenerateFailed f ? f.reason() : String.valueOf(r.reply());
        return CompletableFuture.completedFuture(Outcome.failed(a.dispatchId(), reason));
      }
      inFlight.queued.add(a.dispatchId());
      return rewards.acquire(RolloutWorker.ASK_LIMIT)
          .thenCompose(worker -> {
            CompletableFuture<RewardWorker.Reply> reply = inFlight.ask(a.dispatchId(),
                () -> AskPattern.<RewardWorker.Command, RewardWorker.Reply>ask(worker,
                    replyTo -> new RewardWorker.Score(a.dispatchId(), g.group(), replyTo, progressTo, progressEveryMillis),
                    RolloutWorker.ASK_LIMIT, system.scheduler()));
            inFlight.queued.remove(a.dispatchId());
            return reply.whenCompleteAsync((ok, err) -> rewards.release(worker), SAME_THREAD);
          })
          .handleAsync((reply, err) -> {
            inFlight.queued.remove(a.dispatchId());
            inFlight.waiting.remove(a.dispatchId());
            if (reply instanceof RewardWorker.Scored s) {
              return new Outcome(a.dispatchId(), s.group(), g.generateNanos(), null);
            }
            return Outcome.failed(a.dispatchId(), err != null ? "reward: " + why(err)
                : reply instanceof RewardWorker.ScoreFailed f ? f.reason() : String.valueOf(reply));
          }, SAME_THREAD);
    }
  }

  /** The rollout entities, asked least-outstanding first. Called from the stream's stage only. */
  private static final class Rollouts {
    private final List<EntityRef<RolloutWorker.Command>> entities = new ArrayList<>();
    private final AtomicIntegerArray outstanding;
    private final String runId;
    private final ActorRef<RolloutWorker.Working> progressTo;
    private final long progressEveryMillis;
    private final InFlight inFlight;

    Rollouts(ActorSystem<?> system, GrpoActorSettings settings, String runId, ActorRef<RolloutWorker.Working> progressTo,
        InFlight inFlight) {
      this.runId = runId;
      this.progressTo = progressTo;
      this.inFlight = inFlight;
      this.progressEveryMillis = RolloutWorker.reportEvery(settings.dispatchTimeout()).toMillis();
      ClusterSharding sharding = ClusterSharding.get(system);
      for (int i = 0; i < settings.rolloutEntities(); i++) {
        entities.add(sharding.entityRefFor(RolloutWorker.TYPE_KEY, settings.entityId(i)));
      }
      outstanding = new AtomicIntegerArray(entities.size());
    }

    CompletionStage<Rolled> generate(Attempt a) {
      int best = 0;
      for (int i = 1; i < entities.size(); i++) {
        if (outstanding.get(i) < outstanding.get(best)) {
          best = i;
        }
      }
      int chosen = best;
      outstanding.incrementAndGet(chosen);
      CompletableFuture<RolloutWorker.Reply> reply = inFlight.ask(a.dispatchId(),
          () -> entities.get(chosen).<RolloutWorker.Reply>ask(replyTo -> new RolloutWorker.Generate(a.dispatchId(), runId,
              a.prompt(), a.seed(), a.minVersion(), replyTo, progressTo, progressEveryMillis), RolloutWorker.ASK_LIMIT));
      return reply.handleAsync((r, err) -> {
        inFlight.waiting.remove(a.dispatchId());
        outstanding.decrementAndGet(chosen);
        if (r instanceof RolloutWorker.Generated) {
          // the group is here: renew the attempt (from now on the reward pool's queue and worker keep it alive)
          progressTo.tell(new RolloutWorker.Working(new long[] {a.dispatchId()}));
        }
        return new Rolled(a, r != null ? r : new RolloutWorker.GenerateFailed(a.dispatchId(), "rollout " + chosen + ": " + why(err)));
      }, SAME_THREAD);
    }
  }
}
