package io.r1cluster.actors.pipeline;

import io.r1cluster.actors.grpo.GrpoActorSettings;
import io.r1cluster.actors.grpo.Learner;
import io.r1cluster.actors.grpo.NodeAgent;
import io.r1cluster.actors.grpo.RunSpec;
import io.r1cluster.actors.grpo.WeightFeed;
import io.r1cluster.actors.transport.ResendRequest;
import io.r1cluster.core.data.WeightSnapshot;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves a generate stage's teacher weights to the cluster's rollout nodes the way the GRPO
 * {@link Learner} serves its policy: it publishes the teacher's snapshot (one version) on the
 * stage's {@link WeightFeed} on the io dispatcher, joins every {@link NodeAgent} the Receptionist
 * lists to the teacher's run (a {@link RunSpec} whose {@code resendTo} is this actor), announces the
 * version once it is out, and publishes parts again when a node asks ({@link Learner.Resend}: late
 * joiners, lost chunks). The asks for completions are {@link TeacherAsks}'.
 */
final class TeacherHost extends AbstractBehavior<TeacherHost.Command> {
  private static final Logger LOG = LoggerFactory.getLogger(TeacherHost.class);

  /** Protocol. */
  interface Command {}

  /** The stage is over: stop serving (the caller then closes the feed). */
  enum Stop implements Command, NoSerializationVerificationNeeded { INSTANCE }

  private record Agents(Set<ActorRef<NodeAgent.Command>> agents) implements Command, NoSerializationVerificationNeeded {}

  private record Published(Throwable error) implements Command, NoSerializationVerificationNeeded {}

  private record ResendAsked(ResendRequest request) implements Command, NoSerializationVerificationNeeded {}

  /**
   * @param runId the teacher's run ({@link RunSpec#runId})
   * @param spec the run spec for a resend address ({@code resendTo}; the weights' version is the snapshot's)
   * @param snapshot the teacher's weights
   */
  static Behavior<Command> create(String runId, Function<ActorRef<Learner.Resend>, RunSpec> spec,
      WeightSnapshot snapshot, WeightFeed feed) {
    return Behaviors.setup(ctx -> new TeacherHost(ctx, runId, spec, snapshot, feed));
  }

  private final String runId;
  private final RunSpec spec;
  private final long version;
  private final WeightFeed feed;
  private final Executor io;
  private final Set<ActorRef<NodeAgent.Command>> agents = new HashSet<>();
  private boolean published;

  private TeacherHost(ActorContext<Command> ctx, String runId, Function<ActorRef<Learner.Resend>, RunSpec> spec,
      WeightSnapshot snapshot, WeightFeed feed) {
    super(ctx);
    this.runId = runId;
    this.spec = spec.apply(ctx.messageAdapter(Learner.Resend.class, r -> new ResendAsked(r.request())));
    this.version = snapshot.version();
    this.feed = feed;
    this.io = ctx.getSystem().dispatchers().lookup(DispatcherSelector.fromConfig(GrpoActorSettings.IO_DISPATCHER));
    ctx.getSystem().receptionist().tell(Receptionist.subscribe(NodeAgent.KEY,
        ctx.messageAdapter(Receptionist.Listing.class, l -> new Agents(l.getServiceInstances(NodeAgent.KEY)))));
    CompletableFuture<Published> out = CompletableFuture.supplyAsync(() -> {
      feed.publisher().publish(snapshot);
      return new Published(null);
    }, io);
    ctx.pipeToSelf(out, (ok, err) -> ok != null ? ok : new Published(err));
  }

  @Override
  public Receive<Command> createReceive() {
    return newReceiveBuilder()
        .onMessage(Agents.class, this::onAgents)
        .onMessage(Published.class, this::onPublished)
        .onMessage(ResendAsked.class, this::onResend)
        .onMessageEquals(Stop.INSTANCE, Behaviors::stopped)
        .build();
  }

  private Behavior<Command> onAgents(Agents a) {
    for (ActorRef<NodeAgent.Command> agent : a.agents()) {
      if (agents.add(agent)) {
        agent.tell(new NodeAgent.Join(spec));
        if (published) {
          agent.tell(new NodeAgent.WeightsAnnounced(runId, version));
        }
      }
    }
    agents.retainAll(a.agents());
    return this;
  }

  /**
   * The snapshot is out (or publishing failed: then the nodes, told of the version all the same, ask
   * for a resend, and a node that never gets it fails its requests with the reason).
   */
  private Behavior<Command> onPublished(Published p) {
    if (p.error() != null) {
      getContext().getLog().error("teacher run {}: publishing the weights failed ({}); nodes will ask for a resend",
          runId, p.error().toString());
    }
    published = true;
    for (ActorRef<NodeAgent.Command> agent : agents) {
      agent.tell(new NodeAgent.WeightsAnnounced(runId, version));
    }
    return this;
  }

  private Behavior<Command> onResend(ResendAsked r) {
    CompletableFuture.runAsync(() -> feed.publisher().resend(r.request()), io).whenComplete((ok, err) -> {
      if (err != null) {
        LOG.warn("teacher run {}: weight resend v{} failed: {}", runId, r.request().version(), err.toString());
      }
    });
    return this;
  }
}
