package io.r1cluster.actors.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * One overlay of {@code k8s/overlays/}, rendered by {@code kubectl kustomize} exactly as the README
 * tells users to, and parsed strictly ({@link StrictKubernetesModel}).
 */
final class RenderedOverlay {
  /** A workload's pod template with its owner's kind, name and namespace. */
  record Workload(String kind, String name, String namespace, Integer replicas, Map<String, String> selector,
      PodTemplateSpec template) {
    Container container() {
      return template.getSpec().getContainers().get(0);
    }

    Map<String, String> podLabels() {
      return template.getMetadata().getLabels();
    }

    @Override
    public String toString() {
      return kind + " " + name;
    }
  }

  final String name;
  final List<JsonNode> documents;
  final List<HasMetadata> objects;

  private RenderedOverlay(String name, List<JsonNode> documents) {
    this.name = name;
    this.documents = documents;
    List<HasMetadata> parsed = new ArrayList<>();
    for (JsonNode d : documents) {
      parsed.add(StrictKubernetesModel.parse(d));
    }
    this.objects = parsed;
  }

  static Path root() {
    Path p = Paths.get("").toAbsolutePath();
    while (p != null && !Files.isDirectory(p.resolve("k8s/overlays"))) {
      p = p.getParent();
    }
    if (p == null) {
      throw new IllegalStateException("no k8s/overlays above " + Paths.get("").toAbsolutePath());
    }
    return p;
  }

  /** The overlay folder names, so that a new overlay is validated without touching the tests. */
  static List<String> overlayNames() throws IOException {
    try (Stream<Path> s = Files.list(root().resolve("k8s/overlays"))) {
      return s.filter(p -> Files.isRegularFile(p.resolve("kustomization.yaml")))
          .map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  static Optional<Path> kubectl() {
    String path = System.getenv().getOrDefault("PATH", "");
    for (String dir : path.split(File.pathSeparator)) {
      Path k = Paths.get(dir, "kubectl");
      if (Files.isExecutable(k)) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  static String renderYaml(Path kubectl, String overlay) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(kubectl.toString(), "kustomize", "--load-restrictor", "LoadRestrictionsNone",
        root().resolve("k8s/overlays/" + overlay).toString()).redirectErrorStream(false).start();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("kubectl kustomize " + overlay + " failed: " + err);
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  static RenderedOverlay render(Path kubectl, String overlay) throws IOException, InterruptedException {
    return fromYaml(overlay, renderYaml(kubectl, overlay));
  }

  static RenderedOverlay fromYaml(String name, String yaml) throws IOException {
    return new RenderedOverlay(name, documents(yaml));
  }

  static List<JsonNode> documents(String yaml) throws IOException {
    ObjectMapper m = new ObjectMapper(new YAMLFactory());
    List<JsonNode> docs = new ArrayList<>();
    try (var it = m.readerFor(JsonNode.class).<JsonNode>readValues(yaml)) {
      while (it.hasNext()) {
        JsonNode d = it.next();
        if (d != null && !d.isNull() && !d.isEmpty()) {
          docs.add(d);
        }
      }
    }
    return docs;
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
    return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
  }

  Optional<ConfigMap> configMap(String name) {
    return find(ConfigMap.class, name);
  }

  List<Workload> workloads() {
    List<Workload> w = new ArrayList<>();
    for (StatefulSet s : all(StatefulSet.class)) {
      w.add(new Workload("StatefulSet", s.getMetadata().getName(), s.getMetadata().getNamespace(),
          s.getSpec().getReplicas(), s.getSpec().getSelector().getMatchLabels(), s.getSpec().getTemplate()));
    }
    for (Deployment d : all(Deployment.class)) {
      w.add(new Workload("Deployment", d.getMetadata().getName(), d.getMetadata().getNamespace(),
          d.getSpec().getReplicas(), d.getSpec().getSelector().getMatchLabels(), d.getSpec().getTemplate()));
    }
    return w;
  }

  Workload workload(String name) {
    return workloads().stream().filter(w -> w.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError(this.name + ": no workload " + name));
  }

  /** Workloads whose pod template carries every label of {@code selector} (and that are in {@code namespace}). */
  List<Workload> selected(Map<String, String> selector, String namespace) {
    if (selector == null || selector.isEmpty()) {
      return List.of();
    }
    return workloads().stream()
        .filter(w -> java.util.Objects.equals(w.namespace(), namespace))
        .filter(w -> w.podLabels() != null && w.podLabels().entrySet().containsAll(selector.entrySet()))
        .toList();
  }

  @Override
  public String toString() {
    return name;
  }
}
