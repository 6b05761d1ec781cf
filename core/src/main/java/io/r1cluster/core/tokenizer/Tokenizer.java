package io.r1cluster.core.tokenizer;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A Hugging Face tokenizer ({@code tokenizer.json}) through DJL's Rust binding, plus the special
 * tokens and chat template of {@code tokenizer_config.json}.
 *
 * <p>{@link #encode} never adds special tokens (BOS/EOS come from the chat template or the caller).
 * {@link #decode} with {@code skipSpecial} drops only tokens flagged {@code "special": true}: added
 * tokens such as {@code <think>} with {@code "special": false} stay in the text.
 *
 * <p>Token ids, vocabulary size and the special flags are read from the JSON files themselves
 * (the binding does not expose them): the model vocabulary plus {@code added_tokens}, and
 * {@code added_tokens_decoder} of {@code tokenizer_config.json}.
 */
public final class Tokenizer implements AutoCloseable {
  public static final String TOKENIZER_FILE = "tokenizer.json";
  public static final String CONFIG_FILE = "tokenizer_config.json";
  /** Reasoning-format tags that rewards and prompts use. */
  public static final List<String> REASONING_TAGS = List.of("<think>", "</think>", "<answer>", "</answer>");

  private static final ObjectMapper JSON = new ObjectMapper();

  private final HuggingFaceTokenizer hf;
  private final Map<String, Integer> vocab;
  private final Map<String, Boolean> addedSpecial;
  private final int vocabSize;
  private final String eosToken;
  private final String padToken;
  private final String bosToken;
  private final JsonNode config;

  private Tokenizer(HuggingFaceTokenizer hf, Map<String, Integer> vocab, Map<String, Boolean> addedSpecial,
      JsonNode config) {
    this.hf = hf;
    this.vocab = Collections.unmodifiableMap(vocab);
    this.addedSpecial = Collections.unmodifiableMap(addedSpecial);
    this.vocabSize = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
    this.config = config;
    this.eosToken = tokenString(config, "eos_token");
    this.padToken = tokenString(config, "pad_token");
    this.bosToken = tokenString(config, "bos_token");
  }

  /** Loads {@code tokenizer.json} and (when present) {@code tokenizer_config.json} from a directory. */
  public static Tokenizer load(Path dir) {
    Path tj = dir.resolve(TOKENIZER_FILE);
    if (!Files.isRegularFile(tj)) {
      throw new InputException(dir, 0, null, "no " + TOKENIZER_FILE + " in this directory (only fast tokenizers"
          + " are supported; save one with transformers' tokenizer.save_pretrained)");
    }
    JsonNode tok = readJson(tj);
    Path cf = dir.resolve(CONFIG_FILE);
    JsonNode config = Files.isRegularFile(cf) ? readJson(cf) : JSON.createObjectNode();
    Map<String, Integer> vocab = new HashMap<>();
    Map<String, Boolean> special = new LinkedHashMap<>();
    JsonNode model = tok.path("model");
    JsonNode v = model.get("vocab");
    if (v != null && v.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = v.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        vocab.put(e.getKey(), e.getValue().asInt());
      }
    } else if (v != null && v.isArray()) { // Unigram: [[piece, score], ...]
      for (int i = 0; i < v.size(); i++) {
        vocab.put(v.get(i).get(0).asText(), i);
      }
    } else {
      throw new InputException(tj, 0, "model.vocab", "missing vocabulary");
    }
    for (JsonNode a : tok.path("added_tokens")) {
      String content = a.path("content").asText();
      vocab.put(content, a.path("id").asInt());
      special.put(content, a.path("special").asBoolean(false));
    }
    JsonNode decoderMap = config.get("added_tokens_decoder");
    if (decoderMap != null && decoderMap.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = decoderMap.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String content = e.getValue().path("content").asText();
        vocab.putIfAbsent(content, Integer.parseInt(e.getKey()));
        special.putIfAbsent(content, e.getValue().path("special").asBoolean(false));
      }
    }
    Map<String, String> opts = new HashMap<>();
    opts.put("addSpecialTokens", "false");
    opts.put("truncation", "false");
    opts.put("padding", "false");
    opts.put("maxLength", String.valueOf(Integer.MAX_VALUE / 2));
    HuggingFaceTokenizer hf;
    try {
      hf = HuggingFaceTokenizer.newInstance(tj, opts);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (RuntimeException e) {
      throw new InputException(tj, 0, null, "the tokenizers library cannot load it: " + e.getMessage(), e);
    }
    return new Tokenizer(hf, vocab, special, config);
  }

  private static JsonNode readJson(Path f) {
    try {
      JsonNode n = JSON.readTree(f.toFile());
      if (n == null || !n.isObject()) {
        throw new InputException(f, 0, null, "not a JSON object");
      }
      return n;
    } catch (JsonProcessingException e) {
      throw new InputException(f, e.getLocation() == null ? 0 : e.getLocation().getLineNr(), null,
          "invalid JSON: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code "<|im_end|>"} or {@code {"content": "<|im_end|>", ...}}; null when absent. */
  private static String tokenString(JsonNode config, String key) {
    JsonNode n = config.get(key);
    if (n == null || n.isNull()) {
      return null;
    }
    if (n.isTextual()) {
      return n.asText();
    }
    JsonNode c = n.get("content");
    return c == null || c.isNull() ? null : c.asText();
  }

  /** Token ids of {@code text}; no special tokens are added. */
  public int[] encode(String text) {
    Encoding enc = hf.encode(text, false, false);
    long[] ids = enc.getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = Math.toIntExact(ids[i]);
    }
    return out;
  }

  /** Text of {@code ids}; with {@code skipSpecial}, tokens flagged special are dropped. */
  public String decode(int[] ids, boolean skipSpecial) {
    long[] l = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      l[i] = ids[i];
    }
    return hf.decode(l, skipSpecial);
  }

  /** Id of a token string (vocabulary or added token). */
  public OptionalInt findTokenId(String token) {
    Integer id = vocab.get(token);
    return id == null ? OptionalInt.empty() : OptionalInt.of(id);
  }

  /** Id of a token string; InputException when the tokenizer has no such token. */
  public int tokenId(String token) {
    Integer id = vocab.get(token);
    if (id == null) {
      throw new InputException("tokenizer has no token " + token);
    }
    return id;
  }

  /** Whether {@code token} is a single token of this tokenizer. */
  public boolean hasToken(String token) {
    return vocab.containsKey(token);
  }

  /** Whether all of {@code <think>, </think>, <answer>, </answer>} are single tokens. */
  public boolean hasReasoningTags() {
    return REASONING_TAGS.stream().allMatch(vocab::containsKey);
  }

  /** Whether {@code token} is an added token flagged special (skipped by decode with skipSpecial). */
  public boolean isSpecial(String token) {
    return Boolean.TRUE.equals(addedSpecial.get(token));
  }

  /** Number of ids, as {@code len(tokenizer)} in transformers: highest id + 1 over vocab and added tokens. */
  public int vocabSize() {
    return vocabSize;
  }

  /** {@code eos_token} of tokenizer_config.json (string or {content}); null when absent. */
  public String eosToken() {
    return eosToken;
  }

  /** Id of {@link #eosToken()}; empty when absent or unknown. */
  public OptionalInt eosTokenId() {
    return eosToken == null ? OptionalInt.empty() : findTokenId(eosToken);
  }

  /** {@code pad_token}; null when absent. */
  public String padToken() {
    return padToken;
  }

  public OptionalInt padTokenId() {
    return padToken == null ? OptionalInt.empty() : findTokenId(padToken);
  }

  /** {@code bos_token}; null when absent (Qwen2 has none). */
  public String bosToken() {
    return bosToken;
  }

  /** The raw tokenizer_config.json (an empty object when the file is absent). */
  public JsonNode config() {
    return config.deepCopy();
  }

  /** The chat template of tokenizer_config.json; see {@link ChatTemplate#fromConfig}. */
  public ChatTemplate chatTemplate() {
    return ChatTemplate.fromConfig(config, bosToken, eosToken);
  }

  /**
   * The chat template to use: {@code override} (the recipe key {@code chat_template}) when non-null
   * and non-blank, else the tokenizer's own.
   */
  public ChatTemplate chatTemplate(String override) {
    return override == null || override.isBlank() ? chatTemplate() : ChatTemplate.of(override, bosToken, eosToken);
  }

  /**
   * The template a recipe renders with: its {@code chat_template} (else the tokenizer's) with its
   * {@code chat_template_kwargs} bound to every render (SFT, GRPO prompts, generation, eval, serving).
   */
  public ChatTemplate chatTemplateFor(io.r1cluster.core.recipe.ModelSettings model) {
    return chatTemplate(model.chatTemplate()).withKwargs(model.chatTemplateKwargs());
  }

  @Override
  public void close() {
    hf.close();
  }
}
