package io.r1cluster.core.distill;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Whether two models share a tokenizer, from their files alone (no model is loaded): the
 * {@code model} section (type, vocab, merges) and the {@code added_tokens} of {@code tokenizer.json}
 * must be equal as JSON (so formatting does not matter), or, without a {@code tokenizer.json},
 * {@code vocab.json} and {@code merges.txt}. The built-in models ({@code demo}, {@code demo-small})
 * use the generated demo tokenizer.
 */
public final class TokenizerCheck {
  private static final ObjectMapper JSON = new ObjectMapper();

  private TokenizerCheck() {}

  /** What identifies a tokenizer, for equality. */
  public record Identity(String source, JsonNode vocab, int size) {}

  /**
   * The tokenizer identity of a model: a built-in name, a checkpoint folder or a hub id in the
   * local cache.
   */
  public static Identity of(String model, String revision) {
    if (Models.isBuiltIn(model)) {
      Path tmp = null;
      try {
        tmp = Files.createTempDirectory("r1-demo-tokenizer");
        DemoTokenizer.write(tmp);
        Identity id = ofDir(tmp);
        return new Identity("the built-in demo tokenizer", id.vocab(), id.size());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } finally {
        delete(tmp);
      }
    }
    Path dir = Files.isDirectory(Path.of(model)) ? Path.of(model) : HfCheckpoint.resolve(model, revision == null ? "main" : revision);
    return ofDir(dir);
  }

  /** The identity of the tokenizer files in {@code dir}. */
  public static Identity ofDir(Path dir) {
    try {
      Path tj = dir.resolve(Tokenizer.TOKENIZER_FILE);
      if (Files.isRegularFile(tj)) {
        JsonNode root = JSON.readTree(tj.toFile());
        JsonNode v = JSON.createObjectNode().set("model", root.path("model"));
        ((com.fasterxml.jackson.databind.node.ObjectNode) v).set("added_tokens", root.path("added_tokens"));
        int size = root.path("model").path("vocab").size() + root.path("added_tokens").size();
        return new Identity(tj.toString(), v, size);
      }
      Path vj = dir.resolve("vocab.json");
      if (Files.isRegularFile(vj)) {
        var v = JSON.createObjectNode();
        v.set("vocab", JSON.readTree(vj.toFile()));
        Path merges = dir.resolve("merges.txt");
        v.put("merges", Files.isRegularFile(merges) ? Files.readString(merges) : "");
        return new Identity(vj.toString(), v, v.path("vocab").size());
      }
      throw new io.r1cluster.core.InputException(dir, 0, null, "no tokenizer.json or vocab.json: cannot tell its tokenizer");
    } catch (IOException e) {
      throw new io.r1cluster.core.InputException(dir, 0, null, "unreadable tokenizer files: " + e.getMessage());
    }
  }

  private static void delete(Path p) {
    if (p == null) {
      return;
    }
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    } catch (IOException e) {
      // best effort: a temp folder
    }
  }
}
