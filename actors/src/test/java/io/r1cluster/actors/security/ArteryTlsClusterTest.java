package io.r1cluster.actors.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.stream.StreamSupport;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Artery over TLS with mutual authentication, as configured by {@code cluster-config/tls.conf}, with
 * certificates made by {@code scripts/make-certs.sh}: three real ActorSystems on loopback. Two nodes
 * whose certificates the cluster CA signed form a cluster; a node whose certificate another CA signed
 * (same trust store, same password, same config otherwise) never becomes a member.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ArteryTlsClusterTest {
  private static final String PASSWORD = "r1-test-secret";
  private final List<ActorSystem<?>> systems = new ArrayList<>();

  static Path root() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("cluster-config"))) {
      p = p.getParent();
    }
    return p;
  }

  @AfterEach
  void stopSystems() throws Exception {
    for (ActorSystem<?> s : systems) {
      s.terminate();
    }
    for (ActorSystem<?> s : systems) {
      s.getWhenTerminated().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void nodesWithCaSignedCertificatesFormAClusterAndOthersCannotJoin(@TempDir Path dir) throws Exception {
    Path cluster = dir.resolve("cluster");
    Path foreign = dir.resolve("foreign");
    // two independent CAs, made side by side: the cluster's, and one of its own for the rogue node
    Process clusterCerts = makeCerts(cluster, "node-a", "node-b");
    Process foreignCerts = makeCerts(foreign, "rogue");
    awaitCerts(clusterCerts, cluster, "node-a", "node-b");
    awaitCerts(foreignCerts, foreign, "rogue");
    Path trust = cluster.resolve("truststore.p12");

    ActorSystem<Void> a = start("node-a", cluster.resolve("node-a.p12"), trust);
    ActorSystem<Void> b = start("node-b", cluster.resolve("node-b.p12"), trust);
    Address addressA = Cluster.get(a).selfMember().address();
    Address addressB = Cluster.get(b).selfMember().address();
    assertEquals("pekko", addressA.protocol());

    Cluster.get(a).manager().tell(Join.create(addressA));
    Cluster.get(b).manager().tell(Join.create(addressA));
    awaitTrue(Duration.ofSeconds(25), () -> upMembers(a).containsAll(List.of(addressA, addressB))
        && upMembers(b).containsAll(List.of(addressA, addressB)), "node-a and node-b Up over TLS");

    ActorSystem<Void> rogue = start("rogue", foreign.resolve("rogue.p12"), trust);
    Address addressRogue = Cluster.get(rogue).selfMember().address();
    Cluster.get(rogue).manager().tell(Join.create(addressA));
    // it keeps trying (InitJoin every few seconds); watch the whole window, not just its end
    long until = System.nanoTime() + Duration.ofSeconds(8).toNanos();
    while (System.nanoTime() < until) {
      assertNotEquals(MemberStatus.up(), Cluster.get(rogue).selfMember().status(), "rogue became Up");
      assertFalse(allMembers(a).contains(addressRogue), "rogue is known to node-a: " + allMembers(a));
      assertFalse(allMembers(b).contains(addressRogue), "rogue is known to node-b: " + allMembers(b));
      Thread.sleep(200);
    }
    assertTrue(upMembers(a).containsAll(List.of(addressA, addressB)), "the cluster is unharmed");
    assertEquals(2, allMembers(a).size(), "members: " + allMembers(a));
  }

  private static Process makeCerts(Path out, String... nodes) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("bash", root().resolve("scripts/make-certs.sh").toString(),
        "-o", out.toString(), "-d", "2"));
    cmd.addAll(List.of(nodes));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("R1_TLS_PASSWORD", PASSWORD);
    return pb.start();
  }

  private static void awaitCerts(Process p, Path out, String... nodes) throws IOException, InterruptedException {
    String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "make-certs.sh timed out");
    assertEquals(0, p.exitValue(), "make-certs.sh failed:\n" + log);
    for (String n : nodes) {
      assertTrue(Files.isRegularFile(out.resolve(n + ".p12")), n + ".p12 written");
    }
  }

  /** application.conf + tls.conf from cluster-config/, the store paths where the env vars would be. */
  private ActorSystem<Void> start(String name, Path keyStore, Path trustStore) {
    Path conf = root().resolve("cluster-config");
    Config env = ConfigFactory.parseMap(Map.of(
        "R1_TLS_KEYSTORE", keyStore.toString(),
        "R1_TLS_KEYSTORE_PASSWORD", PASSWORD,
        "R1_TLS_TRUSTSTORE", trustStore.toString(),
        "R1_TLS_TRUSTSTORE_PASSWORD", PASSWORD));
    Config test = ConfigFactory.parseString(String.join("\n",
        "pekko.remote.artery.canonical.hostname = \"127.0.0.1\"",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.coordinated-shutdown.exit-jvm = off",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
        "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
        "pekko.cluster.split-brain-resolver.stable-after = 5s"));
    Config config = ConfigFactory.load(test
        .withFallback(ConfigFactory.parseFile(conf.resolve("tls.conf").toFile()))
        .withFallback(ConfigFactory.parseFile(conf.resolve("application.conf").toFile()))
        .withFallback(env));
    assertEquals("tls-tcp", config.getString("pekko.remote.artery.transport"));
    assertEquals("on", config.getString("pekko.remote.artery.ssl.config-ssl-engine.require-mutual-authentication"));
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "r1", config);
    systems.add(system);
    return system;
  }

  private static List<Address> upMembers(ActorSystem<?> s) {
    return StreamSupport.stream(Cluster.get(s).state().getMembers().spliterator(), false)
        .filter(m -> m.status().equals(MemberStatus.up())).map(Member::address).toList();
  }

  private static List<Address> allMembers(ActorSystem<?> s) {
    return StreamSupport.stream(Cluster.get(s).state().getMembers().spliterator(), false)
        .map(Member::address).toList();
  }

  private static void awaitTrue(Duration max, BooleanSupplier condition, String what) throws InterruptedException {
    long until = System.nanoTime() + max.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("not within " + max + ": " + what);
      }
      Thread.sleep(100);
    }
  }
}
