package io.r1cluster.core.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A checkpoint directory in Hugging Face layout:
 *
 * <pre>
 * config.json                      model config (see Qwen2Config)
 * model.safetensors                all weights, or when sharded:
 * model-00001-of-0000N.safetensors   shards, and
 * model.safetensors.index.json       {"metadata": {"total_size": bytes}, "weight_map": {name: shard}}
 * generation_config.json           GenerationConfig
 * tokenizer.json, tokenizer_config.json (with chat_template), ...
 * </pre>
 *
 * Whole checkpoints are written with {@link #writeAtomically}: into a sibling temp directory that
 * is renamed into place, so a crash never leaves a half-written checkpoint under the final name.
 */
public final class HfCheckpoint {
  public static final String SINGLE_FILE = "model.safetensors";
  public static final String INDEX_FILE = "model.safetensors.index.json";
  public static final String CONFIG_FILE = "config.json";
  /** Tokenizer-related files copied along with a checkpoint when present. */
  public static final List<String> TOKENIZER_FILES = List.of(
      "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json", "merges.txt",
      "added_tokens.json", "chat_template.jinja");
  /** transformers' default {@code max_shard_size} ("5GB"). */
  public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

  private static final ObjectMapper JSON = new ObjectMapper();

  private HfCheckpoint() {}

  /**
   * A model directory: an existing local directory as is, else {@code ORG/NAME} from the local
   * Hugging Face cache (see {@link HfCache#resolve(HfCache.RepoType, String, String)}).
   */
  public static Path resolve(String modelNameOrPath, String revision) {
    return HfCache.resolve(HfCache.RepoType.MODEL, modelNameOrPath, revision);
  }

  /**
   * All weights of a checkpoint directory, in file order: {@code model.safetensors}, or the shards
   * listed by {@code model.safetensors.index.json} (each shard read once).
   */
  public static LinkedHashMap<String, TensorData> readWeights(Path dir) {
    Path single = dir.resolve(SINGLE_FILE);
    Path index = dir.resolve(INDEX_FILE);
    if (Files.isRegularFile(index)) {
      Map<String, String> weightMap = readIndex(index);
      LinkedHashSet<String> shards = new LinkedHashSet<>(weightMap.values());
      LinkedHashMap<String, TensorData> out = new LinkedHashMap<>();
      for (String shard : shards) {
        Path f = dir.resolve(shard);
        if (!Files.isRegularFile(f)) {
          throw new InputException(index, 0, "weight_map", "shard " + shard + " listed but missing in " + dir);
        }
        for (TensorData t : SafeTensors.read(f).values()) {
          String expected = weightMap.get(t.name());
          if (!shard.equals(expected)) {
            throw new InputException(f, 0, t.name(), "tensor not listed for this shard in " + INDEX_FILE
                + " (index says " + expected + ")");
          }
          out.put(t.name(), t);
        }
      }
      for (String name : weightMap.keySet()) {
        if (!out.containsKey(name)) {
          throw new InputException(index, 0, name, "listed in weight_map but absent from " + weightMap.get(name));
        }
      }
      return out;
    }
    if (Files.isRegularFile(single)) {
      return SafeTensors.read(single);
    }
    throw new InputException(dir, 0, null, "no " + SINGLE_FILE + " or " + INDEX_FILE
        + " in this directory (only safetensors checkpoints are supported; convert .bin files with transformers'"
        + " save_pretrained(safe_serialization=True))");
  }

  /**
   * The weight files of a checkpoint directory in read order: {@code model.safetensors}, or each
   * shard named by the index once (for loaders that stream tensor by tensor).
   */
  public static List<Path> weightFiles(Path dir) {
    Path index = dir.resolve(INDEX_FILE);
    if (Files.isRegularFile(index)) {
      List<Path> out = new ArrayList<>();
      for (String shard : new LinkedHashSet<>(readIndex(index).values())) {
        Path f = dir.resolve(shard);
        if (!Files.isRegularFile(f)) {
          throw new InputException(index, 0, "weight_map", "shard " + shard + " listed but missing in " + dir);
        }
        out.add(f);
      }
      return out;
    }
    Path single = dir.resolve(SINGLE_FILE);
    if (Files.isRegularFile(single)) {
      return List.of(single);
    }
    throw new InputException(dir, 0, null, "no " + SINGLE_FILE + " or " + INDEX_FILE + " in this directory");
  }

  private static Map<String, String> readIndex(Path index) {
    JsonNode n;
    try {
      n = JSON.readTree(index.toFile());
    } catch (JsonProcessingException e) {
      throw new InputException(index, e.getLocation() == null ? 0 : e.getLocation().getLineNr(), null,
          "invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    JsonNode wm = n == null ? null : n.get("weight_map");
    if (wm == null || !wm.isObject()) {
      throw new InputException(index, 0, "weight_map", "missing or not an object");
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = wm.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String shard = e.getValue().asText();
      if (!e.getValue().isTextual() || shard.contains("/") || shard.contains("\\") || shard.startsWith(".")) {
        throw new InputException(index, 0, "weight_map." + e.getKey(), "invalid shard file name " + e.getValue());
      }
      out.put(e.getKey(), shard);
    }
    return out;
  }

  /**
   * Writes weights into {@code dir}: one {@code model.safetensors} when the data fits in
   * {@code maxShardBytes}, else shards {@code model-0000i-of-0000N.safetensors} (tensors kept in
   * order, a new shard started when the next tensor would overflow; a tensor larger than the limit
   * gets its own shard, as transformers does) plus {@code model.safetensors.index.json}. Stale
   * weight files from an earlier write are removed.
   */
  public static void writeWeights(Path dir, Collection<TensorData> tensors, long maxShardBytes) {
    if (maxShardBytes <= 0) {
      throw new IllegalArgumentException("maxShardBytes must be positive");
    }
    List<List<TensorData>> shards = new ArrayList<>();
    List<TensorData> cur = new ArrayList<>();
    long curBytes = 0;
    long total = 0;
    for (TensorData t : tensors) {
      if (!cur.isEmpty() && curBytes + t.byteSize() > maxShardBytes) {
        shards.add(cur);
        cur = new ArrayList<>();
        curBytes = 0;
      }
      cur.add(t);
      curBytes += t.byteSize();
      total += t.byteSize();
    }
    shards.add(cur);
    try {
      Files.createDirectories(dir);
      removeWeightFiles(dir);
      if (shards.size() == 1) {
        SafeTensors.write(dir.resolve(SINGLE_FILE), shards.get(0), Map.of());
        return;
      }
      ObjectNode index = JSON.createObjectNode();
      index.putObject("metadata").put("total_size", total);
      ObjectNode weightMap = index.putObject("weight_map");
      int n = shards.size();
      for (int i = 0; i < n; i++) {
        String name = String.format("model-%05d-of-%05d.safetensors", i + 1, n);
        SafeTensors.write(dir.resolve(name), shards.get(i), Map.of());
        for (TensorData t : shards.get(i)) {
          weightMap.put(t.name(), name);
        }
      }
      Files.writeString(dir.resolve(INDEX_FILE),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(index) + "\n");
    } catch (IOException e) {
      throw new UncheckedIOException("writing weights to " + dir, e);
    }
  }

  private static void removeWeightFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        String f = p.getFileName().toString();
        if (f.equals(SINGLE_FILE) || f.equals(INDEX_FILE) || f.matches("model-\\d{5}-of-\\d{5}\\.safetensors")) {
          Files.delete(p);
        }
      }
    }
  }

  /** Reads {@code generation_config.json} of a checkpoint, or {@code null} when there is none. */
  public static GenerationConfig readGenerationConfig(Path dir) {
    Path f = dir.resolve(GenerationConfig.FILE);
    return Files.isRegularFile(f) ? GenerationConfig.read(f) : null;
  }

  /** Writes {@code generation_config.json} into a checkpoint directory. */
  public static void writeGenerationConfig(Path dir, GenerationConfig config) {
    config.write(dir.resolve(GenerationConfig.FILE));
  }

  /** Copies the tokenizer files of {@link #TOKENIZER_FILES} that exist in {@code from} into {@code to}. */
  public static void copyTokenizerFiles(Path from, Path to) {
    try {
      Files.createDirectories(to);
      for (String f : TOKENIZER_FILES) {
        Path src = from.resolve(f);
        if (Files.isRegularFile(src)) {
          Files.copy(src, to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("copying tokenizer files from " + from + " to " + to, e);
    }
  }

  /** Writes the files of a checkpoint into the (empty, temporary) directory it is given. */
  @FunctionalInterface
  public interface DirWriter {
    void write(Path tmpDir) throws IOException;
  }

  /** Temp folders of {@link #writeAtomically}: {@code .NAME.tmp-PID[-STARTMILLIS]-NANOS[-old]}. */
  private static final java.util.regex.Pattern TEMP =
      java.util.regex.Pattern.compile("^\\.(.+)\\.tmp-(\\d+)(?:-(\\d+))?-\\d+(-old)?$");

  /** Test hook: runs between the two renames of an overwrite (a crash there is what recovery handles). */
  static volatile Runnable betweenRenames = () -> {};

  /**
   * Repairs what {@link #writeAtomically} leaves in {@code parent} when its process dies mid-write,
   * for temp folders whose writer is gone ({@link DurableFiles#writerGone}: pid and process start
   * time, so a restarted container whose JVM is PID 1 again still recognises its predecessor's
   * folders). A {@code -old} folder whose checkpoint is missing is an overwrite interrupted between
   * its renames: the old copy is renamed back. Every other stale temp folder is deleted. Finished
   * folders are never touched otherwise: they are renamed in whole or not at all.
   */
  public static void removeStaleTemps(Path parent) {
    if (!Files.isDirectory(parent)) {
      return;
    }
    List<Path> stale = new ArrayList<>();
    try (java.util.stream.Stream<Path> s = Files.list(parent)) {
      for (Path p : (Iterable<Path>) s::iterator) {
        java.util.regex.Matcher m = TEMP.matcher(p.getFileName().toString());
        if (m.matches() && Files.isDirectory(p)
            && DurableFiles.writerGone(Long.parseLong(m.group(2)), m.group(3) == null ? -1 : Long.parseLong(m.group(3)))) {
          stale.add(p);
        }
      }
      stale.sort(Comparator.comparing((Path p) -> !p.getFileName().toString().endsWith("-old"))); // restores first
      for (Path p : stale) {
        java.util.regex.Matcher m = TEMP.matcher(p.getFileName().toString());
        m.matches();
        Path target = parent.resolve(m.group(1));
        if (m.group(4) != null && !Files.exists(target)) {
          move(p, target);
          DurableFiles.syncDirectory(parent);
          System.err.println("restored " + target + " from " + p.getFileName()
              + " (its overwrite was interrupted between renames)");
        } else {
          deleteTree(p);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cleaning up " + parent, e);
    }
  }

  /**
   * Runs {@code writer} on a fresh sibling temp directory {@code .NAME.tmp-PID-START-NANOS}, forces
   * its files to the device, and then renames it to {@code dir}. An existing {@code dir} is first
   * renamed aside ({@code …-old}) and deleted after the new one is in place. On failure the temp
   * directory is deleted and {@code dir} is left (or put back) as it was; a process killed between
   * the renames leaves the {@code -old} folder, which {@link #removeStaleTemps} renames back.
   */
  public static void writeAtomically(Path dir, DirWriter writer) {
    Path abs = dir.toAbsolutePath().normalize();
    String base = "." + abs.getFileName() + ".tmp-" + DurableFiles.WRITER + "-" + System.nanoTime();
    Path tmp = abs.resolveSibling(base);
    Path old = abs.resolveSibling(base + "-old");
    boolean movedAside = false;
    try {
      Files.createDirectories(tmp);
      writer.write(tmp);
      DurableFiles.syncTree(tmp);
      boolean hadOld = Files.exists(abs);
      if (hadOld) {
        move(abs, old);
        movedAside = true;
        betweenRenames.run();
      }
      move(tmp, abs);
      DurableFiles.syncDirectory(abs.getParent());
      if (hadOld) {
        deleteTree(old);
      }
    } catch (IOException | RuntimeException e) {
      try {
        deleteTree(tmp);
        if (movedAside && !Files.exists(abs) && Files.exists(old)) {
          move(old, abs); // the new copy did not make it: put the old one back
        }
      } catch (IOException ignored) {
        // best effort; removeStaleTemps restores the old copy later
      }
      if (e instanceof RuntimeException re) {
        throw re;
      }
      throw new UncheckedIOException("writing checkpoint " + dir, (IOException) e);
    }
  }

  /**
   * Writes a complete checkpoint atomically: {@code config.json} (raw JSON given by the caller, e.g.
   * {@code Qwen2Config.toJson()}), weights (sharded at {@code maxShardBytes}), the generation config
   * when non-null and the tokenizer files copied from {@code tokenizerDir} when non-null.
   */
  public static void save(Path dir, JsonNode configJson, Collection<TensorData> tensors, long maxShardBytes,
      GenerationConfig generation, Path tokenizerDir) {
    writeAtomically(dir, tmp -> {
      Files.writeString(tmp.resolve(CONFIG_FILE),
          JSON.writerWithDefaultPrettyPrinter().writeValueAsString(configJson) + "\n");
      writeWeights(tmp, tensors, maxShardBytes);
      if (generation != null) {
        writeGenerationConfig(tmp, generation);
      }
      if (tokenizerDir != null) {
        copyTokenizerFiles(tokenizerDir, tmp);
      }
    });
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to);
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      List<Path> all = s.sorted(Comparator.reverseOrder()).toList();
      for (Path q : all) {
        Files.deleteIfExists(q);
      }
    }
  }
}
