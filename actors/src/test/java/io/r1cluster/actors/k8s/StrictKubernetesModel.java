package io.r1cluster.actors.k8s;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import java.beans.Introspector;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads rendered manifests into the fabric8 Kubernetes model classes and rejects anything the API
 * server would reject for its shape: an apiVersion/kind this project does not deploy (or a version
 * the API no longer serves), a field the kind does not have (fabric8 parks those in
 * {@code additionalProperties} instead of failing, so every object in the graph is walked for
 * them), and a scalar of the wrong type ({@code containerPort: "8558"}, an env value {@code 42}):
 * Jackson's scalar coercions are turned off.
 */
final class StrictKubernetesModel {
  /** apiVersion/kind → model class: the kinds the overlays may contain. */
  static final Map<String, Class<? extends HasMetadata>> KINDS = Map.ofEntries(
      Map.entry("v1/Namespace", Namespace.class),
      Map.entry("v1/ServiceAccount", ServiceAccount.class),
      Map.entry("v1/ConfigMap", ConfigMap.class),
      Map.entry("v1/Secret", Secret.class),
      Map.entry("v1/Service", Service.class),
      Map.entry("v1/PersistentVolumeClaim", PersistentVolumeClaim.class),
      Map.entry("rbac.authorization.k8s.io/v1/Role", Role.class),
      Map.entry("rbac.authorization.k8s.io/v1/RoleBinding", RoleBinding.class),
      Map.entry("apps/v1/StatefulSet", StatefulSet.class),
      Map.entry("apps/v1/Deployment", Deployment.class),
      Map.entry("policy/v1/PodDisruptionBudget", PodDisruptionBudget.class),
      Map.entry("autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class));

  private static final JsonMapper MAPPER = strictMapper();

  private StrictKubernetesModel() {}

  private static JsonMapper strictMapper() {
    JsonMapper m = JsonMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
        .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(DeserializationFeature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        .build();
    // the API server takes an integer only as a JSON number and a string only as a JSON string
    for (LogicalType t : new LogicalType[] {LogicalType.Integer, LogicalType.Float, LogicalType.Boolean}) {
      m.coercionConfigFor(t).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
      m.coercionConfigFor(t).setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail);
    }
    m.coercionConfigFor(LogicalType.Textual)
        .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
        .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
    return m;
  }

  /** The model object for one rendered document. */
  static HasMetadata parse(JsonNode doc) {
    String apiVersion = doc.path("apiVersion").asText("");
    String kind = doc.path("kind").asText("");
    Class<? extends HasMetadata> type = KINDS.get(apiVersion + "/" + kind);
    String what = kind + " " + doc.path("metadata").path("name").asText("?");
    if (type == null) {
      throw new AssertionError(what + ": apiVersion/kind " + apiVersion + "/" + kind
          + " is not one this project deploys (or not a served API version): " + KINDS.keySet());
    }
    HasMetadata obj;
    try {
      obj = MAPPER.treeToValue(doc, type);
    } catch (Exception e) {
      throw new AssertionError(what + ": does not fit the " + type.getSimpleName() + " model: " + e.getMessage(), e);
    }
    List<String> unknown = new ArrayList<>();
    walk(obj, "", unknown, new IdentityHashMap<>());
    if (!unknown.isEmpty()) {
      throw new AssertionError(what + ": fields the API does not know: " + unknown);
    }
    if (obj.getMetadata() == null || obj.getMetadata().getName() == null || obj.getMetadata().getName().isEmpty()) {
      throw new AssertionError(kind + " without metadata.name");
    }
    return obj;
  }

  /** Collects "path: [names]" for every model object in the graph whose additionalProperties is not empty. */
  private static void walk(Object o, String path, List<String> unknown, Map<Object, Boolean> seen) {
    if (o == null || seen.put(o, Boolean.TRUE) != null) {
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        walk(e, path + "[" + i++ + "]", unknown, seen);
      }
      return;
    }
    if (o instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        walk(e.getValue(), path + "[" + e.getKey() + "]", unknown, seen);
      }
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.")) {
      return;
    }
    for (Method m : o.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || m.getReturnType().isPrimitive()
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      String name = m.getName();
      if (!name.startsWith("get") || name.length() == 3) {
        continue;
      }
      Object value;
      try {
        value = m.invoke(o);
      } catch (IllegalAccessException | InvocationTargetException e) {
        continue;
      }
      if (name.equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          Set<String> keys = new TreeSet<>();
          extra.keySet().forEach(k -> keys.add(String.valueOf(k)));
          unknown.add((path.isEmpty() ? "<top>" : path.substring(1)) + ": " + keys);
        }
        continue;
      }
      walk(value, path + "." + Introspector.decapitalize(name.substring(3)), unknown, seen);
    }
  }
}
