package io.r1cluster.actors.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/**
 * cluster-config/ parses and agrees with the Kubernetes manifests: bootstrap discovery, service
 * name, label selector and ports.
 */
class ClusterConfigTest {
  static Path root() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("cluster-config"))) {
      p = p.getParent();
    }
    return p;
  }

  @Test
  void kubernetesOverlayMatchesTheManifests() throws Exception {
    Path root = root();
    Config k8s = ConfigFactory.parseFile(root.resolve("cluster-config/kubernetes.conf").toFile())
        .withFallback(ConfigFactory.defaultReference()).resolve();
    assertEquals("cluster", k8s.getString("pekko.actor.provider"));
    assertEquals("keep-majority", k8s.getString("pekko.cluster.split-brain-resolver.active-strategy"));
    assertEquals("kubernetes-api", k8s.getString("pekko.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
    String service = k8s.getString("pekko.management.cluster.bootstrap.contact-point-discovery.service-name");
    String selector = String.format(k8s.getString("pekko.discovery.kubernetes-api.pod-label-selector"), service);
    int mgmt = k8s.getInt("pekko.management.http.port");
    int artery = k8s.getInt("pekko.remote.artery.canonical.port");

    String labels = Files.readString(root.resolve("k8s/base/kustomization.yaml"));
    String[] kv = selector.split("=");
    assertTrue(labels.contains(kv[0] + ": " + kv[1]), "pods carry the bootstrap label " + selector);
    for (String f : new String[] {"seed.yaml", "learner.yaml", "rollout.yaml", "reward.yaml"}) {
      String pod = Files.readString(root.resolve("k8s/base/" + f));
      assertTrue(pod.contains("name: management, containerPort: " + mgmt), f + " exposes management port " + mgmt);
      assertTrue(pod.contains("name: remoting, containerPort: " + artery), f + " exposes Artery port " + artery);
      assertTrue(pod.contains("path: /" + k8s.getString("pekko.management.health-checks.readiness-path")), f + " readiness path");
      assertTrue(pod.contains("path: /" + k8s.getString("pekko.management.health-checks.liveness-path")), f + " liveness path");
    }
  }
}
