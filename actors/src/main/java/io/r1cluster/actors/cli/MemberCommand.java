package io.r1cluster.actors.cli;

import ai.djl.Device;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.r1cluster.actors.grpo.GrpoJob;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.Roles;
import io.r1cluster.actors.pipeline.StageSupervisor;
import io.r1cluster.actors.serve.NodeServing;
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
 * with {@code r1 grpo RECIPE --cluster HOST:P} (the learner sends it the run spec). With the serve
 * role ({@code --roles rollout,serve --serve-model MODEL --serve-port P}) it also answers the
 * OpenAI API, from the rollout engines' running batch or, without the rollout role, an engine of
 * its own ({@link NodeServing}).
 */
@Command(name = "member", mixinStandardHelpOptions = true,
    description = "Start a worker node (rollout, reward and/or serve roles) that joins a cluster and runs until SIGTERM.")
public final class MemberCommand implements CliCommand {
  @Option(names = "--roles", required = true, paramLabel = "R1,R2", description = "roles: rollout, reward, serve (learner, seed)")
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

  @Option(names = "--serve-model", paramLabel = "MODEL",
      description = {"serve role: the model the OpenAI API answers for (as r1 serve MODEL: a checkpoint folder, a model",
          "in the Hugging Face cache, or demo). With the rollout role too, requests join the rollout engines' batch",
          "(the run's current policy) and MODEL gives the tokenizer and chat template; alone, the node runs MODEL"}) String serveModel;

  @Option(names = "--serve-host", defaultValue = "127.0.0.1",
      description = "serve role: address the API binds (default ${DEFAULT-VALUE}; 0.0.0.0 for all)") String serveHost;

  @Option(names = "--serve-port", defaultValue = "8000", description = "serve role: the API's TCP port (default ${DEFAULT-VALUE})")
  int servePort;

  @Option(names = "--api-key-env", paramLabel = "VAR",
      description = "serve role: require 'Authorization: Bearer KEY', KEY being this environment variable's value")
  String apiKeyEnv;

  @Option(names = "--served-model-name", paramLabel = "NAME", description = "serve role: the model id clients send (default: MODEL)")
  String servedName;

  @Option(names = "--serve-max-rows", defaultValue = "64",
      description = "serve role alone: sequences the node's own engine decodes together (default ${DEFAULT-VALUE})")
  int serveMaxRows;

  @Option(names = "--serve-max-waiting", defaultValue = "256",
      description = "serve role: sequences queued beyond the rows before requests get 429 (default ${DEFAULT-VALUE})")
  int serveMaxWaiting;

  /** The serve role's settings (null without the role); bad or misplaced options: exit 2 naming them. */
  private NodeServing.Settings serveSettings(List<String> r) {
    if (!r.contains(NodeServing.ROLE)) {
      for (Object[] o : new Object[][] {{"--serve-model", serveModel}, {"--api-key-env", apiKeyEnv},
          {"--served-model-name", servedName}}) {
        if (o[1] != null) {
          throw new InputException(null, 0, (String) o[0], "only a node with the serve role serves the API (roles: " + r + ")");
        }
      }
      return null;
    }
    if (serveModel == null) {
      throw new InputException(null, 0, "--serve-model", "the serve role needs the model to answer for (a checkpoint"
          + " folder, a Hugging Face cache name, or demo)");
    }
    if (servePort < 0 || servePort > 65535) {
      throw new InputException(null, 0, "--serve-port", "must be in [0, 65535], got " + servePort);
    }
    if (serveMaxRows < 1) {
      throw new InputException(null, 0, "--serve-max-rows", "must be at least 1, got " + serveMaxRows);
    }
    if (serveMaxWaiting < 0) {
      throw new InputException(null, 0, "--serve-max-waiting", "must be at least 0, got " + serveMaxWaiting);
    }
    String key = null;
    if (apiKeyEnv != null) {
      key = System.getenv(apiKeyEnv);
      if (key == null || key.isBlank()) {
        throw new InputException(null, 0, "--api-key-env", "environment variable " + apiKeyEnv + " is not set or empty");
      }
    }
    return new NodeServing.Settings(serveModel, servedName, serveHost, servePort, key, serveMaxRows, serveMaxWaiting, 0);
  }

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
    NodeServing.Settings serve = serveSettings(r);
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
    if (serve != null) {
      NodeServing api;
      try {
        api = NodeServing.start(system, serve, Devices.selected(), r.contains(Roles.ROLLOUT));
      } catch (RuntimeException e) {
        system.terminate();
        throw e;
      }
      System.out.printf("serving %s on %s (OpenAI API, %s)%n", api.model().id(), api.baseUrl(),
          r.contains(Roles.ROLLOUT) ? "in the rollout engines' batch" : "own engine");
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
