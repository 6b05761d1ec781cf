package io.r1cluster.actors.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Pekko Management as {@code cluster-config/kubernetes.conf} configures it, started for real on a
 * loopback "pod IP": health and membership reads answer, the cluster-http routes that change
 * membership (PUT/DELETE {@code /cluster/members/…}) do not exist, and nothing listens on other
 * addresses of the host. The control case shows the same DELETE does take a node out once
 * {@code route-providers-read-only} is off — which is why it must stay on (there is no auth).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ManagementExposureTest {
  /** The "pod IP" for this test; 127.0.0.2 is another address of the same loopback interface. */
  private static final String POD_IP = "127.0.0.1";
  private static final String OTHER_LOCAL_ADDRESS = "127.0.0.2";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static Path root() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("cluster-config"))) {
      p = p.getParent();
    }
    return p;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(POD_IP))) {
      return s.getLocalPort();
    }
  }

  /** kubernetes.conf (which includes application.conf) as a pod reads it, with test ports. */
  private static Config kubernetesConfig(int managementPort, String extra) {
    Config pod = ConfigFactory.parseFile(root().resolve("cluster-config/kubernetes.conf").toFile())
        .withFallback(ConfigFactory.parseMap(Map.of("POD_IP", POD_IP)));
    Config test = ConfigFactory.parseString(String.join("\n",
        "pekko.remote.artery.canonical.port = 0",
        "pekko.management.http.port = " + managementPort,
        "pekko.management.http.bind-port = " + managementPort,
        "pekko.coordinated-shutdown.exit-jvm = off",
        "pekko.coordinated-shutdown.run-by-jvm-shutdown-hook = off",
        "pekko.cluster.jmx.multi-mbeans-in-same-jvm = on",
        extra));
    return ConfigFactory.load(test.withFallback(pod));
  }

  private HttpResponse<String> send(String method, String host, int port, String path, String form) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path))
        .timeout(Duration.ofSeconds(10));
    if (form != null) {
      b.header("Content-Type", "application/x-www-form-urlencoded").method(method, HttpRequest.BodyPublishers.ofString(form));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static ActorSystem<Void> startUp(Config config) throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "r1", config);
    Cluster cluster = Cluster.get(system);
    cluster.manager().tell(Join.create(cluster.selfMember().address()));
    awaitTrue(Duration.ofSeconds(20), () -> cluster.selfMember().status().equals(MemberStatus.up()), "self Up");
    PekkoManagement.get(system).start().toCompletableFuture().get(20, TimeUnit.SECONDS);
    return system;
  }

  private static void stop(ActorSystem<?> system) throws Exception {
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void onThePodAddressOnlyReadsAreServed() throws Exception {
    int port = freePort();
    Config config = kubernetesConfig(port, "");
    assertTrue(config.getBoolean("pekko.management.http.route-providers-read-only"));
    assertEquals(POD_IP, config.getString("pekko.management.http.bind-hostname"));
    ActorSystem<Void> system = startUp(config);
    try {
      String self = Cluster.get(system).selfMember().address().toString();
      awaitTrue(Duration.ofSeconds(20), () -> status("GET", POD_IP, port, "/ready") == 200, "/ready answers 200");
      assertEquals(200, send("GET", POD_IP, port, "/alive", null).statusCode());
      HttpResponse<String> members = send("GET", POD_IP, port, "/cluster/members", null);
      assertEquals(200, members.statusCode());
      assertTrue(members.body().contains(self), members.body());

      int put = send("PUT", POD_IP, port, "/cluster/members/" + self, "operation=Down").statusCode();
      int delete = send("DELETE", POD_IP, port, "/cluster/members/" + self, null).statusCode();
      int leave = send("PUT", POD_IP, port, "/cluster/members/" + self, "operation=Leave").statusCode();
      assertTrue(put >= 400 && delete >= 400 && leave >= 400,
          "state-changing routes must not exist: PUT Down " + put + ", DELETE " + delete + ", PUT Leave " + leave);
      Thread.sleep(1_000);
      assertEquals(MemberStatus.up(), Cluster.get(system).selfMember().status(), "still Up");

      assertThrows(ConnectException.class, () -> send("GET", OTHER_LOCAL_ADDRESS, port, "/alive", null),
          "management listens on the pod address only, not on every interface");
    } finally {
      stop(system);
    }
  }

  @Test
  void controlWithoutReadOnlyTheSameDeleteTakesTheNodeOut() throws Exception {
    int port = freePort();
    ActorSystem<Void> system = startUp(kubernetesConfig(port, "pekko.management.http.route-providers-read-only = false"));
    try {
      String self = Cluster.get(system).selfMember().address().toString();
      HttpResponse<String> delete = send("DELETE", POD_IP, port, "/cluster/members/" + self, null);
      assertEquals(200, delete.statusCode(), delete.body());
      awaitTrue(Duration.ofSeconds(20), () -> !Cluster.get(system).selfMember().status().equals(MemberStatus.up()),
          "the node leaves on an unauthenticated DELETE");
      assertFalse(Cluster.get(system).selfMember().status().equals(MemberStatus.up()));
    } finally {
      stop(system);
    }
  }

  private int status(String method, String host, int port, String path) {
    try {
      return send(method, host, port, path, null).statusCode();
    } catch (Exception e) {
      return -1;
    }
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
