package io.r1cluster.actors.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.r1cluster.core.InputException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The ActorSystem configuration of an {@code r1} node: command-line values (roles, host, port,
 * seed nodes) over the cluster config file over the modules' {@code reference.conf}. The file is
 * {@code $R1_CONFIG_DIR/$R1_ENV.conf} when {@code R1_ENV} is set (the Kubernetes manifests set
 * {@code kubernetes} or {@code kubernetes-tls}; {@code R1_CONFIG_DIR} defaults to
 * {@code cluster-config/} under {@code -Dr1.home}), else {@code cluster-config/application.conf};
 * shipped environments: {@code application} (default), {@code local} (one JVM), {@code local-cluster}
 * (several JVMs on one host), {@code kubernetes}, {@code kubernetes-tls}. Over it, for each of the
 * node's roles, {@code role-ROLE.conf} from the same folder when present.
 */
final class ClusterBoot {
  /** Name of every r1 ActorSystem (members of one cluster must agree). */
  static final String SYSTEM = "r1";

  private ClusterBoot() {}

  static Config config(List<String> roles, String host, int port, List<String> seeds, boolean exitJvm) {
    Config overrides = ConfigFactory.empty()
        .withValue("pekko.cluster.roles", ConfigValueFactory.fromIterable(roles))
        .withValue("pekko.remote.artery.canonical.hostname", ConfigValueFactory.fromAnyRef(host))
        .withValue("pekko.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port))
        .withValue("pekko.cluster.seed-nodes", ConfigValueFactory.fromIterable(seeds))
        .withValue("pekko.coordinated-shutdown.exit-jvm", ConfigValueFactory.fromAnyRef(exitJvm ? "on" : "off"));
    Config base = ConfigFactory.empty();
    String home = System.getProperty("r1.home");
    String dirEnv = System.getenv("R1_CONFIG_DIR");
    Path dir = dirEnv != null && !dirEnv.isBlank() ? Path.of(dirEnv) : home != null ? Path.of(home, "cluster-config") : null;
    String env = System.getenv("R1_ENV");
    if (dir != null) {
      Path f = dir.resolve((env == null || env.isBlank() ? "application" : env) + ".conf");
      if (Files.isRegularFile(f)) {
        base = ConfigFactory.parseFile(f.toFile());
      } else if (env != null && !env.isBlank()) {
        throw new InputException(f, 0, "R1_ENV", "no cluster config file for R1_ENV=" + env);
      }
      // per-role overlays (role-rollout.conf, …) over the environment file, in the order of the roles
      Config roleLayers = ConfigFactory.empty();
      for (String role : roles) {
        Path rf = dir.resolve("role-" + role + ".conf");
        if (Files.isRegularFile(rf)) {
          roleLayers = roleLayers.withFallback(ConfigFactory.parseFile(rf.toFile()));
        }
      }
      base = roleLayers.withFallback(base);
    }
    return ConfigFactory.systemProperties().withFallback(overrides).withFallback(base)
        .withFallback(ConfigFactory.defaultApplication()).withFallback(ConfigFactory.defaultReference()).resolve();
  }

  /**
   * Starts what a node serves besides the cluster: the Prometheus endpoint (when
   * {@code r1.metrics.port} &gt; 0) and, on Kubernetes ({@code R1_ENV} starting with
   * {@code kubernetes}), Pekko Management and Cluster Bootstrap, which form the cluster from the
   * Kubernetes API instead of seed nodes.
   */
  static void startServices(org.apache.pekko.actor.typed.ActorSystem<?> system) {
    io.r1cluster.actors.metrics.Metrics.get(system);
    String env = System.getenv("R1_ENV");
    if (env != null && env.startsWith("kubernetes")) {
      org.apache.pekko.actor.ActorSystem classic = org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(system);
      org.apache.pekko.management.javadsl.PekkoManagement.get(classic).start();
      org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap.get(classic).start();
    }
  }

  /** Whether this node forms the cluster through Cluster Bootstrap ({@code R1_ENV=kubernetes…}). */
  static boolean onKubernetes() {
    String env = System.getenv("R1_ENV");
    return env != null && env.startsWith("kubernetes");
  }

  /** The hostname to advertise: the flag when given, else {@code $POD_IP}, else 127.0.0.1. */
  static String host(String flag) {
    if (flag != null && !flag.isBlank()) {
      return flag;
    }
    String pod = System.getenv("POD_IP");
    return pod != null && !pod.isBlank() ? pod : "127.0.0.1";
  }

  /**
   * Seed nodes of a member: {@code --seed}, else {@code $R1_SEED}; none on Kubernetes (Cluster
   * Bootstrap finds the others). Anything else is an error (exit 2) that says how to give one.
   */
  static List<String> memberSeeds(String flag) {
    String s = flag != null && !flag.isBlank() ? flag : System.getenv("R1_SEED");
    if (s != null && !s.isBlank()) {
      return List.of(seedAddress(s, flag != null ? "--seed" : "R1_SEED"));
    }
    if (onKubernetes()) {
      return List.of();
    }
    throw new InputException(null, 0, "--seed", "no seed node: give --seed HOST:PORT or set R1_SEED"
        + " (or R1_ENV=kubernetes to use Cluster Bootstrap)");
  }

  /** {@code HOST:PORT} → the seed node address. */
  static String seedAddress(String hostPort, String option) {
    int i = hostPort.lastIndexOf(':');
    if (i <= 0 || i == hostPort.length() - 1) {
      throw new InputException(null, 0, option, "expected HOST:PORT, got '" + hostPort + "'");
    }
    try {
      int p = Integer.parseInt(hostPort.substring(i + 1));
      if (p < 1 || p > 65535) {
        throw new NumberFormatException();
      }
      return "pekko://" + SYSTEM + "@" + hostPort.substring(0, i) + ":" + p;
    } catch (NumberFormatException e) {
      throw new InputException(null, 0, option, "bad port in '" + hostPort + "'");
    }
  }

  static List<String> roles(String csv) {
    List<String> out = new ArrayList<>();
    for (String r : csv.split(",")) {
      String t = r.trim().toLowerCase(Locale.ROOT);
      if (t.isEmpty()) {
        continue;
      }
      List<String> known = new ArrayList<>(io.r1cluster.actors.grpo.Roles.ALL);
      known.add(io.r1cluster.actors.serve.NodeServing.ROLE);
      if (!known.contains(t)) {
        throw new InputException(null, 0, "--roles", "unknown role '" + t + "'; known: " + known);
      }
      out.add(t);
    }
    if (out.isEmpty()) {
      throw new InputException(null, 0, "--roles", "no role given");
    }
    return out;
  }
}
