package io.r1cluster.core.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The subset of Hugging Face {@code generation_config.json} we read and write. Absent values are
 * {@code null}; {@code eosTokenIds} holds one or several ids ({@code eos_token_id} may be an int or
 * a list in the file).
 */
public record GenerationConfig(
    Integer bosTokenId,
    List<Integer> eosTokenIds,
    Integer padTokenId,
    Boolean doSample,
    Double temperature,
    Double topP,
    Integer topK,
    Integer maxNewTokens) {

  public static final String FILE = "generation_config.json";
  private static final ObjectMapper JSON = new ObjectMapper();

  public GenerationConfig {
    eosTokenIds = eosTokenIds == null ? List.of() : List.copyOf(eosTokenIds);
  }

  /** Reads {@code generation_config.json}; bad JSON or types give an InputException naming the key. */
  public static GenerationConfig read(Path file) {
    JsonNode n;
    try {
      n = JSON.readTree(file.toFile());
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new InputException(file, e.getLocation() == null ? 0 : e.getLocation().getLineNr(), null,
          "invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (n == null || !n.isObject()) {
      throw new InputException(file, 0, null, "not a JSON object");
    }
    List<Integer> eos;
    JsonNode e = n.get("eos_token_id");
    if (e == null || e.isNull()) {
      eos = List.of();
    } else if (e.isArray()) {
      Integer[] ids = new Integer[e.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = intValue(file, "eos_token_id", e.get(i));
      }
      eos = List.of(ids);
    } else {
      eos = List.of(intValue(file, "eos_token_id", e));
    }
    return new GenerationConfig(
        optInt(file, n, "bos_token_id"),
        eos,
        optInt(file, n, "pad_token_id"),
        n.hasNonNull("do_sample") ? boolValue(file, n.get("do_sample")) : null,
        optDouble(file, n, "temperature"),
        optDouble(file, n, "top_p"),
        optInt(file, n, "top_k"),
        optInt(file, n, "max_new_tokens"));
  }

  /** Writes {@code generation_config.json} (omitting null values; one EOS id as an int). */
  public void write(Path file) {
    ObjectNode o = JSON.createObjectNode();
    if (bosTokenId != null) {
      o.put("bos_token_id", bosTokenId);
    }
    if (eosTokenIds.size() == 1) {
      o.put("eos_token_id", eosTokenIds.get(0));
    } else if (!eosTokenIds.isEmpty()) {
      var a = o.putArray("eos_token_id");
      eosTokenIds.forEach(a::add);
    }
    if (padTokenId != null) {
      o.put("pad_token_id", padTokenId);
    }
    if (doSample != null) {
      o.put("do_sample", doSample);
    }
    if (temperature != null) {
      o.put("temperature", temperature);
    }
    if (topP != null) {
      o.put("top_p", topP);
    }
    if (topK != null) {
      o.put("top_k", topK);
    }
    if (maxNewTokens != null) {
      o.put("max_new_tokens", maxNewTokens);
    }
    o.put("transformers_version", "4.46.0");
    try {
      Files.writeString(file, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
    } catch (IOException ex) {
      throw new UncheckedIOException(ex);
    }
  }

  private static Integer optInt(Path f, JsonNode n, String key) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? null : intValue(f, key, v);
  }

  private static Double optDouble(Path f, JsonNode n, String key) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new InputException(f, 0, key, "expected a number, got " + v);
    }
    return v.asDouble();
  }

  private static int intValue(Path f, String key, JsonNode v) {
    if (!v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new InputException(f, 0, key, "expected an integer, got " + v);
    }
    return v.asInt();
  }

  private static boolean boolValue(Path f, JsonNode v) {
    if (!v.isBoolean()) {
      throw new InputException(f, 0, "do_sample", "expected true/false, got " + v);
    }
    return v.asBoolean();
  }
}
