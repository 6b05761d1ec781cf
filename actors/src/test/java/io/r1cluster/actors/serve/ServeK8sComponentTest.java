package io.r1cluster.actors.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.databind.MappingIterator;
import io.r1cluster.actors.cli.R1;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * k8s/components/serve rendered by kustomize on top of the cpu-demo overlay: the container's args are
 * an `r1 member --roles serve` the real CLI accepts, probes and the Service use the port the API
 * binds, the pod is wired as a cluster member (bootstrap label, kubernetes config, pod IP, metrics
 * port), and the volumes it mounts exist.
 */
class ServeK8sComponentTest {
  @Test
  void serveComponentRendersAndIsConsistent(@TempDir Path dir) throws Exception {
    Path repo = Path.of("..").toAbsolutePath().normalize();
    Path overlay = dir.resolve("overlay");
    Files.createDirectories(overlay);
    Path rel = overlay.relativize(repo.resolve("k8s"));
    Files.writeString(overlay.resolve("kustomization.yaml"), String.join("\n",
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        "resources: [" + rel.resolve("overlays/cpu-demo") + "]",
        "components: [" + rel.resolve("components/serve") + "]", ""));
    Process p;
    try {
      p = new ProcessBuilder("kubectl", "kustomize", "--load-restrictor", "LoadRestrictionsNone", overlay.toString())
          .redirectErrorStream(false).start();
    } catch (java.io.IOException e) {
      assumeTrue(false, "kubectl not on PATH");
      return;
    }
    String yaml = new String(p.getInputStream().readAllBytes());
    String err = new String(p.getErrorStream().readAllBytes());
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assumeTrue(!err.contains("unknown flag"), "kubectl too old: " + err);
    assertEquals(0, p.exitValue(), err);
    List<JsonNode> docs = new ArrayList<>();
    try (MappingIterator<JsonNode> it = new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class).readValues(yaml)) {
      while (it.hasNext()) {
        docs.add(it.next());
      }
    }
    JsonNode deploy = find(docs, "Deployment", "r1-serve");
    JsonNode svc = find(docs, "Service", "r1-serve");
    JsonNode c = deploy.at("/spec/template/spec/containers/0");
    List<String> args = new ArrayList<>();
    c.get("args").forEach(a -> args.add(a.asText()));
    CommandLine.ParseResult parsed = R1.commandLine().parseArgs(args.toArray(String[]::new));
    assertEquals("member", parsed.subcommand().commandSpec().name());
    assertTrue(List.of(args.get(args.indexOf("--roles") + 1).split(",")).contains("serve"), "the serve role: " + args);
    assertTrue(args.contains("--serve-model"), "the model it answers for: " + args);
    int port = Integer.parseInt(args.get(args.indexOf("--serve-port") + 1));
    assertEquals("0.0.0.0", args.get(args.indexOf("--serve-host") + 1), "reachable from the Service");
    assertEquals(port, c.at("/ports/0/containerPort").asInt());
    String portName = c.at("/ports/0/name").asText();
    for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      assertEquals("/health", c.at("/" + probe + "/httpGet/path").asText(), probe);
      assertEquals(portName, c.at("/" + probe + "/httpGet/port").asText(), probe);
    }
    // a cluster member like the others: found by Cluster Bootstrap's label, metrics on the node's port
    assertEquals("r1-cluster", deploy.at("/spec/template/metadata/labels/app.kubernetes.io~1name").asText());
    assertEquals("kubernetes", env(c, "R1_ENV"));
    assertTrue(c.get("env").toString().contains("\"status.podIP\""), "POD_IP from the downward API");
    int metricsPort = -1;
    for (JsonNode cp : c.get("ports")) {
      if (cp.path("name").asText().equals("metrics")) {
        metricsPort = cp.get("containerPort").asInt();
      }
    }
    assertEquals(String.valueOf(metricsPort), deploy.at("/spec/template/metadata/annotations/prometheus.io~1port").asText());
    assertEquals(portName, svc.at("/spec/ports/0/targetPort").asText());
    svc.at("/spec/selector").fields().forEachRemaining(e -> assertEquals(e.getValue().asText(),
        deploy.at("/spec/template/metadata/labels/" + e.getKey().replace("/", "~1")).asText(), "selector " + e.getKey()));
    for (JsonNode v : deploy.at("/spec/template/spec/volumes")) {
      if (v.has("persistentVolumeClaim")) {
        find(docs, "PersistentVolumeClaim", v.at("/persistentVolumeClaim/claimName").asText());
      }
      if (v.has("configMap")) {
        JsonNode cm = find(docs, "ConfigMap", v.at("/configMap/name").asText());
        String configDir = env(c, "R1_CONFIG_DIR");
        for (JsonNode m : c.get("volumeMounts")) {
          if (m.get("name").asText().equals(v.get("name").asText())) {
            assertEquals(configDir, m.get("mountPath").asText(), "R1_CONFIG_DIR is the mounted cluster config");
          }
        }
        assertTrue(cm.at("/data/kubernetes.conf").isTextual(), "kubernetes.conf in " + cm.at("/metadata/name"));
      }
    }
    assertEquals(deploy.at("/metadata/namespace"), svc.at("/metadata/namespace"));
  }

  private static String env(JsonNode container, String name) {
    for (JsonNode e : container.get("env")) {
      if (e.get("name").asText().equals(name)) {
        return e.path("value").asText();
      }
    }
    throw new AssertionError("no env " + name + " in " + container.get("env"));
  }

  private static JsonNode find(List<JsonNode> docs, String kind, String name) {
    return docs.stream().filter(d -> kind.equals(d.path("kind").asText()) && name.equals(d.at("/metadata/name").asText()))
        .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in the rendered overlay"));
  }
}
