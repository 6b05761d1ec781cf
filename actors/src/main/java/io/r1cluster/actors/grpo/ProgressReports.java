package io.r1cluster.actors.grpo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;

/**
 * The progress reports of an actor that holds attempts for askers (a {@link RolloutWorker} entity, a
 * {@link RewardWorker}): every held attempt is reported to its asker ({@link RolloutWorker.Working})
 * at the shortest period any held request asked for, until the actor holds none; each asker is
 * watched, so the actor can drop a stopped asker's attempts. Used on the owning actor's thread only.
 *
 * @param <C> the owning actor's command type
 */
final class ProgressReports<C> {

  /** A request that wants its attempt reported. */
  interface Held {
    long dispatchId();

    /** Gets the reports; null: none. */
    ActorRef<RolloutWorker.Working> progressTo();

    long progressEveryMillis();
  }

  private final ActorContext<C> ctx;
  private final TimerScheduler<C> timers;
  private final C tick;
  private final Function<ActorRef<RolloutWorker.Working>, C> askerGone;
  /** The period in force (the shortest any held request asked for); 0 = not reporting. */
  private long everyMillis;
  private final Set<ActorRef<RolloutWorker.Working>> askers = new HashSet<>();

  /**
   * @param tick the timer message on which the owner calls {@link #report}
   * @param askerGone the message the owner gets when a watched asker stops (it then calls {@link #forget})
   */
  ProgressReports(ActorContext<C> ctx, TimerScheduler<C> timers, C tick, Function<ActorRef<RolloutWorker.Working>, C> askerGone) {
    this.ctx = ctx;
    this.timers = timers;
    this.tick = tick;
    this.askerGone = askerGone;
  }

  /** The owner took request {@code r}: watch its asker, and report at least as often as it asks. */
  void took(Held r) {
    if (r.progressTo() == null) {
      return;
    }
    if (askers.add(r.progressTo())) {
      ctx.watchWith(r.progressTo(), askerGone.apply(r.progressTo()));
    }
    if (r.progressEveryMillis() > 0 && (everyMillis == 0 || r.progressEveryMillis() < everyMillis)) {
      everyMillis = r.progressEveryMillis();
      timers.startTimerAtFixedRate(tick, Duration.ofMillis(everyMillis));
    }
  }

  /** A watched asker stopped. */
  void forget(ActorRef<RolloutWorker.Working> asker) {
    askers.remove(asker);
  }

  /** Tells each asker which of its attempts the owner still holds; stops reporting when it holds none. */
  void report(Stream<? extends Held> held) {
    Map<ActorRef<RolloutWorker.Working>, List<Long>> byAsker = new HashMap<>();
    held.filter(r -> r.progressTo() != null)
        .forEach(r -> byAsker.computeIfAbsent(r.progressTo(), k -> new ArrayList<>()).add(r.dispatchId()));
    if (byAsker.isEmpty()) {
      timers.cancel(tick);
      everyMillis = 0;
    }
    byAsker.forEach((to, ids) -> to.tell(new RolloutWorker.Working(ids.stream().mapToLong(Long::longValue).toArray())));
  }
}
