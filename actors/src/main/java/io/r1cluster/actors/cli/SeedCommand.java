package io.r1cluster.actors.cli;

import io.r1cluster.actors.grpo.Roles;
import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code r1 seed --port P}: a seed node (membership only); runs until SIGTERM. */
@Command(name = "seed", mixinStandardHelpOptions = true,
    description = "Start a cluster seed node (membership only) and run until SIGTERM.")
public final class SeedCommand implements CliCommand {
  @Option(names = "--port", required = true, description = "Artery port to listen on") int port;

  @Option(names = "--host", description = "hostname other nodes reach this one by (default: $POD_IP, else 127.0.0.1)")
  String host;

  @Override
  public Integer call() {
    if (port < 1 || port > 65535) {
      throw new InputException(null, 0, "--port", "must be in 1..65535, got " + port);
    }
    String h = ClusterBoot.host(host);
    String self = ClusterBoot.seedAddress(h + ":" + port, "--port");
    // on Kubernetes Cluster Bootstrap forms (or finds) the cluster; elsewhere the seed joins itself
    List<String> seeds = ClusterBoot.onKubernetes() ? List.of() : List.of(self);
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), ClusterBoot.SYSTEM,
        ClusterBoot.config(List.of(Roles.SEED), h, port, seeds, true));
    ClusterBoot.startServices(system);
    // one line per membership change, so scripts (scripts/local-cluster.sh) and people can follow it
    org.apache.pekko.actor.typed.ActorRef<org.apache.pekko.cluster.ClusterEvent.MemberEvent> log = system.systemActorOf(
        Behaviors.receiveMessage(ev -> {
          String what = ev instanceof org.apache.pekko.cluster.ClusterEvent.MemberUp ? "Up"
              : ev instanceof org.apache.pekko.cluster.ClusterEvent.MemberRemoved ? "Removed"
              : ev instanceof org.apache.pekko.cluster.ClusterEvent.MemberLeft ? "Leaving" : null;
          if (what != null) {
            System.out.println("node " + what + ": " + ev.member().address() + " roles "
                + new java.util.TreeSet<>(ev.member().getRoles()));
          }
          return Behaviors.same();
        }), "member-log", org.apache.pekko.actor.typed.Props.empty());
    org.apache.pekko.cluster.typed.Cluster.get(system).subscriptions().tell(
        org.apache.pekko.cluster.typed.Subscribe.create(log, org.apache.pekko.cluster.ClusterEvent.MemberEvent.class));
    System.out.println("seed node up at " + self + " (Ctrl-C / SIGTERM to leave)");
    system.getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
