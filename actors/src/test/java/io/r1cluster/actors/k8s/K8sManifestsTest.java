package io.r1cluster.actors.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.CrossVersionObjectReference;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.autoscaling.v2.MetricSpec;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.r1cluster.actors.k8s.RenderedOverlay.Workload;
import io.r1cluster.actors.metrics.Metrics;
import io.r1cluster.actors.metrics.MetricsSettings;
import io.r1cluster.actors.metrics.PrometheusEndpoint;
import io.r1cluster.actors.metrics.R1Metrics;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every overlay in {@code k8s/overlays/}, rendered with {@code kubectl kustomize} as users render
 * it, parsed strictly into the Kubernetes API model, and cross-checked against the HOCON the pods
 * actually mount (the rendered ConfigMap, not the file in the repository) and against the code:
 * bootstrap label selector ↔ pod labels, Artery/management/metrics ports ↔ container ports,
 * probes ↔ Pekko Management health paths, mounted ConfigMap keys ↔ files the pods read, PDB/HPA/
 * Service selectors ↔ pods, the HPA metric ↔ {@link R1Metrics}, grace period ↔ coordinated
 * shutdown, heap + shared memory ↔ memory limit, GPUs in the gpu overlay.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class K8sManifestsTest {
  /** Stands in for the pod IP that Kubernetes puts into POD_IP. */
  static final String POD_IP = "10.42.7.9";
  private static final Map<String, RenderedOverlay> RENDERED = new ConcurrentHashMap<>();
  private static final String GPU = "nvidia.com/gpu";

  static List<String> overlays() throws IOException {
    List<String> names = RenderedOverlay.overlayNames();
    assertTrue(names.containsAll(List.of("cpu-demo", "gpu")), "overlays: " + names);
    return names;
  }

  static RenderedOverlay rendered(String overlay) throws Exception {
    Optional<Path> kubectl = RenderedOverlay.kubectl();
    assumeTrue(kubectl.isPresent(), "kubectl not on PATH (.ci/run installs it): k8s overlays not rendered");
    RenderedOverlay cached = RENDERED.get(overlay);
    if (cached == null) {
      String help = run(kubectl.get().toString(), "kustomize", "--help");
      assumeTrue(help.contains("--load-restrictor"), "this kubectl's kustomize is too old to render the overlays"
          + " (needs --load-restrictor, kubectl >= 1.21): " + kubectl.get());
      cached = RenderedOverlay.render(kubectl.get(), overlay);
      RENDERED.put(overlay, cached);
    }
    return cached;
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    p.waitFor(30, TimeUnit.SECONDS);
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // schema

  @ParameterizedTest
  @MethodSource("overlays")
  void everyObjectFitsTheKubernetesApiModel(String overlay, @TempDir Path scratch) throws Exception {
    checkEveryObjectFitsTheKubernetesApiModel(rendered(overlay), scratch);
  }

  static void checkEveryObjectFitsTheKubernetesApiModel(RenderedOverlay o, Path scratch) throws Exception {
    String overlay = o.name;
    Map<String, Long> kinds = o.objects.stream()
        .collect(Collectors.groupingBy(h -> h.getKind(), Collectors.counting()));
    for (String k : List.of("Namespace", "ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service",
        "PersistentVolumeClaim", "StatefulSet", "Deployment", "PodDisruptionBudget", "HorizontalPodAutoscaler")) {
      assertTrue(kinds.containsKey(k), overlay + " renders a " + k + ": " + kinds);
    }
    String ns = o.all(io.fabric8.kubernetes.api.model.Namespace.class).get(0).getMetadata().getName();
    for (var obj : o.objects) {
      if (!obj.getKind().equals("Namespace")) {
        assertEquals(ns, obj.getMetadata().getNamespace(), overlay + ": " + obj.getKind() + " "
            + obj.getMetadata().getName() + " is in the overlay's namespace");
      }
    }
    for (Workload w : o.workloads()) {
      assertFalse(w.selector().isEmpty(), w + " has a selector");
      assertTrue(w.podLabels().entrySet().containsAll(w.selector().entrySet()),
          w + ": the API rejects a selector that does not match the template labels");
      for (Container c : w.template().getSpec().getContainers()) {
        assertNotNull(c.getImage(), w + " image");
        List<String> envNames = c.getEnv().stream().map(EnvVar::getName).toList();
        assertEquals(envNames.size(), envNames.stream().distinct().count(), w + ": duplicate env names " + envNames);
      }
    }
    for (StatefulSet s : o.all(StatefulSet.class)) {
      Service svc = o.find(Service.class, s.getSpec().getServiceName()).orElseThrow(() ->
          new AssertionError(overlay + ": StatefulSet " + s.getMetadata().getName() + " names a missing Service"));
      assertEquals("None", svc.getSpec().getClusterIP(), "the governing Service of a StatefulSet is headless");
    }
  }

  // ---------------------------------------------------------------------------------------------
  // HOCON the pods read ↔ manifests

  /** The cluster config a container reads: its ConfigMap's files laid out as in the pod, parsed there. */
  static Config podConfig(RenderedOverlay o, Workload w, Path scratch) throws IOException {
    Container c = w.container();
    String dir = env(c, "R1_CONFIG_DIR").orElseThrow(() -> new AssertionError(w + " sets R1_CONFIG_DIR"));
    String envName = env(c, "R1_ENV").orElseThrow(() -> new AssertionError(w + " sets R1_ENV"));
    ConfigMap cm = mountedConfigMap(o, w, dir);
    String file = envName + ".conf";
    assertTrue(cm.getData().containsKey(file), w + " reads " + dir + "/" + file + ": ConfigMap "
        + cm.getMetadata().getName() + " has " + cm.getData().keySet());
    Path d = Files.createDirectories(scratch.resolve(o.name + "-" + w.name()));
    for (Map.Entry<String, String> e : cm.getData().entrySet()) {
      Files.writeString(d.resolve(e.getKey()), e.getValue());
    }
    // HOCON skips a missing include silently: check that every include is in the ConfigMap
    Matcher inc = Pattern.compile("(?m)^\\s*include\\s+(?:required\\()?(?:file\\()?\"([^\"]+)\"").matcher(cm.getData().get(file));
    while (inc.find()) {
      String name = inc.group(1);
      assertTrue(cm.getData().containsKey(name) || cm.getData().containsKey(name + ".conf"),
          w + ": " + file + " includes \"" + name + "\", missing from ConfigMap " + cm.getMetadata().getName());
    }
    assertEquals("status.podIP", c.getEnv().stream().filter(e -> e.getName().equals("POD_IP")).findFirst()
        .map(e -> e.getValueFrom().getFieldRef().getFieldPath()).orElse(null), w + ": POD_IP from the downward API");
    // substitutions see the container's environment: literal values, the pod IP, secrets as placeholders;
    // a required ${VAR} that the pod does not set fails to resolve here as it would at start-up
    Map<String, String> environment = new HashMap<>();
    for (EnvVar e : c.getEnv()) {
      if (e.getValue() != null) {
        environment.put(e.getName(), e.getValue());
      } else if (e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null) {
        environment.put(e.getName(), "<secret " + e.getValueFrom().getSecretKeyRef().getName() + "/"
            + e.getValueFrom().getSecretKeyRef().getKey() + ">");
      } else if (e.getValueFrom() != null && e.getValueFrom().getFieldRef() != null
          && "status.podIP".equals(e.getValueFrom().getFieldRef().getFieldPath())) {
        environment.put(e.getName(), POD_IP);
      }
    }
    Config pod = ConfigFactory.parseFile(d.resolve(file).toFile())
        .withFallback(ConfigFactory.parseMap(environment))
        .withFallback(ConfigFactory.defaultReference());
    try {
      return pod.resolve();
    } catch (com.typesafe.config.ConfigException e) {
      throw new AssertionError(w + ": " + file + " does not resolve with the pod's environment: " + e.getMessage(), e);
    }
  }

  static boolean isGpuOverlay(String overlay) {
    return overlay.equals("gpu") || overlay.startsWith("gpu-");
  }

  static Optional<String> env(Container c, String name) {
    return c.getEnv().stream().filter(e -> e.getName().equals(name)).map(EnvVar::getValue).filter(Objects::nonNull)
        .findFirst();
  }

  static ConfigMap mountedConfigMap(RenderedOverlay o, Workload w, String mountPath) {
    VolumeMount m = w.container().getVolumeMounts().stream().filter(v -> v.getMountPath().equals(mountPath))
        .findFirst().orElseThrow(() -> new AssertionError(w + " mounts nothing at " + mountPath));
    Volume v = volume(w, m.getName());
    assertNotNull(v.getConfigMap(), w + ": " + mountPath + " is a ConfigMap volume");
    return o.configMap(v.getConfigMap().getName()).orElseThrow(() ->
        new AssertionError(w + " mounts a missing ConfigMap " + v.getConfigMap().getName()));
  }

  static Volume volume(Workload w, String name) {
    return w.template().getSpec().getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError(w + ": volumeMount " + name + " has no volume"));
  }

  static int containerPort(Workload w, String name) {
    return w.container().getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
        .map(ContainerPort::getContainerPort)
        .orElseThrow(() -> new AssertionError(w + " has no container port named " + name));
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void bootstrapSelectorPortsAndProbesMatchTheMountedClusterConfig(String overlay, @TempDir Path scratch) throws Exception {
    checkBootstrapSelectorPortsAndProbesMatchTheMountedClusterConfig(rendered(overlay), scratch);
  }

  static void checkBootstrapSelectorPortsAndProbesMatchTheMountedClusterConfig(RenderedOverlay o, Path scratch) throws Exception {
    String overlay = o.name;
    assertEquals(4, o.workloads().size(), "seed, learner, rollout, reward: " + o.workloads());
    for (Workload w : o.workloads()) {
      Config conf = podConfig(o, w, scratch);
      String bootstrap = "pekko.management.cluster.bootstrap.contact-point-discovery.";
      assertEquals("kubernetes-api", conf.getString(bootstrap + "discovery-method"));
      String selector = String.format(conf.getString("pekko.discovery.kubernetes-api.pod-label-selector"),
          conf.getString(bootstrap + "service-name"));
      Map<String, String> labels = parseSelector(selector);
      assertEquals(o.workloads(), o.selected(labels, w.namespace()),
          overlay + ": Cluster Bootstrap selector " + selector + " must find every cluster pod");

      assertEquals(conf.getInt("pekko.remote.artery.canonical.port"), containerPort(w, "remoting"), w + " Artery port");
      assertEquals(POD_IP, conf.getString("pekko.remote.artery.canonical.hostname"), w + " Artery on the pod IP");
      int mgmt = conf.getInt("pekko.management.http.port");
      assertEquals(mgmt, containerPort(w, "management"), w + " management port");
      if (!conf.getString("pekko.management.http.bind-port").isEmpty()) {
        assertEquals(mgmt, conf.getInt("pekko.management.http.bind-port"), w + " management bind-port");
      }
      assertEquals(POD_IP, conf.getString("pekko.management.http.hostname"), w + " management address");
      assertEquals(POD_IP, conf.getString("pekko.management.http.bind-hostname"),
          w + ": management binds the pod IP only, never 0.0.0.0");
      assertTrue(conf.getBoolean("pekko.management.http.route-providers-read-only"),
          w + ": no management route that changes state (there is no authentication)");

      probe(w, w.container().getReadinessProbe(), "readiness", "/" + conf.getString("pekko.management.health-checks.readiness-path"), mgmt);
      probe(w, w.container().getLivenessProbe(), "liveness", "/" + conf.getString("pekko.management.health-checks.liveness-path"), mgmt);

      MetricsSettings metrics = MetricsSettings.fromConfig(conf);
      assertTrue(metrics.enabled(), w + ": kubernetes config turns the metrics endpoint on");
      assertEquals(POD_IP, metrics.bindHostname(), w + ": metrics bind the pod IP");
      assertEquals(metrics.port(), containerPort(w, "metrics"), w + " metrics port");
      Map<String, String> ann = w.template().getMetadata().getAnnotations();
      assertNotNull(ann, w + " has scrape annotations");
      assertEquals("true", ann.get("prometheus.io/scrape"), w + " prometheus.io/scrape");
      assertEquals(String.valueOf(metrics.port()), ann.get("prometheus.io/port"), w + " prometheus.io/port");
      assertEquals(PrometheusEndpoint.PATH, ann.get("prometheus.io/path"), w + " prometheus.io/path");

      List<String> args = w.container().getArgs();
      int portFlag = args.indexOf("--port");
      if (portFlag >= 0) {
        assertEquals(String.valueOf(conf.getInt("pekko.remote.artery.canonical.port")), args.get(portFlag + 1),
            w + ": --port agrees with the Artery port");
      }
    }
  }

  static Map<String, String> parseSelector(String selector) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String term : selector.split(",")) {
      String[] kv = term.trim().split("==?", 2);
      assertEquals(2, kv.length, "only equality selectors are checked here: " + selector);
      m.put(kv[0].trim(), kv[1].trim());
    }
    return m;
  }

  static void probe(Workload w, Probe p, String kind, String path, int mgmtPort) {
    assertNotNull(p, w + " has a " + kind + " probe");
    assertNotNull(p.getHttpGet(), w + " " + kind + " probe is an HTTP GET");
    assertEquals(path, p.getHttpGet().getPath(), w + " " + kind + " probe path = Pekko Management's");
    assertEquals(mgmtPort, portNumber(w, p.getHttpGet().getPort()), w + " " + kind + " probe port = management");
    assertTrue(p.getHttpGet().getHost() == null, w + ": probe host unset (kubelet uses the pod IP we bind)");
  }

  static int portNumber(Workload w, IntOrString port) {
    if (port.getIntVal() != null) {
      return port.getIntVal();
    }
    return containerPort(w, port.getStrVal());
  }

  // ---------------------------------------------------------------------------------------------
  // references between objects

  @ParameterizedTest
  @MethodSource("overlays")
  void everyReferencedObjectAndConfigMapKeyExists(String overlay, @TempDir Path scratch) throws Exception {
    checkEveryReferencedObjectAndConfigMapKeyExists(rendered(overlay), scratch);
  }

  static void checkEveryReferencedObjectAndConfigMapKeyExists(RenderedOverlay o, Path scratch) throws Exception {
    String overlay = o.name;
    for (Workload w : o.workloads()) {
      var spec = w.template().getSpec();
      ServiceAccount sa = o.find(ServiceAccount.class, spec.getServiceAccountName()).orElseThrow(() ->
          new AssertionError(w + " runs as missing ServiceAccount " + spec.getServiceAccountName()));
      assertTrue(canListPods(o, sa.getMetadata().getName()), w + ": Cluster Bootstrap needs to list pods");
      Map<String, ConfigMap> mountedAt = new HashMap<>();
      Map<String, List<String>> secretFilesAt = new HashMap<>();
      for (Volume v : spec.getVolumes()) {
        if (v.getConfigMap() != null) {
          ConfigMap cm = o.configMap(v.getConfigMap().getName()).orElseThrow(() ->
              new AssertionError(w + " mounts a missing ConfigMap " + v.getConfigMap().getName()));
          if (v.getConfigMap().getItems() != null) {
            v.getConfigMap().getItems().forEach(i -> assertTrue(cm.getData().containsKey(i.getKey()),
                w + ": ConfigMap " + cm.getMetadata().getName() + " lacks key " + i.getKey()));
          }
        }
        if (v.getPersistentVolumeClaim() != null) {
          assertTrue(o.find(PersistentVolumeClaim.class, v.getPersistentVolumeClaim().getClaimName()).isPresent(),
              w + " mounts a missing PVC " + v.getPersistentVolumeClaim().getClaimName());
        }
      }
      for (Container c : spec.getContainers()) {
        for (VolumeMount m : c.getVolumeMounts()) {
          Volume v = volume(w, m.getName());
          if (v.getConfigMap() != null) {
            mountedAt.put(m.getMountPath(), o.configMap(v.getConfigMap().getName()).orElseThrow());
          }
          if (v.getSecret() != null) {
            assertNotNull(v.getSecret().getItems(), w + ": secret volume " + v.getName() + " lists the keys it needs");
            secretFilesAt.put(m.getMountPath(), v.getSecret().getItems().stream().map(i -> i.getPath()).toList());
          }
        }
        for (EnvVar e : c.getEnv()) {
          if (e.getValueFrom() != null && e.getValueFrom().getConfigMapKeyRef() != null) {
            var ref = e.getValueFrom().getConfigMapKeyRef();
            ConfigMap cm = o.configMap(ref.getName()).orElseThrow(() ->
                new AssertionError(w + " env " + e.getName() + " reads a missing ConfigMap " + ref.getName()));
            assertTrue(cm.getData().containsKey(ref.getKey()), w + " env " + e.getName() + ": no key " + ref.getKey());
          }
        }
        // any file path in args or env values that points into a mounted ConfigMap must be one of its keys
        List<String> values = new ArrayList<>(c.getArgs() == null ? List.of() : c.getArgs());
        c.getEnv().stream().map(EnvVar::getValue).filter(Objects::nonNull).forEach(values::add);
        for (String value : values) {
          for (Map.Entry<String, ConfigMap> m : mountedAt.entrySet()) {
            String prefix = m.getKey().endsWith("/") ? m.getKey() : m.getKey() + "/";
            if (value.startsWith(prefix)) {
              String key = value.substring(prefix.length());
              assertTrue(m.getValue().getData().containsKey(key), w + " reads " + value + " but ConfigMap "
                  + m.getValue().getMetadata().getName() + " has only " + m.getValue().getData().keySet());
            }
          }
          for (Map.Entry<String, List<String>> m : secretFilesAt.entrySet()) {
            String prefix = m.getKey().endsWith("/") ? m.getKey() : m.getKey() + "/";
            if (value.startsWith(prefix)) {
              assertTrue(m.getValue().contains(value.substring(prefix.length())), w + " reads " + value
                  + " but the secret volume there holds only " + m.getValue());
            }
          }
        }
      }
    }
    for (Service s : o.all(Service.class)) {
      List<Workload> pods = o.selected(s.getSpec().getSelector(), s.getMetadata().getNamespace());
      assertFalse(pods.isEmpty(), overlay + ": Service " + s.getMetadata().getName() + " selects no pods");
      for (ServicePort p : s.getSpec().getPorts()) {
        for (Workload w : pods) {
          String target = p.getTargetPort() == null ? null : p.getTargetPort().getStrVal();
          if (target != null) {
            ContainerPort cp = w.container().getPorts().stream().filter(x -> target.equals(x.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("Service " + s.getMetadata().getName() + " targets port "
                    + target + " that " + w + " does not have"));
            assertEquals(Objects.requireNonNullElse(p.getProtocol(), "TCP"),
                Objects.requireNonNullElse(cp.getProtocol(), "TCP"), "Service port " + p.getName() + " protocol");
          }
        }
      }
    }
  }

  static boolean canListPods(RenderedOverlay o, String serviceAccount) {
    for (RoleBinding b : o.all(RoleBinding.class)) {
      boolean bound = b.getSubjects().stream().anyMatch(s -> "ServiceAccount".equals(s.getKind())
          && serviceAccount.equals(s.getName()));
      if (!bound || !"Role".equals(b.getRoleRef().getKind())) {
        continue;
      }
      Optional<Role> role = o.find(Role.class, b.getRoleRef().getName());
      assertTrue(role.isPresent(), "RoleBinding " + b.getMetadata().getName() + " names a missing Role");
      for (PolicyRule r : role.get().getRules()) {
        if (r.getApiGroups().contains("") && r.getResources().contains("pods") && r.getVerbs().contains("list")) {
          return true;
        }
      }
    }
    return false;
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void disruptionBudgetsAndTheAutoscalerTargetExistingPods(String overlay, @TempDir Path scratch) throws Exception {
    checkDisruptionBudgetsAndTheAutoscalerTargetExistingPods(rendered(overlay), scratch);
  }

  static void checkDisruptionBudgetsAndTheAutoscalerTargetExistingPods(RenderedOverlay o, Path scratch) throws Exception {
    String overlay = o.name;
    List<PodDisruptionBudget> pdbs = o.all(PodDisruptionBudget.class);
    assertEquals(3, pdbs.size(), "PDBs for seed, learner, rollout");
    for (PodDisruptionBudget pdb : pdbs) {
      assertTrue(pdb.getSpec().getMinAvailable() != null ^ pdb.getSpec().getMaxUnavailable() != null,
          pdb.getMetadata().getName() + ": exactly one of minAvailable / maxUnavailable");
      assertEquals(1, o.selected(pdb.getSpec().getSelector().getMatchLabels(), pdb.getMetadata().getNamespace()).size(),
          overlay + ": PDB " + pdb.getMetadata().getName() + " selects exactly one workload's pods");
    }

    List<HorizontalPodAutoscaler> hpas = o.all(HorizontalPodAutoscaler.class);
    assertEquals(1, hpas.size());
    HorizontalPodAutoscaler hpa = hpas.get(0);
    CrossVersionObjectReference target = hpa.getSpec().getScaleTargetRef();
    assertEquals("apps/v1", target.getApiVersion());
    Workload scaled = o.workloads().stream().filter(w -> w.kind().equals(target.getKind())
        && w.name().equals(target.getName())).findFirst()
        .orElseThrow(() -> new AssertionError(overlay + ": HPA scales missing " + target.getKind() + " " + target.getName()));
    assertTrue(scaled.podLabels().containsValue("rollout"), "the HPA scales the rollout members: " + scaled);
    assertTrue(hpa.getSpec().getMinReplicas() >= 1 && hpa.getSpec().getMinReplicas() <= hpa.getSpec().getMaxReplicas());

    Map<String, String> declared = new HashMap<>();
    String scrape = metricsScrape();
    for (String line : scrape.split("\n")) {
      if (line.startsWith("# TYPE ")) {
        declared.put(line.split(" ")[2], line.split(" ")[3]);
      }
    }
    assertFalse(hpa.getSpec().getMetrics().isEmpty());
    for (MetricSpec m : hpa.getSpec().getMetrics()) {
      assertEquals("Object", m.getType(), "the HPA reads the learner's metric (type Object)");
      String metric = m.getObject().getMetric().getName();
      assertEquals(R1Metrics.LEARNER_IDLE_FRACTION, metric, "HPA metric");
      assertTrue(declared.containsKey(metric), metric + " is served by every node's /metrics");
      var described = m.getObject().getDescribedObject();
      assertEquals("Pod", described.getKind(), "prometheus-adapter maps pod-scraped series to Pods");
      Workload learner = o.workload("r1-learner");
      assertEquals("StatefulSet", learner.kind(), "the learner pod has a stable name");
      assertEquals(learner.name() + "-0", described.getName(), "the HPA reads the learner pod's metric");
      assertTrue(learner.replicas() != null && learner.replicas() >= 1);
      BigDecimal value = Quantity.getAmountInBytes(m.getObject().getTarget().getValue());
      assertTrue(value.signum() > 0 && value.compareTo(BigDecimal.ONE) < 0,
          "the idle-fraction target is a fraction in (0, 1): " + value);
    }
  }

  static String metricsScrape() {
    PrometheusRegistry registry = new PrometheusRegistry();
    R1Metrics.declare(registry);
    return Metrics.scrape(registry);
  }

  // ---------------------------------------------------------------------------------------------
  // shutdown, resources, GPUs

  @ParameterizedTest
  @MethodSource("overlays")
  void podsOutliveCoordinatedShutdownAndFitTheirMemoryLimits(String overlay, @TempDir Path scratch) throws Exception {
    checkPodsOutliveCoordinatedShutdownAndFitTheirMemoryLimits(rendered(overlay), scratch);
  }

  static void checkPodsOutliveCoordinatedShutdownAndFitTheirMemoryLimits(RenderedOverlay o, Path scratch) throws Exception {
    String overlay = o.name;
    for (Workload w : o.workloads()) {
      Config conf = podConfig(o, w, scratch);
      long worstCase = coordinatedShutdownWorstCaseSeconds(conf);
      Long grace = w.template().getSpec().getTerminationGracePeriodSeconds();
      assertNotNull(grace, w + " sets terminationGracePeriodSeconds");
      assertTrue(grace >= worstCase, w + ": terminationGracePeriodSeconds " + grace
          + " < " + worstCase + " s, the sum of the coordinated-shutdown phase timeouts (SIGKILL would cut the hand-over)");
      assertTrue(conf.getBoolean("pekko.coordinated-shutdown.run-by-jvm-shutdown-hook"), "SIGTERM runs coordinated shutdown");

      Container c = w.container();
      var res = c.getResources();
      assertNotNull(res, w + " has resources");
      for (String r : List.of("cpu", "memory")) {
        assertNotNull(res.getRequests().get(r), w + " requests " + r);
      }
      Quantity limit = res.getLimits().get("memory");
      assertNotNull(limit, w + " has a memory limit");
      BigDecimal limitBytes = Quantity.getAmountInBytes(limit);
      assertTrue(Quantity.getAmountInBytes(res.getRequests().get("memory")).compareTo(limitBytes) <= 0,
          w + " memory request <= limit");
      String opts = env(c, "R1_JAVA_OPTS").orElseThrow(() -> new AssertionError(w + " sets R1_JAVA_OPTS"));
      Matcher xmx = Pattern.compile("-Xmx(\\d+)([kKmMgG])").matcher(opts);
      assertTrue(xmx.find(), w + ": R1_JAVA_OPTS sets -Xmx: " + opts);
      long heap = Long.parseLong(xmx.group(1)) << switch (Character.toLowerCase(xmx.group(2).charAt(0))) {
        case 'k' -> 10;
        case 'm' -> 20;
        default -> 30;
      };
      long shm = 0;
      for (Volume v : w.template().getSpec().getVolumes()) {
        if (v.getEmptyDir() != null && "Memory".equals(v.getEmptyDir().getMedium())) {
          assertNotNull(v.getEmptyDir().getSizeLimit(), w + ": a memory-backed emptyDir needs a sizeLimit");
          shm += Quantity.getAmountInBytes(v.getEmptyDir().getSizeLimit()).longValueExact();
        }
      }
      // tmpfs pages count against the container's memory limit; PyTorch tensors live outside the heap
      long budget = limitBytes.multiply(BigDecimal.valueOf(3)).divide(BigDecimal.valueOf(4)).longValue();
      assertTrue(heap + shm <= budget, String.format("%s: -Xmx (%d MiB) + memory-backed /dev/shm (%d MiB) must stay"
          + " within 75%% of the memory limit %s (%d MiB): the rest is native memory", w, heap >> 20, shm >> 20,
          limit, budget >> 20));
    }
  }

  /** Sum of the timeouts of every coordinated-shutdown phase: how long SIGTERM may take at worst. */
  static long coordinatedShutdownWorstCaseSeconds(Config conf) {
    Config cs = conf.getConfig("pekko.coordinated-shutdown");
    long dflt = cs.getDuration("default-phase-timeout", TimeUnit.SECONDS);
    long sum = 0;
    for (String phase : cs.getConfig("phases").root().keySet()) {
      Config p = cs.getConfig("phases").getConfig("\"" + phase + "\"");
      sum += p.hasPath("timeout") ? p.getDuration("timeout", TimeUnit.SECONDS) : dflt;
    }
    return sum;
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void gpuPodsRequestOneGpuPerRolloutEntityAndCpuPodsNone(String overlay, @TempDir Path scratch) throws Exception {
    checkGpuPodsRequestOneGpuPerRolloutEntityAndCpuPodsNone(rendered(overlay), scratch);
  }

  static void checkGpuPodsRequestOneGpuPerRolloutEntityAndCpuPodsNone(RenderedOverlay o, Path scratch) throws Exception {
    String overlay = o.name;
    boolean gpuOverlay = isGpuOverlay(overlay);
    for (Workload w : o.workloads()) {
      Container c = w.container();
      Quantity limit = c.getResources().getLimits().get(GPU);
      Quantity request = c.getResources().getRequests().get(GPU);
      boolean wantsGpu = gpuOverlay && (w.name().equals("r1-rollout") || w.name().equals("r1-learner"));
      if (!wantsGpu) {
        assertTrue(limit == null && request == null, overlay + ": " + w + " asks for no GPU");
        continue;
      }
      assertNotNull(limit, w + ": extended resources are requested through limits");
      assertTrue(request == null || request.equals(limit), w + ": GPU request must equal its limit");
      int gpus = Quantity.getAmountInBytes(limit).intValueExact();
      assertTrue(gpus >= 1, w + " GPUs");
      assertTrue(w.template().getSpec().getTolerations().stream().anyMatch(t -> GPU.equals(t.getKey())),
          w + " tolerates the GPU node taint");
      assertTrue(c.getImage().endsWith("-cuda"), w + " runs the CUDA image: " + c.getImage());
      if (w.name().equals("r1-rollout")) {
        List<String> args = c.getArgs();
        int i = args.indexOf("--gpus");
        assertTrue(i >= 0, w + " names its GPUs: " + args);
        assertEquals(gpus, args.get(i + 1).split(",").length, w + ": one rollout entity per requested GPU");
        assertFalse(args.contains("--slots"), w + ": --gpus and --slots exclude each other");
      }
    }
    if (!gpuOverlay) {
      assertTrue(o.workload("r1-rollout").container().getArgs().contains("--slots"), "CPU rollouts use --slots");
    }
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void tlsOverlaysEncryptEveryMemberWithStoresFromTheSecret(String overlay, @TempDir Path scratch) throws Exception {
    checkTlsOverlaysEncryptEveryMemberWithStoresFromTheSecret(rendered(overlay), scratch);
  }

  static void checkTlsOverlaysEncryptEveryMemberWithStoresFromTheSecret(RenderedOverlay o, Path scratch) throws Exception {
    String overlay = o.name;
    boolean tls = overlay.endsWith("-tls");
    for (Workload w : o.workloads()) {
      Config conf = podConfig(o, w, scratch);
      String transport = conf.getString("pekko.remote.artery.transport");
      if (!tls) {
        assertEquals("tcp", transport, w + ": plain Artery outside the -tls overlays");
        continue;
      }
      // one member without TLS could not talk to the others: every pod must use it
      assertEquals("tls-tcp", transport, w + " Artery transport");
      Config ssl = conf.getConfig("pekko.remote.artery.ssl.config-ssl-engine");
      assertTrue(ssl.getBoolean("require-mutual-authentication"), w + " mutual authentication");
      for (String store : List.of("key-store", "trust-store")) {
        String path = ssl.getString(store);
        Volume secret = w.template().getSpec().getVolumes().stream().filter(v -> v.getSecret() != null)
            .filter(v -> w.container().getVolumeMounts().stream().anyMatch(m -> m.getName().equals(v.getName())
                && path.startsWith(m.getMountPath() + "/")))
            .findFirst().orElseThrow(() -> new AssertionError(w + ": " + store + " " + path + " is not in a mounted Secret"));
        assertTrue(secret.getSecret().getItems().stream().anyMatch(i -> path.endsWith("/" + i.getPath())),
            w + ": " + store + " " + path + " is a key of Secret " + secret.getSecret().getSecretName());
      }
      for (String password : List.of("key-store-password", "trust-store-password", "key-password")) {
        assertTrue(ssl.getString(password).startsWith("<secret "), w + ": " + password + " comes from a Secret");
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // the pods start: the real CLI takes their arguments, probes wait for loading, files and caches exist

  @ParameterizedTest
  @MethodSource("overlays")
  void everyContainersArgumentsParseWithTheRealCli(String overlay, @TempDir Path scratch) throws Exception {
    checkEveryContainersArgumentsParseWithTheRealCli(rendered(overlay), scratch);
  }

  /**
   * Each r1 container's args (the image's entrypoint is the {@code r1} launcher) parsed by the CLI the
   * image runs, {@link R1#commandLine()}: an unknown option, a missing value or a missing required
   * option fails here as it would fail the pod with exit code 2 (CrashLoopBackOff).
   */
  static void checkEveryContainersArgumentsParseWithTheRealCli(RenderedOverlay o, Path scratch) throws Exception {
    for (Workload w : o.workloads()) {
      List<Container> all = new ArrayList<>(w.template().getSpec().getContainers());
      if (w.template().getSpec().getInitContainers() != null) {
        all.addAll(w.template().getSpec().getInitContainers());
      }
      for (Container c : all) {
        if (!c.getImage().startsWith("r1-cluster")) {
          continue;
        }
        assertTrue(c.getCommand() == null || c.getCommand().isEmpty(), w + ": keep the image's entrypoint (r1)");
        List<String> args = c.getArgs() == null ? List.of() : c.getArgs();
        CommandLine.ParseResult parsed;
        try {
          parsed = io.r1cluster.actors.cli.R1.commandLine().parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
          throw new AssertionError(w + " container " + c.getName() + ": the r1 CLI rejects its args " + args + ": "
              + e.getMessage() + " (the pod would exit with code 2)", e);
        }
        CommandLine.ParseResult leaf = parsed;
        while (leaf.hasSubcommand()) {
          leaf = leaf.subcommand();
        }
        assertFalse(leaf == parsed, w + ": args " + args + " name no r1 subcommand (the pod would print usage and exit)");
        assertFalse(leaf.isUsageHelpRequested() || leaf.isVersionHelpRequested(), w + ": args ask for help, not a run");
      }
    }
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void startupProbesCoverLoadingAndEveryR1VariableIsRead(String overlay, @TempDir Path scratch) throws Exception {
    checkStartupProbesCoverLoadingAndEveryR1VariableIsRead(rendered(overlay), scratch);
  }

  /** Seconds a learner may spend loading its model, dataset and optimizer state before Management answers. */
  static final long LEARNER_STARTUP_SECONDS = 600;
  /** Seconds any other member may take to start (JVM, PyTorch natives, joining). */
  static final long MEMBER_STARTUP_SECONDS = 120;

  static void checkStartupProbesCoverLoadingAndEveryR1VariableIsRead(RenderedOverlay o, Path scratch) throws Exception {
    String code = codeThatReadsVariables();
    for (Workload w : o.workloads()) {
      Config conf = podConfig(o, w, scratch);
      Container c = w.container();
      int mgmt = conf.getInt("pekko.management.http.port");
      // Management starts after the node has loaded what it needs (MemberCommand: GrpoJob.prepare
      // runs before the ActorSystem): without a startup probe the liveness probe kills a loading learner
      Probe startup = c.getStartupProbe();
      probe(w, startup, "startup", "/" + conf.getString("pekko.management.health-checks.liveness-path"), mgmt);
      long budget = Objects.requireNonNullElse(startup.getInitialDelaySeconds(), 0)
          + (long) Objects.requireNonNullElse(startup.getPeriodSeconds(), 10) * Objects.requireNonNullElse(startup.getFailureThreshold(), 3);
      boolean learner = c.getArgs() != null && c.getArgs().stream().anyMatch(a -> a.contains("learner"));
      long need = learner ? LEARNER_STARTUP_SECONDS : MEMBER_STARTUP_SECONDS;
      assertTrue(budget >= need, w + ": the startupProbe gives " + budget + " s before the kubelet restarts the pod; "
          + (learner ? "the learner loads model and dataset before Management answers: " : "") + "needs >= " + need + " s");

      // every R1_* variable set is read by the launcher, the code or the cluster config (R1_RUNS_DIR was not)
      for (EnvVar e : c.getEnv()) {
        if (e.getName().startsWith("R1_")) {
          String n = e.getName();
          assertTrue(code.contains("\"" + n + "\"") || code.contains("${" + n + "}") || code.contains("${?" + n + "}")
              || code.contains("${" + n + ":") || code.contains("$" + n + " "),
              w + ": env " + n + " is read by nothing in r1, core, actors or cluster-config: remove it or read it");
        }
      }
      // relative recipe paths (output_dir, dataset_name, runs/...) resolve against the working directory
      String wd = c.getWorkingDir();
      assertNotNull(wd, w + ": workingDir is the run volume (relative recipe paths resolve there)");
      VolumeMount runs = c.getVolumeMounts().stream().filter(m -> m.getMountPath().equals(wd)).findFirst()
          .orElseThrow(() -> new AssertionError(w + ": workingDir " + wd + " is not a mounted volume"));
      assertTrue(volume(w, runs.getName()).getPersistentVolumeClaim() != null && !Boolean.TRUE.equals(runs.getReadOnly()),
          w + ": workingDir " + wd + " is a writable PVC (checkpoints, demo data, state.json)");
    }
  }

  /** Launcher, main sources and cluster config: where an environment variable can be read. */
  static String codeThatReadsVariables() throws IOException {
    Path root = RenderedOverlay.root();
    StringBuilder sb = new StringBuilder(Files.readString(root.resolve("r1")));
    for (String dir : List.of("core/src/main", "actors/src/main", "cluster-config", "k8s/components")) {
      try (var files = Files.walk(root.resolve(dir))) {
        for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile)
            .filter(f -> f.toString().endsWith(".java") || f.toString().endsWith(".conf"))::iterator) {
          sb.append(Files.readString(f)).append('\n');
        }
      }
    }
    return sb.toString();
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void theRecipeRunsAcrossPodsAndModelsComeFromTheHfCacheVolume(String overlay, @TempDir Path scratch) throws Exception {
    checkTheRecipeRunsAcrossPodsAndModelsComeFromTheHfCacheVolume(rendered(overlay), scratch);
  }

  /**
   * The learner's recipe, read from the rendered ConfigMap by the real parser: it validates, sends
   * the weights over UDP (pods share no /dev/shm, so IPC cannot reach another pod), and the
   * cpu-demo overlay runs the built-in demo model; the pods that load models see an HF cache volume.
   */
  static void checkTheRecipeRunsAcrossPodsAndModelsComeFromTheHfCacheVolume(RenderedOverlay o, Path scratch)
      throws Exception {
    Workload learner = o.workload("r1-learner");
    List<String> args = learner.container().getArgs();
    int i = Math.max(args.indexOf("--recipe"), args.indexOf("--pipeline"));
    assertTrue(i >= 0, learner + " runs a recipe: " + args);
    String path = args.get(i + 1);
    int slash = path.lastIndexOf('/');
    ConfigMap cm = mountedConfigMap(o, learner, path.substring(0, slash));
    String yaml = cm.getData().get(path.substring(slash + 1));
    assertNotNull(yaml, learner + " reads " + path);
    Path f = Files.createDirectories(scratch.resolve(o.name + "-recipe")).resolve("recipe.yaml");
    Files.writeString(f, yaml);
    io.r1cluster.core.recipe.Recipe recipe = io.r1cluster.core.recipe.Recipe.load(f);
    assertEquals(args.contains("--pipeline"), !recipe.stages().isEmpty(),
        learner + ": --pipeline takes a recipe with pipeline:, --recipe one without");
    assertEquals(io.r1cluster.core.recipe.Transport.UDP, recipe.settings().cluster().transport(),
        o.name + ": the recipe's weights cross pods: cluster.transport must be udp");
    if (o.name.equals("cpu-demo")) {
      assertEquals("demo", recipe.settings().model().modelNameOrPath(), "cpu-demo runs the demo model");
    }
    for (String name : List.of("r1-learner", "r1-rollout")) {
      Workload w = o.workload(name);
      String hf = env(w.container(), "HF_HOME").orElseThrow(() -> new AssertionError(w + " sets HF_HOME"));
      VolumeMount m = w.container().getVolumeMounts().stream().filter(v -> v.getMountPath().equals(hf)).findFirst()
          .orElseThrow(() -> new AssertionError(w + ": HF_HOME " + hf + " is not a mounted volume (the HF cache)"));
      var claim = volume(w, m.getName()).getPersistentVolumeClaim();
      assertNotNull(claim, w + ": the HF cache is a PVC");
      assertTrue(o.find(PersistentVolumeClaim.class, claim.getClaimName()).isPresent(), w + " mounts a missing PVC "
          + claim.getClaimName());
    }
  }

  @org.junit.jupiter.api.Test
  void theImageHasWhatTheRecipesRun() throws IOException {
    String dockerfile = Files.readString(RenderedOverlay.root().resolve("docker/Dockerfile"));
    String runtime = dockerfile.substring(dockerfile.indexOf("AS runtime"));
    // the RUN instructions of the runtime stage, continuation lines joined, comments dropped
    String run = runtime.lines().filter(l -> !l.trim().startsWith("#")).collect(Collectors.joining("\n"))
        .replace("\\\n", " ");
    boolean python = run.lines().anyMatch(l -> l.startsWith("RUN ") && l.contains("apt-get install") && l.contains("python3"));
    assertTrue(python, "the runtime image installs python3: the code rewards run `python3 -I` (PythonSandbox)");
    assertTrue(runtime.contains("ENTRYPOINT [\"/opt/r1/r1\"]"), "the entrypoint is the r1 launcher the manifests' args go to");
  }

  // ---------------------------------------------------------------------------------------------
  // the validator itself can fail

  /** Every cross-check, in order, for the mutation test. */
  interface Check {
    void run(RenderedOverlay o, Path scratch) throws Exception;
  }

  static final List<Check> CHECKS = List.of(
      K8sManifestsTest::checkEveryObjectFitsTheKubernetesApiModel,
      K8sManifestsTest::checkBootstrapSelectorPortsAndProbesMatchTheMountedClusterConfig,
      K8sManifestsTest::checkEveryReferencedObjectAndConfigMapKeyExists,
      K8sManifestsTest::checkDisruptionBudgetsAndTheAutoscalerTargetExistingPods,
      K8sManifestsTest::checkPodsOutliveCoordinatedShutdownAndFitTheirMemoryLimits,
      K8sManifestsTest::checkGpuPodsRequestOneGpuPerRolloutEntityAndCpuPodsNone,
      K8sManifestsTest::checkTlsOverlaysEncryptEveryMemberWithStoresFromTheSecret,
      K8sManifestsTest::checkEveryContainersArgumentsParseWithTheRealCli,
      K8sManifestsTest::checkStartupProbesCoverLoadingAndEveryR1VariableIsRead,
      K8sManifestsTest::checkTheRecipeRunsAcrossPodsAndModelsComeFromTheHfCacheVolume);

  @org.junit.jupiter.api.Test
  void theCrossChecksCatchBrokenReferences(@TempDir Path scratch) throws Exception {
    Optional<Path> kubectl = RenderedOverlay.kubectl();
    assumeTrue(kubectl.isPresent());
    RenderedOverlay intact = rendered("gpu-tls"); // the overlay that exercises every check
    String yaml = RenderedOverlay.renderYaml(kubectl.get(), intact.name);
    for (Check c : CHECKS) {
      c.run(intact, scratch);
    }
    Map<String, String[]> mutations = new LinkedHashMap<>();
    mutations.put("management port", new String[] {"(?m)^(\\s+)port = 8558$", "$1port = 8559"});
    mutations.put("metrics port", new String[] {"(?m)^(\\s+)port = 9464$", "$1port = 9465"});
    mutations.put("management binds the pod IP only", new String[] {"bind-hostname = \\$\\{\\?POD_IP\\}", "bind-hostname = \"0.0.0.0\""});
    mutations.put("Cluster Bootstrap selector", new String[] {"pod-label-selector = \"app.kubernetes.io/name=%s\"", "pod-label-selector = \"app=%s\""});
    mutations.put("readiness probe path", new String[] {"path: /ready", "path: /readyz"});
    mutations.put("does not resolve", new String[] {"name: R1_TLS_KEYSTORE\n", "name: R1_TLS_KEYSTORE_FILE\n"});
    mutations.put("terminationGracePeriodSeconds", new String[] {"terminationGracePeriodSeconds: 120", "terminationGracePeriodSeconds: 30"});
    mutations.put("one rollout entity per requested GPU", new String[] {"(- --gpus\n\\s+- )\"0\"", "$1\"0,1\""});
    mutations.put("HPA metric", new String[] {"name: r1_learner_idle_fraction", "name: r1_learner_idle_frac"});
    mutations.put("reads /opt/r1/recipe/config.yaml", new String[] {"/opt/r1/recipe/recipe.yaml", "/opt/r1/recipe/config.yaml"});
    mutations.put("within 75% of the memory limit", new String[] {"value: -Xmx4g", "value: -Xmx30g"});
    mutations.put("the r1 CLI rejects its args", new String[] {"- --gpus\n", "- --gpu\n"});
    mutations.put("the startupProbe gives", new String[] {"failureThreshold: 90", "failureThreshold: 12"});
    mutations.put("is read by nothing", new String[] {"name: POD_NAME\n", "name: R1_RUNS_DIR\n"});
    mutations.put("workingDir is the run volume", new String[] {"(?m)^\\s+workingDir: /runs\n", ""});
    mutations.put("cluster.transport must be udp", new String[] {"(?m)^(\\s+)transport: udp$", "$1transport: ipc"});
    mutations.put("is not a mounted volume (the HF cache)", new String[] {"value: /hf-cache", "value: /hf"});
    for (Map.Entry<String, String[]> m : mutations.entrySet()) {
      String mutated = yaml.replaceFirst(m.getValue()[0], m.getValue()[1]);
      assertFalse(mutated.equals(yaml), "mutation for '" + m.getKey() + "' found nothing to change");
      RenderedOverlay broken = RenderedOverlay.fromYaml("gpu-tls (mutated: " + m.getKey() + ")", mutated);
      List<String> failures = new ArrayList<>();
      for (Check c : CHECKS) {
        try {
          c.run(broken, Files.createTempDirectory(scratch, "m"));
        } catch (AssertionError e) {
          failures.add(e.getMessage());
        }
      }
      assertTrue(failures.stream().anyMatch(f -> f.contains(m.getKey())),
          "breaking '" + m.getKey() + "' must fail a check; failures: " + failures);
    }
  }

  @ParameterizedTest
  @MethodSource("overlays")
  void theValidatorRejectsTyposWrongTypesAndUnservedKinds(String overlay) throws Exception {
    Optional<Path> kubectl = RenderedOverlay.kubectl();
    assumeTrue(kubectl.isPresent());
    rendered(overlay);
    String yaml = RenderedOverlay.renderYaml(kubectl.get(), overlay);
    String sts = "kind: StatefulSet";
    assertTrue(yaml.contains("terminationGracePeriodSeconds:"));
    mustFail(overlay, yaml, "terminationGracePeriodSeconds:", "terminationGracePeriodSecond:",
        "terminationGracePeriodSecond");
    mustFail(overlay, yaml, "containerPort: 25520", "containerPort: \"25520\"", "containerPort");
    mustFail(overlay, yaml, "value: /opt/r1/cluster-config", "value: 42", "value");
    mustFail(overlay, yaml, "readinessProbe:", "readinessProbes:", "readinessProbes");
    mustFail(overlay, yaml, "apiVersion: autoscaling/v2", "apiVersion: autoscaling/v2beta1", "autoscaling/v2beta1");
    mustFail(overlay, yaml, "(?m)^kind: Service$", "kind: Servce", "Servce");
    assertTrue(yaml.contains(sts));
  }

  private static void mustFail(String overlay, String original, String regex, String replacement, String mentions)
      throws IOException {
    String yaml = original.replaceFirst(regex, replacement);
    assertFalse(yaml.equals(original), overlay + ": the mutation " + regex + " found nothing to change");
    try {
      RenderedOverlay.fromYaml(overlay + " (mutated)", yaml);
    } catch (AssertionError expected) {
      assertTrue(expected.getMessage().contains(mentions), "the error names " + mentions + ": " + expected.getMessage());
      return;
    }
    fail(overlay + ": a manifest with a broken " + mentions + " passed validation");
  }
}
