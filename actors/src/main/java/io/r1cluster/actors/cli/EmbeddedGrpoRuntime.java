package io.r1cluster.actors.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.Roles;
import io.r1cluster.actors.pipeline.ActorGrpoStage;
import io.r1cluster.core.pipeline.GrpoStageRuntime;
import io.r1cluster.core.pipeline.Pipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;

/**
 * {@code ./r1 run}'s GRPO and combined stages on the embedded actor system: for each stage one
 * ActorSystem with every role (seed, learner, rollout, reward) joins itself on a free loopback port,
 * the rollout and reward actors start as on any member ({@link GrpoNode#start}) and the stage runs
 * exactly as on a cluster ({@link ActorGrpoStage}: the learner, the prompt dispatcher, weights over
 * Aeron IPC). The system terminates when the stage ends, is stopped, or fails. Registered as a
 * {@link GrpoStageRuntime} service, so {@code core}'s {@link Pipeline} finds it without depending on
 * this module.
 */
public final class EmbeddedGrpoRuntime implements GrpoStageRuntime {
  public static final String NAME = "actors";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Pipeline.StageRunner runner(Path recipeFile, PrintStream log) {
    return (stage, settings, stopAfterSteps, cancelled) -> {
      List<String> roles = List.of(Roles.SEED, Roles.LEARNER, Roles.ROLLOUT, Roles.REWARD);
      // what an embedded node needs whatever cluster-config file is (or is not) found: a cluster of itself
      // on loopback, no JVM exit when it leaves, no Java serialization
      Config config = ConfigFactory.parseString(String.join("\n", "pekko.actor.provider = cluster",
          "pekko.actor.allow-java-serialization = off", "pekko.remote.artery.transport = tcp"))
          .withFallback(ClusterBoot.config(roles, "127.0.0.1", 0, List.of(), false)).resolve();
      ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterBoot.SYSTEM, config);
      try {
        Cluster c = Cluster.get(system);
        c.manager().tell(Join.create(c.selfMember().address()));
        GrpoNode.start(system);
        return new ActorGrpoStage(system, recipeFile, log).run(stage, settings, stopAfterSteps, cancelled);
      } finally {
        system.terminate();
        try {
          system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } catch (Exception e) {
          log.println("stage " + stage.name() + ": the embedded actor system did not stop cleanly: " + e);
        }
      }
    };
  }
}
