package io.r1cluster.actors.pipeline;

import io.r1cluster.actors.grpo.GrpoJob;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.Learner;
import io.r1cluster.core.pipeline.Pipeline;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.Stage;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;

/**
 * Runs a pipeline's {@code grpo} / {@code combined} stage on the GRPO actors of this node's cluster
 * (the stage supervisor installs it with {@link Pipeline#grpoRunner}): it prepares a {@link GrpoJob}
 * from the stage's resolved settings (input model, {@code output_dir} = the stage folder; resuming
 * from its latest {@code checkpoint-N}), starts the {@link Learner} on this node — the supervisor's
 * learner member — while the cluster's rollout and reward members generate and score, and blocks
 * the pipeline thread until the run ends. A cancelled pipeline stops the learner cooperatively
 * ({@link Learner.Stop}: the step in flight ends, no final save).
 */
public final class ActorGrpoStage implements Pipeline.StageRunner {
  private static final AtomicInteger RUNS = new AtomicInteger();
  private static final long STALL_NANOS = 60_000_000_000L;
  private final ActorSystem<?> system;
  private final Path recipe;
  private final PrintStream log;

  public ActorGrpoStage(ActorSystem<?> system, Path recipe, PrintStream log) {
    this.system = system;
    this.recipe = recipe;
    this.log = log;
  }

  @Override
  public boolean run(Stage stage, RecipeSettings settings, long stopAfterSteps, BooleanSupplier cancelled) {
    String host = system.address().getHost().orElse("127.0.0.1");
    GrpoJob job = GrpoJob.prepare(recipe, settings, system.settings().config(), host);
    try {
      if (job.resumedFrom() != null) {
        log.printf("resuming from %s (step %d of %d)%n", job.resumedFrom(), job.startStep(), job.totalSteps());
      }
      log.printf("stage %s runs on the GRPO actors of %s: %d steps of %d prompts%n", stage.name(), system.address(),
          job.totalSteps(), job.promptsPerStep());
      AtomicInteger ran = new AtomicInteger();
      AtomicReference<ActorRef<Learner.Command>> self = new AtomicReference<>();
      java.util.concurrent.atomic.AtomicLong lastStep = new java.util.concurrent.atomic.AtomicLong(System.nanoTime());
      job.onStep(r -> {
        lastStep.set(System.nanoTime());
        if (ran.incrementAndGet() == stopAfterSteps) {
          self.get().tell(Learner.Stop.INSTANCE); // a simulated crash after this many steps (tests)
        }
      });
      ActorRef<Learner.Command> learner = GrpoNode.startLocalLearner(system, job, log,
          "r1-stage-learner-" + RUNS.incrementAndGet());
      self.set(learner);
      boolean stopSent = false;
      while (true) {
        try {
          return job.done().get(200, TimeUnit.MILLISECONDS).completed();
        } catch (TimeoutException e) {
          long quiet = System.nanoTime() - lastStep.get();
          if (quiet > STALL_NANOS) {
            // the usual cause: no rollout / reward member has joined (the learner waits for them)
            log.printf("stage %s: no optimizer step for %d s (step %d); the learner waits for rollout and reward"
                + " members (r1 member --roles rollout,reward) to join %s%n", stage.name(), quiet / 1_000_000_000L,
                ran.get(), system.address());
            lastStep.set(System.nanoTime());
          }
          if (!stopSent && cancelled.getAsBoolean()) {
            learner.tell(Learner.Stop.INSTANCE);
            stopSent = true;
          }
        } catch (ExecutionException e) {
          if (cancelled.getAsBoolean()) {
            return false; // the node is going away: the next supervisor resumes from the last checkpoint
          }
          throw new IllegalStateException("stage " + stage.name() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          learner.tell(Learner.Stop.INSTANCE);
          return false;
        }
      }
    } finally {
      job.close();
    }
  }
}
