package io.r1cluster.actors.cli;

import ai.djl.Device;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.r1cluster.actors.grpo.GrpoJob;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.Roles;
import io.r1cluster.actors.pipeline.StageSupervisor;
import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.pipeline.Pipeline;
import io.r1cluster.core.recipe.Recipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1 member --roles rollout,reward --seed HOST:P [--slots N | --gpus 0,1]}: a worker node. It joins the
 * cluster, hosts rollout entities and/or reward workers, and takes part in every run submitted
 * with {@code r1 grpo RECIPE --cluster HOST:P} (the learner sends it the run spec).
 */
@Command(name = "member", mixinStandardHelpOptions = true,
    description = "Start a worker node (rollout and/or reward roles) that joins a cluster and runs until SIGTERM.")
public final class MemberCommand implements CliCommand {
  @Option(names = "--roles", required = true, paramLabel = "R1,R2", description = "roles: rollout, reward (learner, seed)")
  String roles;

  @Option(names = "--seed", paramLabel = "HOST:PORT",
      description = "a seed node (default: $R1_SEED; on Kubernetes Cluster Bootstrap finds the cluster)") String seed;

  @Option(names = "--recipe", paramLabel = "RECIPE",
      description = "with the learner role: run this GRPO recipe as the learner once the node is up") Path recipe;

  @Option(names = "--pipeline", paramLabel = "RECIPE",
      description = {"with the learner role: run this pipeline recipe under the stage supervisor, a cluster singleton",
          "on the learner members (give every learner member the same recipe and a shared --run-dir); if its node",
          "is lost, the next learner member resumes the run from state.json and the last checkpoint"}) Path pipeline;

  @Option(names = "--run-dir", description = "with --pipeline: the run folder (default: runs/<run_name or recipe name>)")
  Path runDir;

  @Option(names = "--slots", paramLabel = "N",
      description = "generations this node runs at once (default: the recipe's cluster.rollout_slots; this wins over it)")
  Integer slots;

  @Option(names = "--gpus", paramLabel = "I,J",
      description = {"rollout role: generate on these GPUs, one model and one generation at a time per GPU",
          "(e.g. 0,1 on a pod with nvidia.com/gpu: 2); excludes --slots. Exit code 2 when a listed GPU is absent",
          "(a CPU-only build, no driver, or an index past the last GPU)"})
  String gpus;

  @Option(names = "--host", description = "this node's hostname (default: $POD_IP, else 127.0.0.1)")
  String host;

  @Option(names = "--port", defaultValue = "0", description = "Artery port (default ${DEFAULT-VALUE}: any free port)")
  int port;

  @Override
  public Integer call() throws Exception {
    if (slots != null && slots < 1) {
      throw new InputException(null, 0, "--slots", "must be at least 1, got " + slots);
    }
    List<String> r = ClusterBoot.roles(roles);
    List<Device> gpuList = List.of();
    if (gpus != null) {
      if (slots != null) {
        throw new InputException(null, 0, "--gpus", "--gpus and --slots exclude each other (one generation per GPU)");
      }
      if (!r.contains(Roles.ROLLOUT)) {
        throw new InputException(null, 0, "--gpus", "only a node with the rollout role generates on GPUs (roles: " + r + ")");
      }
      gpuList = Devices.gpus(gpus, "--gpus"); // before joining: an absent GPU is bad input (exit 2)
    }
    if (recipe != null && !r.contains(Roles.LEARNER)) {
      throw new InputException(null, 0, "--recipe", "only a node with the learner role runs a recipe (roles: " + r + ")");
    }
    if (recipe != null && !Files.isRegularFile(recipe)) {
      throw new InputException(recipe, 0, "--recipe", "no such recipe file");
    }
    if (pipeline != null && (!r.contains(Roles.LEARNER) || recipe != null)) {
      throw new InputException(null, 0, "--pipeline", "needs the learner role and no --recipe (roles: " + r + ")");
    }
    Path pipelineRunDir = null;
    if (pipeline != null) {
      // fail on a bad recipe here, before joining (file:line: key: message, exit 2)
      pipelineRunDir = runDir != null ? runDir : Pipeline.defaultRunDir(Recipe.load(pipeline));
    }
    String h = ClusterBoot.host(host);
    List<String> seeds = ClusterBoot.memberSeeds(seed);
    Config config = ClusterBoot.config(r, h, port, seeds, true);
    if (slots != null) {
      config = config.withValue("r1.grpo.rollout.slots", ConfigValueFactory.fromAnyRef(slots));
    }
    if (!gpuList.isEmpty()) {
      config = config.withValue("r1.grpo.rollout.slots", ConfigValueFactory.fromAnyRef(gpuList.size()))
          .withValue("r1.grpo.rollout.devices", ConfigValueFactory.fromIterable(gpuList.stream()
              .map(d -> "cuda:" + d.getDeviceId()).toList()));
    }
    GrpoJob job = recipe == null ? null : GrpoJob.prepare(recipe, config, h);
    io.r1cluster.core.checkpoint.RunFolderLock lock = null;
    try {
      // one process per output folder, as `r1 run`: a second learner on it exits 2
      lock = job == null ? null : io.r1cluster.core.checkpoint.RunFolderLock.acquire(job.outputDir());
    } catch (RuntimeException e) {
      job.close();
      throw e;
    }
    if (job != null && job.resumedFrom() != null) {
      System.out.printf("resuming from %s (step %d of %d)%n", job.resumedFrom(), job.startStep(), job.totalSteps());
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterBoot.SYSTEM, config);
    ClusterBoot.startServices(system);
    GrpoNode.start(system);
    if (pipeline != null) {
      StageSupervisor.init(system, pipeline, pipelineRunDir, System.out, Duration.ofMinutes(10));
    }
    System.out.println("member " + system.address() + " with roles " + r + " joining "
        + (seeds.isEmpty() ? "via Cluster Bootstrap" : seeds.get(0)));
    if (job != null) {
      try {
        GrpoNode.startLearner(system, job, System.out);
        GrpoJob.RunResult res = job.done().get();
        System.out.printf("GRPO done: %d steps, policy version %d; checkpoint and metrics.jsonl in %s%n", res.steps(),
            res.version(), res.outputDir());
      } finally {
        job.close();
        lock.close();
      }
    }
    system.getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
