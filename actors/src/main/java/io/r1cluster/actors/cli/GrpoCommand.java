package io.r1cluster.actors.cli;

import com.typesafe.config.Config;
import io.r1cluster.actors.grpo.GrpoJob;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.PromptLedger;
import io.r1cluster.actors.grpo.Roles;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.RunFolderLock;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeOverride;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/**
 * {@code r1 grpo RECIPE [--cluster HOST:PORT]}: stage 2 (GRPO). Without {@code --cluster} one JVM
 * holds every role (the embedded default, weights over Aeron IPC); with it this JVM joins the
 * cluster as the learner and the members' rollout and reward roles do the rest.
 */
@Command(name = "grpo", mixinStandardHelpOptions = true,
    description = {"Run GRPO (stage 2) from a recipe: metrics.jsonl, progress lines, checkpoint-N and the final model go to output_dir;",
        "a run resumes from the latest checkpoint-N there (unless overwrite_output_dir).",
        "Alone (default): every role in this JVM. With --cluster: join as the learner; members do rollouts and rewards."})
public final class GrpoCommand implements CliCommand {
  @Parameters(index = "0", paramLabel = "RECIPE", description = "recipe YAML (a GRPO recipe or a pipeline with a grpo or combined stage)")
  Path recipe;

  @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "seed node of a running cluster to submit to")
  String cluster;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "this node's hostname (default ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", defaultValue = "0", description = "this node's Artery port (default ${DEFAULT-VALUE}: any free port)")
  int port;

  @Unmatched List<String> overrides;

  @Override
  public Integer call() throws Exception {
    if (!Files.isRegularFile(recipe)) {
      throw new InputException(recipe, 0, "RECIPE", "no such recipe file");
    }
    List<String> roles = cluster == null ? List.of(Roles.SEED, Roles.LEARNER, Roles.ROLLOUT, Roles.REWARD) : List.of(Roles.LEARNER);
    List<String> seeds = cluster == null ? List.of() : List.of(ClusterBoot.seedAddress(cluster, "--cluster"));
    Config config = ClusterBoot.config(roles, host, port, seeds, false);
    GrpoJob job = GrpoJob.prepare(Recipe.load(recipe, RecipeOverride.parse(overrides)), config, host);
    RunFolderLock lock;
    try {
      lock = RunFolderLock.acquire(job.outputDir()); // one process per output folder, as `r1 run`: a second exits 2
    } catch (RuntimeException e) {
      job.close();
      throw e;
    }
    if (job.resumedFrom() != null) {
      System.out.printf("resuming from %s (step %d of %d)%n", job.resumedFrom(), job.startStep(), job.totalSteps());
    }
    ActorSystem<Void> system;
    try {
      system = ActorSystem.create(Behaviors.empty(), ClusterBoot.SYSTEM, config);
    } catch (RuntimeException e) {
      job.close();
      lock.close();
      throw e;
    }
    try {
      ClusterBoot.startServices(system);
      if (cluster == null) {
        Cluster c = Cluster.get(system);
        c.manager().tell(Join.create(c.selfMember().address()));
      }
      GrpoNode.start(system);
      GrpoNode.startLearner(system, job, System.out);
      GrpoJob.RunResult r = job.done().get();
      PromptLedger.Counters c = r.counters();
      System.out.printf("GRPO done: %d steps, policy version %d; prompts dispatched %d, completed %d, retried %d, "
          + "dropped stale %d, duplicates ignored %d, trained %d, filtered %d of %d%n", r.steps(), r.version(),
          c.dispatched(), c.completed(), c.retried(), c.droppedStale(), c.duplicateIgnored(), c.trained(), c.filtered(),
          c.total());
      System.out.println("checkpoint and metrics.jsonl in " + r.outputDir());
      return 0;
    } finally {
      system.terminate();
      try {
        system.getWhenTerminated().toCompletableFuture().get(Duration.ofSeconds(60).toSeconds(), java.util.concurrent.TimeUnit.SECONDS);
        job.close();
      } finally {
        lock.close();
      }
    }
  }
}
