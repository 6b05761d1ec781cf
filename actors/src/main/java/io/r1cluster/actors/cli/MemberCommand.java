package io.r1cluster.actors.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValueFactory;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1 member --roles rollout,reward --seed HOST:P [--slots N]}: a worker node. It joins the
 * cluster, hosts rollout entities and/or reward workers, and takes part in every run submitted
 * with {@code r1 grpo RECIPE --cluster HOST:P} (the learner sends it the run spec).
 */
@Command(name = "member", mixinStandardHelpOptions = true,
    description = "Start a worker node (rollout and/or reward roles) that joins a cluster and runs until SIGTERM.")
public final class MemberCommand implements CliCommand {
  @Option(names = "--roles", required = true, paramLabel = "R1,R2", description = "roles: rollout, reward (learner, seed)")
  String roles;

  @Option(names = "--seed", required = true, paramLabel = "HOST:PORT", description = "a seed node") String seed;

  @Option(names = "--slots", defaultValue = "1", description = "generations this node runs at once (default ${DEFAULT-VALUE})")
  int slots;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "this node's hostname (default ${DEFAULT-VALUE})")
  String host;

  @Option(names = "--port", defaultValue = "0", description = "Artery port (default ${DEFAULT-VALUE}: any free port)")
  int port;

  @Override
  public Integer call() {
    if (slots < 1) {
      throw new InputException(null, 0, "--slots", "must be at least 1, got " + slots);
    }
    List<String> r = ClusterBoot.roles(roles);
    Config config = ClusterBoot.config(r, host, port, List.of(ClusterBoot.seedAddress(seed, "--seed")), true)
        .withValue("r1.grpo.rollout-dispatcher.thread-pool-executor.fixed-pool-size", ConfigValueFactory.fromAnyRef(slots))
        .withValue("r1.grpo.rollout.max-in-flight", ConfigValueFactory.fromAnyRef(slots));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterBoot.SYSTEM, config);
    GrpoNode.start(system);
    System.out.println("member " + system.address() + " with roles " + r + " joining " + seed);
    system.getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
