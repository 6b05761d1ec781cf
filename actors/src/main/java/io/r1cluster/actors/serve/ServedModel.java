package io.r1cluster.actors.serve;

import ai.djl.Device;
import io.r1cluster.core.InputException;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model a server answers for: weights, tokenizer, chat template, the ids that end a
 * completion, its context length and the name clients put in {@code "model"}.
 *
 * <p>{@code MODEL} is {@code demo} (the built-in demo model: demo tokenizer, weights from
 * {@code seed}), a Hugging Face checkpoint folder, or a hub id in the local Hugging Face cache.
 */
public final class ServedModel implements AutoCloseable {
  private final String id;
  private final Models.Loaded loaded;
  private final ChatTemplate template;
  private final List<Integer> eosIds;
  private final boolean reasoning;
  private volatile int contextLimit = Integer.MAX_VALUE;

  public ServedModel(String id, Models.Loaded loaded) {
    this.id = id;
    this.loaded = loaded;
    ChatTemplate t;
    try {
      t = loaded.tokenizer().chatTemplate();
    } catch (InputException e) {
      t = null; // a base model without a template serves /v1/completions only
    }
    this.template = t;
    Tokenizer tok = loaded.tokenizer();
    this.eosIds = io.r1cluster.core.generate.StopTokens.of(tok, loaded.model().config());
    this.reasoning = tok.hasToken("</think>");
  }

  /**
   * Loads {@code model} on {@code device}; {@code servedName} (null: the argument as given) is the id
   * clients use.
   */
  public static ServedModel load(String model, String servedName, long seed, Device device) {
    Path work;
    try {
      work = Files.createTempDirectory("r1-serve");
      work.toFile().deleteOnExit();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Path asDir = Path.of(model);
    Models.Loaded l = !Models.isBuiltIn(model) && Files.isDirectory(asDir)
        ? Models.loadCheckpoint(asDir, device, ai.djl.ndarray.types.DataType.FLOAT32)
        : Models.load(model, null, seed, work, device);
    return new ServedModel(servedName == null ? model : servedName, l);
  }

  public String id() {
    return id;
  }

  public Qwen2Model model() {
    return loaded.model();
  }

  public Tokenizer tokenizer() {
    return loaded.tokenizer();
  }

  /** The chat template; null when the tokenizer has none. */
  public ChatTemplate template() {
    return template;
  }

  public List<Integer> eosIds() {
    return eosIds;
  }

  /** Prompt plus completion tokens at most: the model's context length, or less after {@link #limitContext}. */
  public int contextLength() {
    return Math.min(contextLimit, loaded.model().config().maxPositionEmbeddings());
  }

  /** Serves at most {@code tokens} of prompt plus completion (the engine's positions per row). */
  public void limitContext(int tokens) {
    contextLimit = tokens;
  }

  /** Whether {@code </think>} is a token: chat answers then split {@code reasoning_content} off. */
  public boolean reasoning() {
    return reasoning;
  }

  /** Completion text of {@code ids}, special tokens skipped. */
  public String decode(int[] ids) {
    return loaded.tokenizer().decode(ids, true);
  }

  @Override
  public void close() {
    loaded.close();
  }
}
