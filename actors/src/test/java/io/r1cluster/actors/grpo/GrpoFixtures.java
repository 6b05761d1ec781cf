package io.r1cluster.actors.grpo;

import ai.djl.Device;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.demo.DemoTask;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/** Tiny model, demo data, recipes and node configs for the GRPO actor tests. */
public final class GrpoFixtures {
  private GrpoFixtures() {}

  /** A tiny Qwen2 checkpoint (hidden 32, 2 layers) with the demo tokenizer. */
  public static Path tinyModel(Path dir) throws IOException {
    Files.createDirectories(dir);
    try (Qwen2Model m = Qwen2Model.random(Qwen2Config.of(DemoTokenizer.vocabSize(), 32, 64, 2, 2, 1, 256, true),
        Device.cpu(), 7)) {
      m.save(dir);
    }
    DemoTokenizer.write(dir);
    return dir;
  }

  /** A demo dataset with {@code train} one-digit problems. */
  public static Path demoData(Path dir, int train) {
    DemoDataset.write(dir, new DemoDataset.Options(train, 2, 42, 0.3, 1, List.of(DemoTask.ADD, DemoTask.SUB)));
    return dir;
  }

  /** A GRPO recipe over the tiny model and demo data. */
  static Path recipe(Path dir, Path model, Path data, int maxStaleness, int promptsPerStep, int epochs, String extra)
      throws IOException {
    String yaml = """
        model_name_or_path: %s
        dataset_name: %s
        dataset_prompt_column: problem
        output_dir: %s
        learning_rate: 1.0e-3
        lr_scheduler_type: constant
        num_train_epochs: %d
        per_device_train_batch_size: 8
        num_generations: 4
        max_prompt_length: 64
        max_completion_length: 8
        temperature: 1.0
        beta: 0.0
        seed: 3
        reward_funcs: [format, tag_count]
        cluster:
          max_staleness: %d
          prompts_per_step: %d
        %s
        """.formatted(model, data, dir.resolve("out"), epochs, maxStaleness, promptsPerStep, extra);
    Path f = dir.resolve("grpo.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  /**
   * The embedded default in one JVM: {@code system} (every role) joins itself, and a run of
   * {@code recipe} starts on it with {@code onStep} (may be null) watching the steps. The caller waits
   * on {@link GrpoJob#done()} and closes the job.
   */
  static GrpoJob startAlone(ActorSystem<?> system, Path recipe, Consumer<GrpoJob.StepReport> onStep) {
    Cluster c = Cluster.get(system);
    c.manager().tell(Join.create(c.selfMember().address()));
    GrpoJob job = GrpoJob.prepare(recipe, system.settings().config(), "127.0.0.1");
    if (onStep != null) {
      job.onStep(onStep);
    }
    GrpoNode.start(system);
    GrpoNode.startLearner(system, job, System.out);
    return job;
  }

  /** Every role in one node. */
  static final String ALL_ROLES = "\"seed\", \"learner\", \"rollout\", \"reward\"";

  /** Node config: real Artery on loopback, port 0, every message serialized, quick failure handling. */
  public static Config node(String roles, String extra) {
    return ConfigFactory.parseString("""
        pekko.loglevel = INFO
        pekko.loggers = ["org.apache.pekko.event.slf4j.Slf4jLogger"]
        pekko.logging-filter = "org.apache.pekko.event.slf4j.Slf4jLoggingFilter"
        pekko.actor.provider = cluster
        pekko.actor.allow-java-serialization = off
        pekko.actor.serialize-messages = on
        pekko.remote.artery.transport = tcp
        pekko.remote.artery.canonical.hostname = 127.0.0.1
        pekko.remote.artery.canonical.port = 0
        pekko.cluster.roles = [%s]
        pekko.cluster.jmx.enabled = off
        pekko.cluster.downing-provider-class = "org.apache.pekko.cluster.sbr.SplitBrainResolverProvider"
        pekko.cluster.split-brain-resolver.active-strategy = keep-majority
        pekko.cluster.split-brain-resolver.stable-after = 2s
        pekko.cluster.failure-detector.acceptable-heartbeat-pause = 2s
        pekko.cluster.failure-detector.heartbeat-interval = 500ms
        pekko.cluster.sharding.distributed-data.durable.keys = []
        pekko.coordinated-shutdown.exit-jvm = off
        # a loaded CI machine can need more than the default 10 s for a cluster node to leave and stop
        pekko.actor.testkit.typed.system-shutdown-default = 30s
        r1.grpo.dispatch-timeout = 6s
        r1.grpo.rollout.entities = 4
        r1.grpo.progress-interval = 1s
        %s
        """.formatted(roles, extra)).withFallback(ConfigFactory.load());
  }
}
