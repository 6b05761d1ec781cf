package io.r1cluster.core.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.recipe.ModelSettings;
import io.r1cluster.core.demo.DemoModel;
import io.r1cluster.core.tokenizer.DemoTokenizer;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resolves a recipe's {@code model_name_or_path}: {@code demo} is the built-in demo model (the
 * demo Qwen2 config and the generated demo tokenizer, randomly initialised from the seed),
 * {@code demo-small} a smaller one with the same tokenizer; anything
 * else is a Hugging Face checkpoint folder or a hub id in the local cache (single-file or sharded
 * safetensors, bf16/f16 converted to float32).
 */
public final class Models {
  /** The name that selects the built-in demo model. */
  public static final String DEMO = "demo";
  /**
   * A smaller built-in model with the same generated tokenizer as {@link #DEMO} (hidden 64, 2 layers):
   * the student of the demo distillation.
   */
  public static final String DEMO_SMALL = "demo-small";

  private Models() {}

  /**
   * A model with its tokenizer. {@code tokenizerDir} holds the tokenizer files (copied into every
   * checkpoint saved from this model).
   */
  public record Loaded(Qwen2Model model, Tokenizer tokenizer, Path tokenizerDir) implements AutoCloseable {
    @Override
    public void close() {
      model.close();
      tokenizer.close();
    }
  }

  /** Whether {@code name} selects a built-in model ({@code demo}, {@code demo-small}) rather than a checkpoint. */
  public static boolean isBuiltIn(String name) {
    return DEMO.equals(name) || DEMO_SMALL.equals(name);
  }

  /** The small demo model's config (same vocabulary as {@link #demoConfig}). */
  public static Qwen2Config demoSmallConfig(Tokenizer tok) {
    int eos = tok.tokenId("<|im_end|>");
    int bos = tok.tokenId("<|endoftext|>");
    return Qwen2Config.of(tok.vocabSize(), 64, 192, 2, 4, 2, 512, true).withTokens(bos, eos);
  }

  /** The demo model's config for the demo tokenizer, with its bos/eos ids. */
  public static Qwen2Config demoConfig(Tokenizer tok) {
    int eos = tok.tokenId("<|im_end|>");
    int bos = tok.tokenId("<|endoftext|>");
    return DemoModel.config(tok.vocabSize()).withTokens(bos, eos);
  }

  /**
   * Loads {@code nameOrPath}. For {@code demo}, the tokenizer is written under {@code workDir}
   * ({@code workDir/demo-tokenizer}) and the weights are initialised from {@code seed}.
   */
  public static Loaded load(String nameOrPath, String revision, long seed, Path workDir, Device device) {
    if (nameOrPath == null) {
      throw new InputException(null, 0, "model_name_or_path", "no model given");
    }
    if (isBuiltIn(nameOrPath)) {
      Path tokDir = demoTokenizerDir(workDir);
      Tokenizer tok = Tokenizer.load(tokDir);
      Qwen2Config cfg = DEMO.equals(nameOrPath) ? demoConfig(tok) : demoSmallConfig(tok);
      return new Loaded(Qwen2Model.random(cfg, device, seed), tok, tokDir);
    }
    return loadCheckpoint(HfCheckpoint.resolve(nameOrPath, revision == null ? "main" : revision), device,
        DataType.FLOAT32);
  }

  /** {@link #load(String, String, long, Path, Device)} on the process's device ({@link Devices#selected()}). */
  public static Loaded load(String nameOrPath, String revision, long seed, Path workDir) {
    return load(nameOrPath, revision, seed, workDir, Devices.selected());
  }

  /**
   * The model a recipe trains: {@code model_name_or_path} at {@code model_revision}, float32 (the
   * master weights), on the recipe's device ({@link Devices#forRecipe}: {@code --device}, {@code use_cpu},
   * {@code R1_DEVICE}, the default).
   */
  public static Loaded load(ModelSettings m, long seed, Path workDir) {
    Loaded l = load(m.modelNameOrPath(), m.modelRevision(), seed, workDir, Devices.forRecipe(m.useCpu()));
    forTraining(l.model(), m);
    return l;
  }

