package io.r1cluster.core.recipe;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a recipe's YAML as SnakeYAML nodes (to keep line numbers) and checks every key against the
 * {@link RecipeKeys} tables: unknown keys (with a "did you mean" suggestion), duplicate keys, wrong
 * types and bad enum values are collected, and all of them are thrown together as a
 * {@link RecipeException}.
 *
 * <p>Command-line {@link RecipeOverride overrides} are spliced into the node tree before the checks,
 * so they meet the same ones. Their nodes get negative line numbers ({@code -(i + 1)} for the i-th
 * override): an error or a {@link Value} with such a line points at the command line instead of the
 * file.
 */
final class RecipeParser {
  /** The parsed top level and the pipeline stages, each a map of validated values. */
  record Parsed(Map<String, Value> top, List<Map<String, Value>> stages, List<Integer> stageLines) {}

  private final Path file;
  private final List<RecipeOverride> overrides;
  /** Every node that came from an override, with the override's index. */
  private final Map<Node, Integer> fromOverride = new IdentityHashMap<>();
  private final List<RecipeError> errors = new ArrayList<>();

  RecipeParser(Path file) {
    this(file, List.of());
  }

  RecipeParser(Path file, List<RecipeOverride> overrides) {
    this.file = file;
    this.overrides = List.copyOf(overrides);
  }

  Path file() {
    return file;
  }

  List<RecipeError> errors() {
    return errors;
  }

  void error(int line, String key, String message) {
    if (line < 0 && -line <= overrides.size()) {
      errors.add(new RecipeError(Path.of(RecipeOverride.ORIGIN), 0, overrides.get(-line - 1).arg(), message));
    } else {
      errors.add(new RecipeError(file, line, key, message));
    }
  }

  Parsed parse() {
    Node root;
    String text = readUtf8();
    if (text == null) {
      return null;
    }
    if (!withinLimits(text)) {
      return null;
    }
    try {
      root = new Yaml(loaderOptions()).compose(new java.io.StringReader(text));
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      error(line, null, "invalid YAML: " + e.getProblem());
      return null;
    } catch (YAMLException e) {
      error(0, null, "invalid YAML: " + e.getMessage());
      return null;
    }
    if (root == null) {
      error(1, null, "the recipe is empty");
      return null;
    }
    if (!(root instanceof MappingNode map)) {
      error(line(root), null, "a recipe is a mapping of keys to values");
      return null;
    }
    applyOverrides(map);
    Map<String, Value> top = mapping(map, RecipeKeys.topLevel(), "");
    List<Map<String, Value>> stages = new ArrayList<>();
    List<Integer> stageLines = new ArrayList<>();
    for (NodeTuple t : map.getValue()) {
      if (key(t).equals("pipeline") && t.getValueNode() instanceof SequenceNode seq) {
        for (Node s : seq.getValue()) {
          if (!(s instanceof MappingNode sm)) {
            error(line(s), "pipeline", "each stage is a mapping {name, type, from, ...}");
            continue;
          }
          Map<String, KeySpec> allowed = new LinkedHashMap<>(RecipeKeys.stageOnly());
          RecipeKeys.topLevel().forEach((k, v) -> {
            if (!k.equals("pipeline") && !k.equals("cluster")) {
              allowed.put(k, v);
            }
          });
          stages.add(mapping(sm, allowed, "pipeline."));
          stageLines.add(line(s));
        }
      } else if (key(t).equals("pipeline") && !isNull(t.getValueNode())) {
        error(line(t.getValueNode()), "pipeline", "expected a list of stages");
      }
    }
    return new Parsed(top, stages, stageLines);
  }

  /** Most aliases ({@code *name}) a recipe may use; a few anchors for shared settings are plenty. */
  static final int MAX_ALIASES = 50;
  /** Deepest nesting of mappings and lists; recipes need about 5. */
  static final int MAX_DEPTH = 32;
  /** Largest recipe file. */
  static final int MAX_CHARS = 1 << 20;

  private static LoaderOptions loaderOptions() {
    LoaderOptions o = new LoaderOptions();
    o.setMaxAliasesForCollections(MAX_ALIASES);
    o.setNestingDepthLimit(MAX_DEPTH + 1);
    o.setCodePointLimit(MAX_CHARS);
    o.setAllowDuplicateKeys(true); // reported by mapping() with their line
    return o;
  }

