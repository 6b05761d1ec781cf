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
 * seed nodes) over {@code cluster-config/application.conf} (found under {@code -Dr1.home}, the
 * launcher sets it) over the modules' {@code reference.conf}.
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
    if (home != null) {
      Path f = Path.of(home, "cluster-config", "application.conf");
      if (Files.isRegularFile(f)) {
        base = ConfigFactory.parseFile(f.toFile());
      }
    }
    return ConfigFactory.systemProperties().withFallback(overrides).withFallback(base)
        .withFallback(ConfigFactory.defaultApplication()).withFallback(ConfigFactory.defaultReference()).resolve();
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
      if (!io.r1cluster.actors.grpo.Roles.ALL.contains(t)) {
        throw new InputException(null, 0, "--roles", "unknown role '" + t + "'; known: " + io.r1cluster.actors.grpo.Roles.ALL);
      }
      out.add(t);
    }
    if (out.isEmpty()) {
      throw new InputException(null, 0, "--roles", "no role given");
    }
    return out;
  }
}