  /**
   * A recipe's precision on a float32 model it trains: {@code bf16: true} computes in bf16 over the
   * float32 master weights, {@code torch_dtype: bfloat16} saves checkpoints in bf16.
   */
  public static Qwen2Model forTraining(Qwen2Model model, ModelSettings m) {
    model.computeIn(m.bf16() ? DataType.BFLOAT16 : DataType.FLOAT32);
    model.saveAs(m.bfloat16() ? io.r1cluster.core.checkpoint.DType.BF16 : io.r1cluster.core.checkpoint.DType.F32);
    return model;
  }

  /**
   * File in a training checkpoint ({@code checkpoint-N/}) holding the float32 master weights when the
   * model weights beside it are saved in a narrower {@code torch_dtype} (bf16): resuming from it gives
   * back the exact master weights, not bf16-rounded ones.
   */
  public static final String MASTER_WEIGHTS_FILE = "master_weights.safetensors";

  /**
   * The model a recipe resumes training from {@code checkpoint} (a {@code checkpoint-N/} folder): float32
   * on the recipe's device, from {@link #MASTER_WEIGHTS_FILE} when the checkpoint has one (a bf16
   * {@code torch_dtype} run), else from its model weights; with the recipe's precision applied
   * ({@link #forTraining}) as for a fresh run.
   */
  public static Loaded resumeForTraining(Path checkpoint, ModelSettings m) {
    Device device = Devices.forRecipe(m.useCpu());
    Path master = checkpoint.resolve(MASTER_WEIGHTS_FILE);
    Loaded l;
    if (Files.isRegularFile(master)) {
      Qwen2Config cfg = Qwen2Config.read(checkpoint.resolve(HfCheckpoint.CONFIG_FILE));
      Qwen2Model model;
      try {
        model = Qwen2Model.fromTensors(cfg, io.r1cluster.core.checkpoint.SafeTensors.read(master), device, true);
      } catch (InputException e) {
        throw e.file() == null ? new InputException(master, 0, e.key(), e.detail()) : e;
      }
      try {
        l = new Loaded(model, Tokenizer.load(checkpoint), checkpoint);
      } catch (RuntimeException e) {
        model.close();
        throw e;
      }
    } else {
      l = loadCheckpoint(checkpoint, device, DataType.FLOAT32);
    }
    forTraining(l.model(), m);
    return l;
  }

  /**
   * Only the tokenizer of {@code nameOrPath} (no weights): the built-in demo tokenizer written to
   * {@code workDir/demo-tokenizer}, or the tokenizer files of a checkpoint folder or cached hub model.
   */
  public static Tokenizer loadTokenizer(String nameOrPath, String revision, Path workDir) {
    if (nameOrPath == null) {
      throw new InputException(null, 0, "model_name_or_path", "no model given");
    }
    return Tokenizer.load(isBuiltIn(nameOrPath) ? demoTokenizerDir(workDir)
        : HfCheckpoint.resolve(nameOrPath, revision == null ? "main" : revision));
  }

  /** Writes the built-in demo tokenizer to {@code workDir/demo-tokenizer} and returns that folder. */
  private static Path demoTokenizerDir(Path workDir) {
    Path dir = workDir.resolve("demo-tokenizer");
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    DemoTokenizer.write(dir);
    return dir;
  }

  /** A Hugging Face checkpoint folder: config.json, safetensors (one file or sharded), tokenizer files. */
  public static Loaded loadCheckpoint(Path dir) {
    return loadCheckpoint(dir, Devices.selected(), DataType.FLOAT32);
  }

  /**
   * A Hugging Face checkpoint folder on {@code device} with weights in {@code dtype} (FLOAT32, or
   * BFLOAT16 for generation and evaluation), read one tensor at a time.
   */
  public static Loaded loadCheckpoint(Path dir, Device device, DataType dtype) {
    if (!Files.isDirectory(dir)) {
      throw new InputException(dir, 0, "model_name_or_path", "no such checkpoint directory");
    }
    Qwen2Config cfg = Qwen2Config.read(dir.resolve(HfCheckpoint.CONFIG_FILE));
    Tokenizer tok = Tokenizer.load(dir);
    Qwen2Model model;
    try {
      model = Qwen2Model.loadStreaming(dir, cfg, device, dtype);
    } catch (InputException e) {
      tok.close();
      throw e.file() == null ? new InputException(dir, 0, e.key(), e.detail()) : e;
    }
    return new Loaded(model, tok, dir);
  }
}