  /** The file as UTF-8 text, or null after recording an error with the line of the first bad byte. */
  private String readUtf8() {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      error(0, null, "cannot read recipe: " + e.getMessage());
      return null;
    }
    if (bytes.length > MAX_CHARS) {
      error(0, null, "the recipe is " + bytes.length + " bytes; recipes are at most " + MAX_CHARS);
      return null;
    }
    java.nio.charset.CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
        .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT);
    java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(bytes);
    java.nio.CharBuffer out = java.nio.CharBuffer.allocate(bytes.length + 1);
    java.nio.charset.CoderResult r = dec.decode(in, out, true);
    if (r.isError()) {
      int at = in.position();
      int line = 1;
      for (int i = 0; i < at; i++) {
        if (bytes[i] == '\n') {
          line++;
        }
      }
      error(line, null, String.format(Locale.ROOT, "not UTF-8 text: byte 0x%02X at offset %d cannot be decoded"
          + " (save the recipe as UTF-8)", bytes[at] & 0xff, at));
      return null;
    }
    return out.flip().toString();
  }

  /** Walks the YAML events once: too many aliases (alias bombs) or too deep nesting are errors with their line. */
  private boolean withinLimits(String text) {
    int aliases = 0;
    int depth = 0;
    try {
      for (org.yaml.snakeyaml.events.Event e : new Yaml(loaderOptions()).parse(new java.io.StringReader(text))) {
        int line = e.getStartMark() == null ? 0 : e.getStartMark().getLine() + 1;
        if (e instanceof org.yaml.snakeyaml.events.AliasEvent && ++aliases > MAX_ALIASES) {
          error(line, null, "more than " + MAX_ALIASES + " aliases (*name): refusing a YAML alias bomb");
          return false;
        }
        if (e instanceof org.yaml.snakeyaml.events.CollectionStartEvent && ++depth > MAX_DEPTH) {
          error(line, null, "nested more than " + MAX_DEPTH + " levels deep");
          return false;
        }
        if (e instanceof org.yaml.snakeyaml.events.CollectionEndEvent) {
          depth--;
        }
      }
    } catch (MarkedYAMLException e) {
      int line = e.getProblemMark() == null ? 0 : e.getProblemMark().getLine() + 1;
      error(line, null, "invalid YAML: " + e.getProblem());
      return false;
    } catch (YAMLException e) {
      error(0, null, "invalid YAML: " + e.getMessage());
      return false;
    }
    return true;
  }

  /** Validates one mapping against a key table; nested sections are validated with their own tables. */
  private Map<String, Value> mapping(MappingNode node, Map<String, KeySpec> table, String prefix) {
    Map<String, Value> out = new LinkedHashMap<>();
    Set<String> seen = new HashSet<>();
    for (NodeTuple t : node.getValue()) {
      String k = key(t);
      int line = line(t.getKeyNode());
      if (k == null) {
        error(line, null, "keys must be plain strings");
        continue;
      }
      if (!seen.add(k)) {
        error(line, prefix + k, "duplicate key");
        continue;
      }
      KeySpec spec = table.get(k);
      if (spec == null) {
        String s = RecipeKeys.suggest(k, table.keySet());
        error(line, prefix + k, "unknown key" + (s == null ? "" : " (did you mean '" + s + "'?)"));
        continue;
      }
      Node v = t.getValueNode();
      Object value;
      if (k.equals("cluster") && v instanceof MappingNode m) {
        value = mapping(m, RecipeKeys.cluster(), prefix + "cluster.");
      } else if (k.equals("dataset_mixture") && v instanceof MappingNode m) {
        value = mixture(m, prefix + "dataset_mixture.");
      } else if (k.equals("pipeline")) {
        value = null; // parsed separately into stages
      } else {
        value = convert(v, spec, prefix + k);
      }
      out.put(k, new Value(spec, value, line(v)));
    }
    return out;
  }

  private Map<String, Value> mixture(MappingNode m, String prefix) {
    Map<String, Value> mix = new LinkedHashMap<>();
    for (NodeTuple t : m.getValue()) {
      String k = key(t);
      if ("datasets".equals(k) && t.getValueNode() instanceof SequenceNode seq) {
        List<Map<String, Value>> list = new ArrayList<>();
        for (Node d : seq.getValue()) {
          if (d instanceof MappingNode dm) {
            Map<String, Value> entry = mapping(dm, RecipeKeys.mixtureDataset(), prefix + "datasets.");
            if (!entry.containsKey("id")) {
              error(line(d), prefix + "datasets", "each dataset needs an 'id'");
            }
            list.add(entry);
          } else {
            error(line(d), prefix + "datasets", "each dataset is a mapping {id, config, split, columns, weight}");
          }
        }
        if (list.isEmpty()) {
          error(line(seq), prefix + "datasets", "needs at least one dataset");
        }
        mix.put("datasets", new Value(RecipeKeys.mixture().get("datasets"), list, line(seq)));
      } else if (!"datasets".equals(k)) {
        Map<String, Value> one = mapping(new MappingNode(m.getTag(), List.of(t), m.getFlowStyle()),
            RecipeKeys.mixture(), prefix);
        mix.putAll(one);
      } else {
        error(line(t.getValueNode()), prefix + "datasets", "expected a list of datasets");
      }
    }
    if (!mix.containsKey("datasets")) {
      error(line(m), prefix.substring(0, prefix.length() - 1), "needs 'datasets'");
    }
    return mix;
  }

  /** Converts a node to the Java value of the key's type, or records an error and returns null. */
  Object convert(Node v, KeySpec spec, String key) {
    int line = line(v);
    if (isNull(v)) {
      if (!spec.nullable()) {
        error(line, key, "must not be null (expected " + spec.type().description() + ")");
      }
      return null;
    }
    switch (spec.type()) {
      case INT -> {
        Long l = scalar(v) == null ? null : parseLong(scalar(v));
        if (l == null || isBool(v) || l < Integer.MIN_VALUE || l > Integer.MAX_VALUE) {
          return wrong(v, spec, key);
        }
        return l.intValue();
      }
      case FLOAT -> {
        Double d = scalar(v) == null || isBool(v) ? null : parseDouble(scalar(v));
        if (d != null && d.isInfinite()) {
          error(line, key, "must be a finite number, got '" + scalar(v) + "'");
          return null;
        }
        return d == null ? wrong(v, spec, key) : d;
      }
      case BOOL -> {
        Boolean b = bool(v);
        return b == null ? wrong(v, spec, key) : b;
      }
      case STRING -> {
        return scalar(v) == null ? wrong(v, spec, key) : scalar(v);
      }
      case ENUM, ENUM_OR_BOOL -> {
        if (spec.type() == ValueType.ENUM_OR_BOOL && isBool(v)) {
          // TRL <= 0.18 form of scale_rewards: true = group, false = none
          return bool(v) ? spec.choices().get(0) : "none";
        }
        String s = scalar(v);
        if (s == null && isBool(v)) {
          s = ((ScalarNode) v).getValue();
        }
        if (s == null) {
          return wrong(v, spec, key);
        }
        String low = s.toLowerCase(Locale.ROOT);
        if (!spec.choices().isEmpty() && !spec.choices().contains(low)) {
          String sug = RecipeKeys.suggest(low, spec.choices());
          error(line, key, "'" + s + "' is not " + spec.type().description() + " " + String.join(", ", spec.choices())
              + (sug == null ? "" : " (did you mean '" + sug + "'?)"));
          return null;
        }
        return low;
      }
      case STRING_LIST, STRING_OR_LIST -> {
        if (v instanceof ScalarNode) {
          return List.of(((ScalarNode) v).getValue());
        }
        if (v instanceof SequenceNode seq) {
          List<String> out = new ArrayList<>();
          for (Node e : seq.getValue()) {
            if (!(e instanceof ScalarNode se) || isNull(e)) {
              return wrong(v, spec, key);
            }
            out.add(se.getValue());
          }
          return List.copyOf(out);
        }
        return wrong(v, spec, key);
      }
      case FLOAT_LIST -> {
        if (v instanceof SequenceNode seq) {
          List<Double> out = new ArrayList<>();
          for (Node e : seq.getValue()) {
            Double d = scalar(e) == null || isBool(e) ? null : parseDouble(scalar(e));
            if (d == null || d.isInfinite()) {
              error(line(e), key, "expected a list of numbers, found '" + text(e) + "'");
              return null;
            }
            out.add(d);
          }
          return List.copyOf(out);
        }
        return wrong(v, spec, key);
      }
      case LIST -> {
        return v instanceof SequenceNode ? plain(v) : wrong(v, spec, key);
      }
      case DICT -> {
        return v instanceof MappingNode ? plain(v) : wrong(v, spec, key);
      }
      case DICT_OR_STRING -> {
        return v instanceof MappingNode || v instanceof ScalarNode ? plain(v) : wrong(v, spec, key);
      }
      case BOOL_OR_STRING -> {
        if (isBool(v)) {
          return bool(v);
        }
        return scalar(v) == null ? wrong(v, spec, key) : scalar(v);
      }
      default -> throw new IllegalStateException(spec.type().toString());
    }
  }

  private Object wrong(Node v, KeySpec spec, String key) {
    String what = spec.type().description();
    if (!spec.choices().isEmpty()) {
      what += " " + String.join(", ", spec.choices());
    }
    error(line(v), key, "expected " + what + ", found " + describe(v));
    return null;
  }

  /** Plain Java value of a node (Integer/Long, Double, Boolean, String, List, LinkedHashMap, null). */
  static Object plain(Node n) {
    if (n instanceof ScalarNode s) {
      Tag tag = s.getTag();
      if (tag.equals(Tag.NULL)) {
        return null;
      }
      if (tag.equals(Tag.BOOL)) {
        return parseBool(s.getValue());
      }
      if (tag.equals(Tag.INT)) {
        Long l = parseLong(s.getValue());
        return l == null ? s.getValue() : (l == l.intValue() ? (Object) l.intValue() : l);
      }
      if (tag.equals(Tag.FLOAT)) {
        Double d = parseDouble(s.getValue());
        return d == null ? s.getValue() : d;
      }
      return s.getValue();
    }
    if (n instanceof SequenceNode seq) {
      List<Object> out = new ArrayList<>();
      for (Node e : seq.getValue()) {
        out.add(plain(e));
      }
      return java.util.Collections.unmodifiableList(out);
    }
    MappingNode m = (MappingNode) n;
    Map<String, Object> out = new LinkedHashMap<>();
    for (NodeTuple t : m.getValue()) {
      out.put(String.valueOf(plain(t.getKeyNode())), plain(t.getValueNode()));
    }
    return java.util.Collections.unmodifiableMap(out);
  }

  private static String describe(Node v) {
    if (v instanceof SequenceNode) {
      return "a list";
    }
    if (v instanceof MappingNode) {
      return "a mapping";
    }
    return "'" + ((ScalarNode) v).getValue() + "'";
  }

  private static String text(Node v) {
    return v instanceof ScalarNode s ? s.getValue() : describe(v);
  }

  /** 1-based line of a node in the file, or {@code -(i + 1)} for a node of the i-th override. */
  int line(Node n) {
    Integer o = fromOverride.get(n);
    if (o != null) {
      return -(o + 1);
    }
    return n.getStartMark() == null ? 0 : n.getStartMark().getLine() + 1;
  }

  /**
   * Splices the command-line overrides into the recipe's node tree: a plain key replaces (or adds)
   * the top-level key, {@code cluster.KEY} the key in the {@code cluster:} section (made when absent),
   * {@code pipeline.STAGE.KEY} the key in that stage.
   */
  private void applyOverrides(MappingNode root) {
    for (int i = 0; i < overrides.size(); i++) {
      RecipeOverride o = overrides.get(i);
      String[] path = o.path();
      Node value = overrideValue(o, i);
      if (value == null) {
        continue;
      }
      if (path.length == 1) {
        put(root, path[0], value, i);
      } else if (path.length == 2 && path[0].equals("cluster")) {
        Node section = get(root, "cluster");
        if (section == null || isNull(section)) {
          section = new MappingNode(Tag.MAP, new ArrayList<>(), DumperOptions.FlowStyle.BLOCK);
          fromOverride.put(section, i);
          put(root, "cluster", section, i);
        }
        if (section instanceof MappingNode m) {
          put(m, path[1], value, i);
        } else {
          error(-(i + 1), o.key(), "the recipe's 'cluster' is not a mapping");
        }
      } else if (path.length == 3 && path[0].equals("pipeline")) {
        MappingNode stage = stage(root, path[1]);
        if (stage == null) {
          List<String> names = stageNames(root);
          String sug = RecipeKeys.suggest(path[1], names);
          error(-(i + 1), o.key(), names.isEmpty() ? "the recipe has no pipeline stages"
              : "no pipeline stage named '" + path[1] + "' (stages: " + String.join(", ", names) + ")"
              + (sug == null ? "" : " (did you mean '" + sug + "'?)"));
        } else {
          put(stage, path[2], value, i);
        }
      } else {
        error(-(i + 1), o.key(), "a dotted key is cluster.KEY or pipeline.STAGE.KEY");
      }
    }
  }

  /** The override's value as a YAML node (all its nodes remembered as the override's), or null on bad YAML. */
  private Node overrideValue(RecipeOverride o, int index) {
    Node value;
    if (o.value().isEmpty()) {
      value = new ScalarNode(Tag.STR, "", null, null, DumperOptions.ScalarStyle.DOUBLE_QUOTED);
    } else {
      try {
        value = new Yaml(new LoaderOptions()).compose(new StringReader(o.value()));
      } catch (MarkedYAMLException e) {
        error(-(index + 1), o.key(), "invalid YAML value: " + e.getProblem());
        return null;
      }
    }
    remember(value, index);
    return value;
  }

  private void remember(Node n, int index) {
    fromOverride.put(n, index);
    if (n instanceof SequenceNode seq) {
      seq.getValue().forEach(e -> remember(e, index));
    } else if (n instanceof MappingNode m) {
      for (NodeTuple t : m.getValue()) {
        remember(t.getKeyNode(), index);
        remember(t.getValueNode(), index);
      }
    }
  }

  /** Replaces the value of {@code key} in {@code map} (every occurrence), or appends the key. */
  private void put(MappingNode map, String key, Node value, int index) {
    List<NodeTuple> tuples = new ArrayList<>();
    boolean replaced = false;
    for (NodeTuple t : map.getValue()) {
      if (key.equals(key(t))) {
        if (!replaced) {
          tuples.add(new NodeTuple(overrideKey(key, index), value));
          replaced = true;
        }
      } else {
        tuples.add(t);
      }
    }
    if (!replaced) {
      tuples.add(new NodeTuple(overrideKey(key, index), value));
    }
    map.setValue(tuples);
  }

  private ScalarNode overrideKey(String key, int index) {
    ScalarNode k = new ScalarNode(Tag.STR, key, null, null, DumperOptions.ScalarStyle.PLAIN);
    fromOverride.put(k, index);
    return k;
  }

  private static Node get(MappingNode map, String key) {
    for (NodeTuple t : map.getValue()) {
      if (key.equals(key(t))) {
        return t.getValueNode();
      }
    }
    return null;
  }

  private static MappingNode stage(MappingNode root, String name) {
    if (get(root, "pipeline") instanceof SequenceNode seq) {
      for (Node s : seq.getValue()) {
        if (s instanceof MappingNode sm && get(sm, "name") instanceof ScalarNode n && n.getValue().equals(name)) {
          return sm;
        }
      }
    }
    return null;
  }

  private static List<String> stageNames(MappingNode root) {
    List<String> out = new ArrayList<>();
    if (get(root, "pipeline") instanceof SequenceNode seq) {
      for (Node s : seq.getValue()) {
        if (s instanceof MappingNode sm && get(sm, "name") instanceof ScalarNode n) {
          out.add(n.getValue());
        }
      }
    }
    return out;
  }

  private static String key(NodeTuple t) {
    return t.getKeyNode() instanceof ScalarNode s ? s.getValue() : null;
  }

  private static boolean isNull(Node n) {
    return n instanceof ScalarNode s && s.getTag().equals(Tag.NULL);
  }

  private static boolean isBool(Node n) {
    return n instanceof ScalarNode s && s.getTag().equals(Tag.BOOL);
  }

  /** The scalar's text, or null for non-scalars. */
  private static String scalar(Node n) {
    return n instanceof ScalarNode s ? s.getValue() : null;
  }

  private static Boolean bool(Node n) {
    if (!(n instanceof ScalarNode s)) {
      return null;
    }
    if (s.getTag().equals(Tag.BOOL)) {
      return parseBool(s.getValue());
    }
    String t = s.getValue().toLowerCase(Locale.ROOT);
    return t.equals("true") ? Boolean.TRUE : t.equals("false") ? Boolean.FALSE : null;
  }

  private static Boolean parseBool(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "y" -> Boolean.TRUE;
      default -> Boolean.FALSE;
    };
  }

  static Long parseLong(String s) {
    try {
      return Long.parseLong(s.replace("_", "").trim());
    } catch (NumberFormatException e) {
      return null;
    }
  }

  static Double parseDouble(String s) {
    String t = s.replace("_", "").trim().toLowerCase(Locale.ROOT);
    switch (t) {
      case ".inf", "+.inf", "inf" -> {
        return Double.POSITIVE_INFINITY;
      }
      case "-.inf", "-inf" -> {
        return Double.NEGATIVE_INFINITY;
      }
      default -> { }
    }
    if (t.isEmpty() || t.endsWith("d") || t.endsWith("f") || t.startsWith("0x") || t.contains("nan")) {
      return null;
    }
    try {
      return Double.parseDouble(t);
    } catch (NumberFormatException e) {
      return null;
    }
  }
}
