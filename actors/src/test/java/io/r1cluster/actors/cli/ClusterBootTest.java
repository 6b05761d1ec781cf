package io.r1cluster.actors.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node config layering: CLI values over per-role overlays over the environment file. */
class ClusterBootTest {
  private final String home = System.getProperty("r1.home");

  @AfterEach
  void restore() {
    if (home == null) {
      System.clearProperty("r1.home");
    } else {
      System.setProperty("r1.home", home);
    }
  }

  @Test
  void roleOverlaysLayerOverTheEnvironmentFileAndUnderTheCommandLine(@TempDir Path dir) throws Exception {
    Path cc = Files.createDirectories(dir.resolve("cluster-config"));
    Files.writeString(cc.resolve("application.conf"), "r1.grpo.dispatch-timeout = 11s\nr1.grpo.reward.workers-per-node = 3\n");
    Files.writeString(cc.resolve("role-reward.conf"), "r1.grpo.reward.workers-per-node = 5\n");
    Files.writeString(cc.resolve("role-rollout.conf"), "r1.grpo.reward.workers-per-node = 7\nr1.grpo.rollout.slots = 2\n"
        + "pekko.remote.artery.canonical.port = 1\n");
    System.setProperty("r1.home", dir.toString());

    Config reward = ClusterBoot.config(List.of("reward"), "127.0.0.1", 0, List.of(), false);
    assertEquals(5, reward.getInt("r1.grpo.reward.workers-per-node"), "role file over the environment file");
    assertEquals(11, reward.getDuration("r1.grpo.dispatch-timeout").toSeconds(), "environment file still applies");
    assertEquals(0, reward.getInt("r1.grpo.rollout.slots"), "another role's file does not apply");

    Config both = ClusterBoot.config(List.of("reward", "rollout"), "127.0.0.1", 0, List.of(), false);
    assertEquals(5, both.getInt("r1.grpo.reward.workers-per-node"), "the first role listed wins a clash");
    assertEquals(2, both.getInt("r1.grpo.rollout.slots"));
    assertEquals(0, both.getInt("pekko.remote.artery.canonical.port"), "the command line wins over role files");

    Config none = ClusterBoot.config(List.of("seed"), "127.0.0.1", 0, List.of(), false);
    assertEquals(3, none.getInt("r1.grpo.reward.workers-per-node"));
  }

  @Test
  void shippedEnvironmentAndRoleFilesLoad() throws Exception {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("cluster-config"))) {
      p = p.getParent();
    }
    System.setProperty("r1.home", p.toString());
    Config c = ClusterBoot.config(List.of("learner", "rollout", "reward"), "127.0.0.1", 0, List.of(), false);
    assertEquals(30, c.getDuration("r1.grpo.rollout.weights-wait-timeout").toSeconds());
    assertEquals(2, c.getInt("r1.grpo.reward.workers-per-node"));
    for (String env : List.of("local", "local-cluster", "kubernetes")) {
      Config e = ConfigFactory.parseFile(p.resolve("cluster-config/" + env + ".conf").toFile())
          .withFallback(ConfigFactory.defaultReference()).resolve();
      assertEquals("cluster", e.getString("pekko.actor.provider"), env + " includes application.conf");
      assertTrue(e.hasPath("pekko.cluster.split-brain-resolver.stable-after"), env);
    }
    Config lc = ConfigFactory.parseFile(p.resolve("cluster-config/local-cluster.conf").toFile()).resolve();
    assertEquals(5, lc.getDuration("pekko.cluster.split-brain-resolver.stable-after").toSeconds());
  }
}
