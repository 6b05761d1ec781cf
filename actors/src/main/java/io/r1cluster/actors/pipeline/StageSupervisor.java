package io.r1cluster.actors.pipeline;

import io.r1cluster.actors.grpo.NoGrad;
import io.r1cluster.actors.grpo.Roles;
import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.actors.serialization.KryoProtocol;
import io.r1cluster.core.pipeline.Pipeline;
import io.r1cluster.core.recipe.Recipe;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.NoSerializationVerificationNeeded;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.ClusterSingleton;
import org.apache.pekko.cluster.typed.ClusterSingletonSettings;
import org.apache.pekko.cluster.typed.SingletonActor;

/**
 * Runs a pipeline recipe as a cluster singleton on the {@code learner} role: whichever learner
 * member is oldest runs {@link Pipeline} on a thread of its own; the run state lives in the run
 * folder ({@code state.json} + the stages' {@code checkpoint-N}), which every learner member must
 * see at the same path (the shared volume on Kubernetes).
 *
 * <p>When the hosting node leaves, is downed or dies, Cluster Singleton starts the supervisor on
 * the next-oldest learner member, and that instance simply runs the pipeline again: done stages
 * are skipped and the interrupted stage resumes from its last checkpoint, so at most the work since
 * that checkpoint is repeated. A stopping supervisor (hand-over, shutdown) cancels its pipeline
 * cooperatively and waits up to {@code stopTimeout} for the current step to end before it lets the
 * next instance start, so two instances never write the same run folder at once.
 *
 * <p>{@code grpo} and {@code combined} stages run on the GRPO actors ({@link ActorGrpoStage}): the
 * learner on this node, generation and scoring on the cluster's rollout and reward members (a
 * cluster without them waits for them). The learner writes {@code checkpoint-N} with its prompt
 * ledger, so the next instance resumes the stage without training a prompt twice.
 *
 * <p>A {@code generate} stage whose teacher is a local checkpoint (no {@code teacher_url}) gets its
 * completions from the same rollout workers ({@link RolloutTeacher}): the teacher's weights go to
 * the rollout members as a run of their own, this node only verifies and writes the dataset.
 */
public final class StageSupervisor {
  /** Singleton name. */
  public static final String NAME = "r1-stage-supervisor";

  /** Messages. */
  public interface Command {}

  /** Asks for the supervisor's status (from any node). */
  public record GetStatus(ActorRef<Status> replyTo) implements Command, KryoMessage {}

  /**
   * Status of the run.
   *
   * @param phase {@code running}, {@code done} or {@code failed}
   * @param host the address of the node running the pipeline
   * @param table the seed's table (pass@1 / format / mean length per stage) once done, else empty
   * @param error why it failed, else empty
   */
  public record Status(String phase, String host, String table, String error) implements KryoMessage {}

  /** This protocol's wire ids (block 1100–1199; see {@code KryoRegistry}). */
  public static final class KryoIds implements KryoProtocol {
    @Override
    public void register(KryoProtocol.Ids ids) {
      ids.add(1100, GetStatus.class);
      ids.add(1101, Status.class);
    }
  }

  private record Finished(List<Pipeline.StageState> states) implements Command, NoSerializationVerificationNeeded {}

  private record Failed(Throwable error) implements Command, NoSerializationVerificationNeeded {}

  private StageSupervisor() {}

  /**
   * Starts (or connects to) the supervisor singleton of this cluster. Call it on every node; only
   * {@code learner} members host it.
   */
  public static ActorRef<Command> init(ActorSystem<?> system, Path recipe, Path runDir, PrintStream log,
      Duration stopTimeout) {
    return ClusterSingleton.get(system).init(
        SingletonActor.of(create(recipe, runDir, log, stopTimeout), NAME)
            .withStopMessage(new Stop())
            .withSettings(ClusterSingletonSettings.create(system).withRole(Roles.LEARNER)));
  }

  /** Hand-over: cancel the pipeline, wait for it, stop. */
  private record Stop() implements Command, NoSerializationVerificationNeeded {}

  static Behavior<Command> create(Path recipe, Path runDir, PrintStream log, Duration stopTimeout) {
    return Behaviors.setup(ctx -> {
      AtomicBoolean cancel = new AtomicBoolean();
      ActorSystem<Void> system = ctx.getSystem();
      String host = system.address().toString();
      log.println("supervisor: running " + recipe + " in " + runDir + " on " + host);
      CompletableFuture<List<Pipeline.StageState>> run = new CompletableFuture<>();
      Thread worker = new Thread(() -> {
        try {
          NoGrad.onThisThread(); // as on the main thread of r1 run: grad mode only where a trainer asks
          run.complete(new Pipeline(Recipe.load(recipe), runDir, log).cancelWhen(cancel::get)
              .grpoRunner(new ActorGrpoStage(system, recipe, log))
              .localTeacher((teacher, name, s, cancelled) -> RolloutTeacher.start(system, teacher, name, s, cancelled, log))
              .run());
        } catch (Throwable t) {
          run.completeExceptionally(t);
        }
      }, "r1-pipeline");
      worker.setDaemon(true);
      worker.start();
      ctx.pipeToSelf(run, (states, err) -> err == null ? new Finished(states) : new Failed(unwrap(err)));
      return running(ctx, host, cancel, run, stopTimeout, log);
    });
  }

  private static Behavior<Command> running(ActorContext<Command> ctx, String host, AtomicBoolean cancel,
      CompletableFuture<List<Pipeline.StageState>> run, Duration stopTimeout, PrintStream log) {
    return Behaviors.receive(Command.class)
        .onMessage(GetStatus.class, m -> {
          m.replyTo().tell(new Status("running", host, "", ""));
          return Behaviors.same();
        })
        .onMessage(Finished.class, m -> {
          String table = Pipeline.table(m.states());
          log.println("supervisor: pipeline done\n" + table);
          return finished(new Status("done", host, table, ""));
        })
        .onMessage(Failed.class, m -> {
          if (m.error() instanceof Pipeline.Interrupted) {
            return Behaviors.stopped(); // cancelled by our own stop: the next instance resumes
          }
          log.println("supervisor: pipeline failed: " + m.error());
          return finished(new Status("failed", host, "", String.valueOf(m.error())));
        })
        .onMessage(Stop.class, m -> Behaviors.stopped())
        .onSignal(PostStop.class, s -> {
          awaitCancelled(cancel, run, stopTimeout, log);
          return Behaviors.same();
        })
        .build();
  }

  private static Behavior<Command> finished(Status status) {
    return Behaviors.receive(Command.class)
        .onMessage(GetStatus.class, m -> {
          m.replyTo().tell(status);
          return Behaviors.same();
        })
        .onMessage(Stop.class, m -> Behaviors.stopped())
        .build();
  }

  /** Cancels the pipeline and waits for its current step to end (blocking: PostStop of this actor only). */
  private static void awaitCancelled(AtomicBoolean cancel, CompletableFuture<?> run, Duration timeout, PrintStream log) {
    if (run.isDone()) {
      return;
    }
    cancel.set(true);
    try {
      run.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      // Interrupted: the expected end of a cancelled run
    } catch (TimeoutException e) {
      log.println("supervisor: the pipeline did not stop within " + timeout + "; the next supervisor may repeat its step");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof java.util.concurrent.CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
