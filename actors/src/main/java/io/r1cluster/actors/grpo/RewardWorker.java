package io.r1cluster.actors.grpo;

import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.ScoredGroup;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/**
 * Scores sampled groups with the run's {@link io.r1cluster.core.reward.RewardScorer} on the reward
 * dispatcher, one group at a time (further requests wait in order). Registered with the
 * Receptionist under {@link #KEY}; the GRPO stream ({@link GrpoStream}) asks the pool the
 * Receptionist lists. The scorer never throws (a failing function gives NaN cells); should scoring
 * fail anyway, the reply is a typed {@link ScoreFailed} and the prompt is re-dispatched.
 */
public final class RewardWorker extends AbstractBehavior<RewardWorker.Command> {

  /** The pool's service key. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "r1-reward-worker");

  /** Protocol. */
  public interface Command {}

  /** Replies to {@link Score}. */
  public interface Reply {
    long dispatchId();
  }

  /**
   * Score a group.
   *
   * @param dispatchId the ledger's id of the attempt
   * @param group the sampled group
   * @param replyTo gets the scored group or a failure (the stream's ask)
   */
  public record Score(long dispatchId, Group group, ActorRef<Reply> replyTo) implements Command, KryoMessage {}

  /** The scored group of an attempt. */
  public record Scored(long dispatchId, ScoredGroup group) implements Reply, KryoMessage {}

  /** Scoring failed; the prompt is re-dispatched. */
  public record ScoreFailed(long dispatchId, String reason) implements Reply, KryoMessage {}

  private record Done(Score request, ScoredGroup scored, Throwable error)
      implements Command, NoSerializationVerificationNeeded {}

  public static Behavior<Command> create() {
    return Behaviors.setup(ctx -> {
      ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
      return new RewardWorker(ctx);
    });
  }

  private final Executor executor;
  private final NodeResources resources;
  private final ArrayDeque<Score> waiting = new ArrayDeque<>();
  private boolean busy;

  private RewardWorker(ActorContext<Command> ctx) {
    super(ctx);
    this.executor = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(GrpoActorSettings.REWARD_DISPATCHER));
    this.resources = NodeResources.get(ctx.getSystem());
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Score.class, this::onScore)
        .onMessage(Done.class, this::onDone)
        .build();
  }

  private Behavior<Command> onScore(Score s) {
    if (busy) {
      waiting.add(s);
    } else {
      start(s);
    }
    return this;
  }

  private void start(Score s) {
    busy = true;
    CompletableFuture<ScoredGroup> work = resources.reward().thenApplyAsync(scorer -> scorer.score(s.group()), executor);
    getContext().pipeToSelf(work, (ok, err) -> new Done(s, ok, err));
  }

  private Behavior<Command> onDone(Done done) {
    busy = false;
    Score s = done.request();
    if (done.error() != null) {
      getContext().getLog().warn("scoring prompt {} failed: {}", s.group().prompt().id(), done.error().toString());
      s.replyTo().tell(new ScoreFailed(s.dispatchId(), "reward: " + done.error()));
    } else {
      s.replyTo().tell(new Scored(s.dispatchId(), done.scored()));
    }
    if (!waiting.isEmpty()) {
      start(waiting.poll());
    }
    return this;
  }
}
