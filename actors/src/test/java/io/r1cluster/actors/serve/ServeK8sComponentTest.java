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
 * an `r1 serve` the real CLI accepts, probes and the Service use the port the server binds, and the
 * volumes it mounts exist.
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
    assertEquals("serve", parsed.subcommand().commandSpec().name());
    int port = Integer.parseInt(args.get(args.indexOf("--port") + 1));
    assertEquals("0.0.0.0", args.get(args.indexOf("--host") + 1), "reachable from the Service");
    assertEquals(port, c.at("/ports/0/containerPort").asInt());
    String portName = c.at("/ports/0/name").asText();
    for (String probe : List.of("startupProbe", "readinessProbe", "livenessProbe")) {
      assertEquals("/health", c.at("/" + probe + "/httpGet/path").asText(), probe);
      assertEquals(portName, c.at("/" + probe + "/httpGet/port").asText(), probe);
    }
    assertEquals(String.valueOf(port), deploy.at("/spec/template/metadata/annotations/prometheus.io~1port").asText());
    assertEquals(portName, svc.at("/spec/ports/0/targetPort").asText());
    svc.at("/spec/selector").fields().forEachRemaining(e -> assertEquals(e.getValue().asText(),
        deploy.at("/spec/template/metadata/labels/" + e.getKey().replace("/", "~1")).asText(), "selector " + e.getKey()));
    for (JsonNode v : deploy.at("/spec/template/spec/volumes")) {
      if (v.has("persistentVolumeClaim")) {
        find(docs, "PersistentVolumeClaim", v.at("/persistentVolumeClaim/claimName").asText());
      }
    }
    assertEquals(deploy.at("/metadata/namespace"), svc.at("/metadata/namespace"));
  }

  private static JsonNode find(List<JsonNode> docs, String kind, String name) {
    return docs.stream().filter(d -> kind.equals(d.path("kind").asText()) && name.equals(d.at("/metadata/name").asText()))
        .findFirst().orElseThrow(() -> new AssertionError("no " + kind + " " + name + " in the rendered overlay"));
  }
}
