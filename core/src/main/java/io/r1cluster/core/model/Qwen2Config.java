package io.r1cluster.core.model;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Decoder configuration, the keys of Hugging Face's {@code config.json} for {@code model_type}
 * {@code qwen2}, {@code qwen3} and {@code llama}; what differs between them is {@link #family()}
 * ({@link ModelFamily}: biases, q/k norms, head_dim, {@link RopeScaling}). Keys we do not model are kept in {@code extra} and written back, so
 * a round trip through this record preserves a user's file. Reads both the transformers 4 layout
 * ({@code rope_theta}, {@code torch_dtype}) and the transformers 5 one ({@code rope_parameters},
 * {@code dtype}); writes the former, which both read. {@code bosTokenId}/{@code eosTokenId} are -1
 * when the file has none.
 */
public record Qwen2Config(
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int maxPositionEmbeddings,
    double rmsNormEps,
    double ropeTheta,
    boolean tieWordEmbeddings,
    String torchDtype,
    int bosTokenId,
    int eosTokenId,
    double initializerRange,
    Map<String, Object> extra,
    ModelFamily family) {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final Set<String> KNOWN = Set.of(
      "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
      "num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta",
      "tie_word_embeddings", "torch_dtype", "dtype", "rope_parameters", "rope_scaling", "bos_token_id", "eos_token_id", "initializer_range",
      "model_type", "architectures", "hidden_act", "head_dim", "attention_bias", "mlp_bias");

  public Qwen2Config {
    extra = extra == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    if (family == null) {
      family = ModelFamily.qwen2(hiddenSize / Math.max(1, numAttentionHeads));
    }
    if (family.modelType().equals("qwen2") && hiddenSize % numAttentionHeads != 0) {
      throw new IllegalArgumentException("hidden_size " + hiddenSize + " not divisible by num_attention_heads " + numAttentionHeads);
    }
    if (numAttentionHeads % numKeyValueHeads != 0) {
      throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads + " not divisible by num_key_value_heads " + numKeyValueHeads);
    }
  }

  /** Per-head dimension D (config {@code head_dim}; hidden_size / num_attention_heads when absent). */
  public int headDim() {
    return family.headDim();
  }

  /** A config with the common defaults of Qwen2 for the remaining keys. */
  public static Qwen2Config of(int vocab, int hidden, int intermediate, int layers, int heads, int kvHeads,
      int maxPos, boolean tied) {
    return new Qwen2Config(vocab, hidden, intermediate, layers, heads, kvHeads, maxPos, 1e-6, 10000.0, tied,
        "float32", -1, -1, 0.02, Map.of(), null);
  }

  public Qwen2Config withTokens(int bos, int eos) {
    return new Qwen2Config(vocabSize, hiddenSize, intermediateSize, numHiddenLayers, numAttentionHeads,
        numKeyValueHeads, maxPositionEmbeddings, rmsNormEps, ropeTheta, tieWordEmbeddings, torchDtype, bos, eos,
        initializerRange, extra, family);
  }

  /** Reads {@code config.json}; errors name the file and the key. */
  public static Qwen2Config read(Path file) {
    JsonNode n;
    try {
      n = JSON.readTree(file.toFile());
    } catch (JsonProcessingException e) {
      throw new InputException(file, e.getLocation() == null ? 0 : e.getLocation().getLineNr(), null,
          "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new InputException(file, 0, null, "cannot read: " + e);
    }
    if (n == null || !n.isObject()) {
      throw new InputException(file, 0, null, "not a JSON object");
    }
    String type = n.path("model_type").asText("");
    if (!type.equals("qwen2") && !type.equals("qwen3") && !type.equals("llama")) {
      throw new InputException(file, 0, "model_type", "'" + type + "' is not supported (supported: qwen2 and "
          + "DeepSeek-R1-Distill-Qwen, qwen3, llama incl. Llama 3.x and DeepSeek-R1-Distill-Llama)");
    }
    int hidden = req(n, file, "hidden_size");
    int heads = req(n, file, "num_attention_heads");
    int headDim = n.hasNonNull("head_dim") ? req(n, file, "head_dim") : hidden / heads;
    if (type.equals("qwen2") && headDim * heads != hidden) {
      throw new InputException(file, 0, "head_dim", "qwen2 needs head_dim = hidden_size / num_attention_heads ("
          + hidden / heads + "), got " + headDim);
    }
    if (!n.hasNonNull("head_dim") && hidden % heads != 0) {
      throw new InputException(file, 0, "num_attention_heads", "hidden_size " + hidden + " is not divisible by "
          + heads + " and there is no head_dim");
    }
    if (headDim % 2 != 0) {
      throw new InputException(file, 0, "head_dim", "must be even for rotary embeddings, got " + headDim);
    }
    boolean qkvBias = type.equals("qwen2") || bool(n, file, "attention_bias", false);
    if (bool(n, file, "mlp_bias", false)) {
      throw new InputException(file, 0, "mlp_bias", "MLP biases are not supported");
    }
    if (bool(n, file, "use_sliding_window", false)) {
      throw new InputException(file, 0, "use_sliding_window", "sliding-window attention is not supported");
    }
    if (n.hasNonNull("partial_rotary_factor") && n.get("partial_rotary_factor").asDouble() != 1.0) {
      throw new InputException(file, 0, "partial_rotary_factor", "only 1.0 (rotary on the whole head) is supported");
    }
    Map<String, Object> extra = new LinkedHashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!KNOWN.contains(e.getKey())) {
        extra.put(e.getKey(), JSON.convertValue(e.getValue(), Object.class));
      }
    }
    double ropeTheta = n.path("rope_theta").asDouble(10000.0);
    int maxPos = n.path("max_position_embeddings").asInt(32768);
    RopeScaling scaling = RopeScaling.parse(n.get("rope_scaling"), file, "rope_scaling", maxPos);
    JsonNode rope = n.get("rope_parameters"); // transformers >= 5 nests rope settings here
    if (rope != null && rope.isObject()) {
      ropeTheta = rope.path("rope_theta").asDouble(ropeTheta);
      RopeScaling fromParams = RopeScaling.parse(rope, file, "rope_parameters", maxPos);
      if (fromParams != null && scaling != null) {
        throw new InputException(file, 0, "rope_parameters", "both rope_scaling and a scaled rope_parameters are set");
      }
      scaling = scaling != null ? scaling : fromParams;
    }
    ModelFamily family;
    try {
      family = new ModelFamily(type, headDim, qkvBias, type.equals("qwen3"), scaling);
    } catch (IllegalArgumentException e) {
      throw new InputException(file, 0, "head_dim", e.getMessage());
    }
    String dtype = n.hasNonNull("torch_dtype") ? n.get("torch_dtype").asText() : n.path("dtype").asText("float32");
    String act = n.path("hidden_act").asText("silu");
    if (!act.equals("silu")) {
      throw new InputException(file, 0, "hidden_act", "only 'silu' is supported, got '" + act + "'");
    }
    try {
      return new Qwen2Config(
          req(n, file, "vocab_size"), hidden, req(n, file, "intermediate_size"), req(n, file, "num_hidden_layers"),
          heads, n.has("num_key_value_heads") ? req(n, file, "num_key_value_heads") : heads, maxPos,
          n.path("rms_norm_eps").asDouble(1e-6), ropeTheta,
          n.path("tie_word_embeddings").asBoolean(false), dtype,
          n.path("bos_token_id").asInt(-1), eosOf(n.path("eos_token_id")),
          n.path("initializer_range").asDouble(0.02), extra, family);
    } catch (IllegalArgumentException e) {
      throw new InputException(file, 0, null, e.getMessage());
    }
  }

  private static boolean bool(JsonNode n, Path file, String key, boolean dflt) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull()) {
      return dflt;
    }
    if (!v.isBoolean()) {
      throw new InputException(file, 0, key, "must be true or false, got " + v);
    }
    return v.asBoolean();
  }

  private static int eosOf(JsonNode n) {
    if (n.isArray()) {
      return n.size() == 0 ? -1 : n.get(0).asInt();
    }
    return n.asInt(-1);
  }

  private static int req(JsonNode n, Path file, String key) {
    JsonNode v = n.get(key);
    if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
      throw new InputException(file, 0, key, "missing or not an integer");
    }
    if (v.asInt() < 1) {
      throw new InputException(file, 0, key, "must be at least 1, got " + v.asInt());
    }
    return v.asInt();
  }

  /** The JSON object as Hugging Face writes it. */
  public ObjectNode toJson() {
    ObjectNode n = JSON.createObjectNode();
    n.putArray("architectures").add(family.architecture());
    n.put("model_type", family.modelType());
    n.put("vocab_size", vocabSize);
    n.put("hidden_size", hiddenSize);
    n.put("intermediate_size", intermediateSize);
    n.put("num_hidden_layers", numHiddenLayers);
    n.put("num_attention_heads", numAttentionHeads);
    n.put("num_key_value_heads", numKeyValueHeads);
    n.put("hidden_act", "silu");
    n.put("max_position_embeddings", maxPositionEmbeddings);
    n.put("rms_norm_eps", rmsNormEps);
    n.put("rope_theta", ropeTheta);
    n.put("tie_word_embeddings", tieWordEmbeddings);
    n.put("torch_dtype", torchDtype);
    if (bosTokenId >= 0) {
      n.put("bos_token_id", bosTokenId);
    } else {
      n.putNull("bos_token_id");
    }
    if (eosTokenId >= 0) {
      n.put("eos_token_id", eosTokenId);
    } else {
      n.putNull("eos_token_id");
    }
    n.put("initializer_range", initializerRange);
    if (!family.modelType().equals("qwen2")) {
      n.put("head_dim", family.headDim());
      n.put("attention_bias", family.qkvBias());
    }
    if (family.modelType().equals("llama")) {
      n.put("mlp_bias", false);
    }
    if (family.ropeScaling() != null) {
      n.set("rope_scaling", family.ropeScaling().toJson());
    }
    extra.forEach((k, v) -> n.set(k, JSON.valueToTree(v)));
    if (!family.modelType().equals("llama") && !extra.containsKey("use_sliding_window")) {
      n.put("use_sliding_window", false);
    }
    if (!extra.containsKey("attention_dropout")) {
      n.put("attention_dropout", 0.0);
    }
    return n;
  }

  /** Writes {@code config.json} atomically. */
  public void write(Path file) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    JSON.writeValue(tmp.toFile(), toJson());
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }
}
