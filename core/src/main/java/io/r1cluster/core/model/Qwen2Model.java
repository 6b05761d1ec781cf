package io.r1cluster.core.model;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import io.r1cluster.core.device.Casts;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.device.PackedLinear;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.checkpoint.SafeTensors;
import io.r1cluster.core.checkpoint.TensorData;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The decoder of the Qwen2, Qwen3 and Llama families on DJL NDArrays (PyTorch engine), parameter
 * names as Hugging Face's {@code Qwen2ForCausalLM} / {@code Qwen3ForCausalLM} / {@code LlamaForCausalLM}.
 * The families differ only where {@link ModelFamily} says: q/k/v biases (Qwen2), per-head q/k
 * RMSNorm before rope (Qwen3, marked ⟨qk_norm⟩ below), head_dim, and the rotary frequencies
 * ({@link RopeScaling}: llama3, yarn; yarn also scales cos and sin).
 *
 * <p>Dimensions: B batch, T time, C hidden size, H query heads, K key/value heads, G = H/K query
 * heads per kv head, D head dim (C/H unless config head_dim says otherwise), F intermediate size, V vocabulary.
 *
 * <pre>
 * x = embed_tokens[ids]                                   [B,T,C]
 * for each layer:
 *   h = rmsnorm(x) · input_layernorm
 *   q = h Wqᵀ + bq → [B,H,T,D];  k, v = h Wkᵀ + bk, h Wvᵀ + bv → [B,K,T,D]   (biases: Qwen2 only)
 *   ⟨qk_norm⟩ q, k = rmsnorm(q) · q_norm, rmsnorm(k) · k_norm over D          (Qwen3 only)
 *   q, k = rope(q, pos), rope(k, pos)          (rotate_half: halves of D, not interleaved)
 *   k, v repeated G times per kv head → [B,H,T,D]          (HF repeat_kv)
 *   a = softmax(q kᵀ/√D + mask) v → [B,T,H·D];  x = x + a Woᵀ
 *   h = rmsnorm(x) · post_attention_layernorm
 *   x = x + (silu(h Wgateᵀ) ⊙ h Wupᵀ) Wdownᵀ
 * logits = rmsnorm(x) · norm  Wlmᵀ              (Wlm = embed_tokens when tied)
 * </pre>
 *
 * <p>Every temporary of a forward pass is created from the activations (never by calling an op on
 * a parameter), so it lives in the caller's scope manager; the parameters live in the model's own
 * manager.
 */
public final class Qwen2Model implements CausalLm, AutoCloseable {
  private final Qwen2Config config;
  private final NDManager manager;
  private final LinkedHashMap<String, NDArray> params = new LinkedHashMap<>();
  private final float[] invFreq;
  /** Factor on the rope cos/sin tables (yarn's attention factor; 1 otherwise). */
  private final float ropeScale;
  /** Parameter, activation and KV-cache type: FLOAT32, or BFLOAT16 for rollouts and evaluation. */
  private final DataType dtype;
  /**
   * Activation type: the weights' type, or BFLOAT16 over float32 weights (mixed precision, recipe
   * {@code bf16: true}): every forward pass then casts each float32 weight to bf16 inside the autograd
   * graph, so gradients, the optimizer and its state stay float32 (the master weights).
   */
  private volatile DataType compute;
  /** The type checkpoints of this model are written in (the recipe's {@code torch_dtype}; F32 by default). */
  private volatile DType savedAs = DType.F32;
  /** The bf16 copies of the float32 weights for the forward pass running on this thread (mixed precision). */
  private final ThreadLocal<Map<String, NDArray>> castWeights = new ThreadLocal<>();
  /**
   * bf16 models on the CPU: the projection matrices, held packed in oneDNN's layout instead of plain
   * ({@link PackedLinear}; {@code params} holds the packed array under the same name), and the LM head
   * (for a tied model a packed copy of the embedding, which stays plain for the lookup). Empty otherwise.
   */
  private final Map<String, NDArray> packed = new java.util.HashMap<>();
  /** Whether this model packs its projection matrices and LM head as they are loaded (bf16 on the CPU). */
  private final boolean packing;
  /**
   * Packed models fuse q/k/v ({@code self_attn.qkv}) and gate/up ({@code mlp.gate_up}) of each layer into
   * one packed matrix each (fewer, larger GEMVs per token): member name → {fused key, first row, rows};
   * {@code params} maps each member to the fused array, {@link #toTensors} slices its rows back out.
   */
  private final Map<String, Object[]> fusedRows = new java.util.HashMap<>();
  /** The concatenated q/k/v bias of a fused {@code self_attn.qkv} (Qwen2), by fused key. */
  private final Map<String, NDArray> fusedBias = new java.util.HashMap<>();
  private static final String[] QKV = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"};
  private static final String[] GATE_UP = {"mlp.gate_proj", "mlp.up_proj"};
  /** Name {@link #packed} keeps the LM head under. */
  private static final String HEAD = "lm_head.weight";

  private Qwen2Model(Qwen2Config config, Device device) {
    this(config, device, DataType.FLOAT32);
  }

  private Qwen2Model(Qwen2Config config, Device device, DataType dtype) {
    if (dtype != DataType.FLOAT32 && dtype != DataType.BFLOAT16) {
      throw new IllegalArgumentException("weights are float32 or bfloat16, not " + dtype);
    }
    this.config = config;
    this.dtype = dtype;
    this.compute = dtype;
    this.manager = Devices.manager(device);
    this.packing = dtype == DataType.BFLOAT16 && PackedLinear.available(device);
    invFreq = RopeScaling.invFreq(config.family().ropeScaling(), config.ropeTheta(), config.headDim());
    ropeScale = (float) RopeScaling.attentionScaling(config.family().ropeScaling());
  }

  /** HF names and shapes of every parameter of a config, in model order. */
  public static LinkedHashMap<String, long[]> parameterShapes(Qwen2Config c) {
    LinkedHashMap<String, long[]> s = new LinkedHashMap<>();
    long h = c.hiddenSize();
    long qd = (long) c.numAttentionHeads() * c.headDim();
    long kv = (long) c.numKeyValueHeads() * c.headDim();
    boolean bias = c.family().qkvBias();
    s.put("model.embed_tokens.weight", new long[] {c.vocabSize(), h});
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      String p = "model.layers." + l + ".";
      s.put(p + "input_layernorm.weight", new long[] {h});
      s.put(p + "self_attn.q_proj.weight", new long[] {qd, h});
      if (bias) {
        s.put(p + "self_attn.q_proj.bias", new long[] {qd});
      }
      s.put(p + "self_attn.k_proj.weight", new long[] {kv, h});
      if (bias) {
        s.put(p + "self_attn.k_proj.bias", new long[] {kv});
      }
      s.put(p + "self_attn.v_proj.weight", new long[] {kv, h});
      if (bias) {
        s.put(p + "self_attn.v_proj.bias", new long[] {kv});
      }
      s.put(p + "self_attn.o_proj.weight", new long[] {h, qd});
      if (c.family().qkNorm()) {
        s.put(p + "self_attn.q_norm.weight", new long[] {c.headDim()});
        s.put(p + "self_attn.k_norm.weight", new long[] {c.headDim()});
      }
      s.put(p + "post_attention_layernorm.weight", new long[] {h});
      s.put(p + "mlp.gate_proj.weight", new long[] {c.intermediateSize(), h});
      s.put(p + "mlp.up_proj.weight", new long[] {c.intermediateSize(), h});
      s.put(p + "mlp.down_proj.weight", new long[] {h, c.intermediateSize()});
    }
    s.put("model.norm.weight", new long[] {h});
    if (!c.tieWordEmbeddings()) {
      s.put("lm_head.weight", new long[] {c.vocabSize(), h});
    }
    return s;
  }

  /** Random initialisation: normal(0, initializer_range) for matrices, 1 for norms, 0 for biases. */
  public static Qwen2Model random(Qwen2Config config, Device device, long seed) {
    Qwen2Model m = new Qwen2Model(config, device);
    Random r = new Random(seed);
    for (var e : parameterShapes(config).entrySet()) {
      String name = e.getKey();
      int n = Math.toIntExact(TensorData.numel(e.getValue()));
      float[] v = new float[n];
      if (name.endsWith("norm.weight")) {
        Arrays.fill(v, 1f);
      } else if (!name.endsWith(".bias")) {
        for (int i = 0; i < n; i++) {
          v[i] = (float) (r.nextGaussian() * config.initializerRange());
        }
      }
      m.put(name, m.manager.create(v, new Shape(e.getValue())));
    }
    return m;
  }

  /** A model from named tensors (F32, BF16, F16 are converted to float32). */
  public static Qwen2Model fromTensors(Qwen2Config config, Map<String, TensorData> tensors, Device device) {
    return fromTensors(config, tensors, device, DataType.FLOAT32, false);
  }

  /**
   * As {@link #fromTensors(Qwen2Config, Map, Device)}; with {@code requireFinite} (checkpoints read from
   * disk) a NaN or infinite weight is an {@link InputException} naming the tensor.
   */
  public static Qwen2Model fromTensors(Qwen2Config config, Map<String, TensorData> tensors, Device device,
      boolean requireFinite) {
    return fromTensors(config, tensors, device, DataType.FLOAT32, requireFinite);
  }

  /**
   * A model from named tensors in {@code dtype} (FLOAT32 or BFLOAT16): F32, BF16, F16 tensors are
   * converted (bf16 tensors into a bf16 model are copied bit for bit).
   */
  public static Qwen2Model fromTensors(Qwen2Config config, Map<String, TensorData> tensors, Device device,
      DataType dtype) {
    return fromTensors(config, tensors, device, dtype, false);
  }

  private static Qwen2Model fromTensors(Qwen2Config config, Map<String, TensorData> tensors, Device device,
      DataType dtype, boolean requireFinite) {
    checkTensors(config, tensors);
    Qwen2Model m = new Qwen2Model(config, device, dtype);
    for (var e : parameterShapes(config).entrySet()) {
      TensorData t = tensors.get(e.getKey());
      if (requireFinite) {
        requireFinite(null, t, m);
      }
      m.put(e.getKey(), m.param(t, new Shape(e.getValue())));
    }
    m.stage = null;
    m.packForInference();
    return m;
  }

  /**
   * Checks that {@code tensors} hold every parameter of {@code config} with its shape, in a floating
   * type, and no layer the config lacks: an {@link InputException} naming the tensor otherwise.
   */
  public static void checkTensors(Qwen2Config config, Map<String, TensorData> tensors) {
    for (String name : tensors.keySet()) {
      checkLayerInConfig(config, null, name);
    }
    for (var e : parameterShapes(config).entrySet()) {
      TensorData t = tensors.get(e.getKey());
      if (t == null) {
        throw new InputException(null, 0, e.getKey(), "missing tensor in checkpoint");
      }
      if (!Arrays.equals(t.shape(), e.getValue())) {
        throw new InputException(null, 0, e.getKey(), "shape " + Arrays.toString(t.shape()) + " but the config needs "
            + Arrays.toString(e.getValue()));
      }
      if (!t.dtype().isFloat()) {
        throw new InputException(null, 0, e.getKey(), "dtype " + t.dtype() + " is not a floating type");
      }
    }
  }

  /**
   * Whether {@link #overwrite} can update this model in place: not when it runs on packed weights
   * (bf16 on the CPU), whose packed and fused copies only {@link #fromTensors} builds.
   */
  public boolean overwritable() {
    return packed.isEmpty();
  }

  /**
   * Writes {@code tensors} into this model's parameters in place, converted to its dtype (bf16 into a
   * bf16 model bit for bit), at most {@link #STAGE_ELEMS} elements at a time: a weight update that
   * never holds a second copy of the model on its device (a rollout engine's new policy version).
   * Everything is checked first ({@link #checkTensors}): a bad snapshot writes nothing. Not for a model
   * that is generating or training at the same time, nor a packed one ({@link #overwritable}).
   */
  public void overwrite(Map<String, TensorData> tensors) {
    if (!overwritable()) {
      throw new IllegalStateException("a model on packed bf16 weights is rebuilt (fromTensors), not overwritten");
    }
    checkTensors(config, tensors);
    try (NDManager scope = manager.newSubManager()) {
      for (var e : parameterShapes(config).entrySet()) {
        TensorData t = tensors.get(e.getKey());
        NDArray target = params.get(e.getKey());
        long[] dims = e.getValue();
        long rows = dims.length == 0 ? 1 : dims[0];
        long rowElems = dims.length == 0 ? 1 : t.numel() / Math.max(1, rows);
        long chunkRows = Math.max(1, rowElems == 0 ? rows : STAGE_ELEMS / rowElems);
        for (long r0 = 0; r0 < rows; r0 += chunkRows) {
          long n = Math.min(chunkRows, rows - r0);
          long[] part = dims.clone();
          if (part.length > 0) {
            part[0] = n;
          }
          try (NDManager chunkScope = scope.newSubManager()) {
            NDArray f32 = staged(t, r0 * rowElems, Math.toIntExact(n * rowElems), new Shape(part), chunkScope);
            NDArray v = dtype == DataType.BFLOAT16 ? Casts.toBf16(f32) : f32;
            v.attach(chunkScope);
            if (dims.length == 0) {
              target.set(new ai.djl.ndarray.index.NDIndex("..."), v);
            } else {
              target.set(new ai.djl.ndarray.index.NDIndex(r0 + ":" + (r0 + n)), v);
            }
          }
        }
      }
    } finally {
      stage = null;
    }
  }

  /**
   * Elements {@code [from, from + elems)} of {@code t} as a float32 array of {@code shape} on this
   * model's device, staged in the reused direct buffer (exact for bf16 and f16 input): valid until
   * the next call.
   */
  private NDArray staged(TensorData t, long from, int elems, Shape shape, NDManager scope) {
    ByteBuffer staged = staging(elems);
    java.nio.FloatBuffer f32 = staged.asFloatBuffer();
    ByteBuffer src = t.data();
    int bytes = t.dtype().bytes();
    int off = Math.toIntExact(from * bytes);
    if (t.dtype() == DType.BF16) {
      for (int i = 0; i < elems; i++) {
        f32.put(i, Float.intBitsToFloat((src.getShort(off + 2 * i) & 0xFFFF) << 16));
      }
    } else {
      f32.put(0, new TensorData(t.name(), t.dtype(), new long[] {elems}, src.slice(off, elems * bytes)).toFloats());
    }
    return scope.create(staged, shape, DataType.FLOAT32);
  }

  /**
   * Loads a Hugging Face checkpoint folder ({@code model.safetensors} or shards) into {@code dtype},
   * one tensor at a time: the process holds at most one tensor's file bytes besides the model, so
   * peak memory is the model's size in {@code dtype} plus the largest tensor.
   */
  public static Qwen2Model loadStreaming(Path dir, Qwen2Config config, Device device, DataType dtype) {
    LinkedHashMap<String, long[]> shapes = parameterShapes(config);
    Qwen2Model m = new Qwen2Model(config, device, dtype);
    try {
      for (Path f : HfCheckpoint.weightFiles(dir)) {
        SafeTensors.forEachTransient(f, t -> { // t's bytes are reused after this call: param() copies them
          checkLayerInConfig(config, f, t.name());
          long[] want = shapes.get(t.name());
          if (want == null) {
            return; // e.g. lm_head.weight of a tied checkpoint: transformers ignores it too
          }
          if (!Arrays.equals(t.shape(), want)) {
            throw new InputException(f, 0, t.name(), "shape " + Arrays.toString(t.shape()) + " but the config needs "
                + Arrays.toString(want));
          }
          if (!t.dtype().isFloat()) {
            throw new InputException(f, 0, t.name(), "dtype " + t.dtype() + " is not a floating type");
          }
          requireFinite(f, t, null);
          m.put(t.name(), m.param(t, new Shape(want)));
        });
      }
      for (String name : shapes.keySet()) {
        if (!m.params.containsKey(name)) {
          throw new InputException(dir, 0, name, "missing tensor in checkpoint");
        }
      }
    } catch (RuntimeException e) {
      m.close();
      throw e;
    }
    // keep model order (the optimizer and the wire format iterate parameters in it)
    LinkedHashMap<String, NDArray> ordered = new LinkedHashMap<>();
    shapes.keySet().forEach(n -> ordered.put(n, m.params.get(n)));
    m.params.clear();
    m.params.putAll(ordered);
    m.stage = null;
    m.packForInference();
    return m;
  }

  private static final java.util.regex.Pattern LAYER_NAME = java.util.regex.Pattern.compile("model\\.layers\\.(\\d+)\\..*");

  /** Weights of layers the config does not have would otherwise be dropped silently. */
  private static void checkLayerInConfig(Qwen2Config config, Path file, String name) {
    java.util.regex.Matcher lm = LAYER_NAME.matcher(name);
    if (lm.matches() && Long.parseLong(lm.group(1)) >= config.numHiddenLayers()) {
      throw new InputException(file, 0, name, "the checkpoint has weights for layer " + lm.group(1)
          + " but config.json says num_hidden_layers: " + config.numHiddenLayers());
    }
  }

  /**
   * A NaN or infinite weight read from disk is an {@link InputException} naming the tensor. Reads the
   * stored bits in place (no float copy of the tensor): a value is non-finite when its exponent bits
   * are all ones.
   */
  private static void requireFinite(Path file, TensorData t, Qwen2Model toClose) {
    ByteBuffer b = t.data();
    long n = t.numel();
    for (int i = 0; i < n; i++) {
      boolean finite = switch (t.dtype()) {
        case F32 -> Float.isFinite(b.getFloat(i * 4));
        case F64 -> Double.isFinite(b.getDouble(i * 8));
        case BF16 -> (b.getShort(i * 2) & 0x7F80) != 0x7F80;
        case F16 -> (b.getShort(i * 2) & 0x7C00) != 0x7C00;
        default -> true;
      };
      if (!finite) {
        if (toClose != null) {
          toClose.close();
        }
        throw new InputException(file, 0, t.name(), "a non-finite value (NaN or infinity) at flat index " + i
            + ": the checkpoint's weights must be finite");
      }
    }
  }

  /** Elements per float32 staging chunk when a bf16 parameter is built (32 MiB). */
  private static final int STAGE_ELEMS = 8 << 20;

  /**
   * A parameter in this model's dtype. bf16: DJL cannot create bf16 tensors from bytes (see
   * {@link Casts}), so rows are staged in float32 (exact for bf16 input) at most {@link #STAGE_ELEMS}
   * at a time and cast; peak extra memory is one chunk plus, for a tensor of several chunks, its bf16
   * pieces before they are joined.
   */
  private NDArray param(TensorData t, Shape shape) {
    if (dtype == DataType.FLOAT32) {
      return manager.create(t.toFloats(), shape);
    }
    long rows = shape.dimension() == 0 ? 1 : shape.get(0);
    long rowElems = rows == 0 ? 0 : t.numel() / rows;
    long chunkRows = Math.max(1, rowElems == 0 ? rows : STAGE_ELEMS / rowElems);
    NDList parts = new NDList();
    try (NDManager stage = manager.newSubManager()) {
      for (long r0 = 0; r0 < Math.max(rows, 1); r0 += chunkRows) {
        long n = Math.min(chunkRows, rows - r0);
        long[] dims = shape.getShape();
        if (dims.length > 0) {
          dims[0] = n;
        }
        int elems = Math.toIntExact(dims.length == 0 ? 1 : n * rowElems);
        // float32 rows in the reused direct staging buffer; the array shares it until the cast has copied it
        try (NDArray f = staged(t, dims.length == 0 ? 0 : r0 * rowElems, elems, new Shape(dims), stage)) {
          parts.add(Casts.toBf16(f));
        }
      }
      NDArray joined = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
      joined.attach(manager);
      return joined;
    }
  }

  /**
   * bf16 on the CPU, after loading: the packed copy of a tied model's LM head (the embedding stays
   * plain for the lookup, so a tied model holds it twice: +vocab·hidden bf16). The projection matrices
   * and an untied head were packed one by one as they were loaded ({@link #put}), so loading never
   * holds a plain and a packed copy of the whole model.
   */
  private void packForInference() {
    if (!packing) {
      return;
    }
    for (int l = 0; l < config.numHiddenLayers(); l++) { // normally fused already while loading (put)
      String pre = "model.layers." + l + ".";
      if (!packed.containsKey(pre + "self_attn.qkv")) {
        fuse(pre, "self_attn.qkv", QKV);
      }
      if (!packed.containsKey(pre + "mlp.gate_up")) {
        fuse(pre, "mlp.gate_up", GATE_UP);
      }
    }
    if (config.tieWordEmbeddings()) {
      NDArray p = PackedLinear.pack(params.get("model.embed_tokens.weight"));
      p.attach(manager);
      packed.put(HEAD, p);
    }
  }

  /** Packs the row-concatenation of the layer's {@code members} weights (and biases) as {@code pre + key}. */
  private void fuse(String pre, String key, String[] members) {
    ai.djl.ndarray.NDList ws = new ai.djl.ndarray.NDList();
    ai.djl.ndarray.NDList bs = new ai.djl.ndarray.NDList();
    for (String m : members) {
      ws.add(params.get(pre + m + ".weight"));
      NDArray bias = params.get(pre + m + ".bias");
      if (bias != null) {
        bs.add(bias);
      }
    }
    NDArray cat = NDArrays.concat(ws, 0);
    NDArray fused = PackedLinear.pack(cat);
    fused.attach(manager);
    cat.close();
    if (!bs.isEmpty()) {
      NDArray b = NDArrays.concat(bs, 0);
      b.attach(manager);
      fusedBias.put(pre + key, b);
    }
    long row = 0;
    for (String m : members) {
      String n = pre + m + ".weight";
      NDArray plain = params.get(n);
      long rows = plain.getShape().get(0);
      fusedRows.put(n, new Object[] {pre + key, row, rows});
      row += rows;
      plain.close();
      params.put(n, fused);
    }
    packed.put(pre + key, fused);
  }

  /** The fused packed {@code pre + key} applied to x, split along the last axis into the members' outputs; null if not fused. */
  private NDArray[] fusedLinear(NDArray x, String pre, String key, String[] members) {
    NDArray w = packed.get(pre + key);
    if (w == null) {
      return null;
    }
    NDArray all = PackedLinear.linear(x, w, fusedBias.get(pre + key));
    NDArray[] out = new NDArray[members.length];
    long col = 0;
    for (int i = 0; i < members.length; i++) {
      long rows = (long) fusedRows.get(pre + members[i] + ".weight")[2];
      out[i] = all.get("..., " + col + ":" + (col + rows));
      col += rows;
    }
    return out;
  }

  /** Packed matrices this model multiplies by (4 per layer when q/k/v and gate/up are fused, plus the head). */
  int packedMatrices() {
    return packed.size();
  }

  /** Whether this model runs its projections and LM head on packed bf16 weights ({@link PackedLinear}). */
  public boolean packed() {
    return !packed.isEmpty();
  }

  /** x Wᵀ (+ b) for the parameter {@code weight} (and {@code bias}, null or absent for none). */
  private NDArray linear(NDArray x, String weight, String bias) {
    NDArray b = bias == null ? null : p(bias);
    NDArray w = packed.get(weight);
    if (w != null) {
      return PackedLinear.linear(x, w, b);
    }
    return Linear.linear(x, p(weight), b).get(0);
  }

  /** The LM head: logits x Wᵀ with W = lm_head, or the embedding when tied. */
  NDArray head(NDArray x) {
    return linear(x, packed.containsKey(HEAD) || !config.tieWordEmbeddings() ? HEAD : "model.embed_tokens.weight", null);
  }

  /** The staging buffer of {@link #param} (direct, native order, one per model, only while loading). */
  private ByteBuffer stage;

  private ByteBuffer staging(int elems) {
    if (stage == null || stage.capacity() < elems * 4) {
      stage = ByteBuffer.allocateDirect(Math.max(elems, 1) * 4).order(ByteOrder.nativeOrder());
    }
    ByteBuffer b = stage.duplicate();
    b.position(0).limit(elems * 4);
    return b.slice().order(ByteOrder.nativeOrder());
  }


  /** The device the parameters (and every activation and KV cache of this model) live on. */
  public Device device() {
    return manager.getDevice();
  }

  /** The parameters' element type (FLOAT32 or BFLOAT16). */
  public DataType dataType() {
    return dtype;
  }

  /** Saves checkpoints in {@code type} (F32 or BF16: the recipe's {@code torch_dtype}). */
  public Qwen2Model saveAs(DType type) {
    if (type != DType.F32 && type != DType.BF16) {
      throw new IllegalArgumentException("checkpoints are saved in F32 or BF16, not " + type);
    }
    savedAs = type;
    return this;
  }

  /** The type checkpoints of this model are written in. */
  public DType savedAs() {
    return savedAs;
  }

  /** {@code config.json} for a checkpoint of this model: its config with {@code torch_dtype} = {@link #savedAs}. */
  public com.fasterxml.jackson.databind.node.ObjectNode checkpointConfig() {
    com.fasterxml.jackson.databind.node.ObjectNode n = config.toJson();
    n.put("torch_dtype", savedAs == DType.BF16 ? "bfloat16" : "float32");
    return n;
  }

  /** The activations' element type (see {@link #computeIn}). */
  public DataType computeType() {
    return compute;
  }

  /**
   * Computes in {@code type} from now on: BFLOAT16 over float32 weights is mixed precision (bf16
   * matmuls, float32 master weights and gradients); FLOAT32 goes back. A bf16 model computes in bf16.
   */
  public Qwen2Model computeIn(DataType type) {
    if (type != DataType.FLOAT32 && type != DataType.BFLOAT16) {
      throw new IllegalArgumentException("compute is float32 or bfloat16, not " + type);
    }
    if (dtype == DataType.BFLOAT16 && type != DataType.BFLOAT16) {
      throw new IllegalArgumentException("a bf16 model computes in bf16");
    }
    compute = type;
    return this;
  }

  /** Mixed precision: the bf16 copies of the weights for one forward pass, in {@code scope}. */
  private boolean beginForward(NDManager scope) {
    if (compute == dtype) {
      return false;
    }
    Map<String, NDArray> w = new java.util.HashMap<>();
    for (var e : params.entrySet()) {
      NDArray b = Casts.toBf16(e.getValue());
      b.attach(scope);
      w.put(e.getKey(), b);
    }
    castWeights.set(w);
    return true;
  }

  /** Loads {@code config.json} + {@code model.safetensors} from a Hugging Face checkpoint directory. */
  public static Qwen2Model load(Path dir, Device device) {
    Qwen2Config cfg = Qwen2Config.read(dir.resolve("config.json"));
    Path st = dir.resolve("model.safetensors");
    if (!Files.exists(st)) {
      throw new InputException(dir, 0, null, "no model.safetensors in checkpoint directory");
    }
    try {
      return fromTensors(cfg, SafeTensors.read(st), device, true);
    } catch (InputException e) {
      throw e.file() == null ? new InputException(st, 0, e.key(), e.detail()) : e;
    }
  }

  /** Writes {@code config.json} and {@code model.safetensors} (in {@link #savedAs}) into {@code dir}. */
  public void save(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("config.json"), checkpointConfig().toPrettyString() + "\n");
    SafeTensors.write(dir.resolve("model.safetensors"), toTensors(savedAs), Map.of());
  }

  /**
   * The parameters as HF-named tensors in the given floating dtype. Float32 export copies each
   * tensor once (native → one direct buffer); other dtypes add the conversion pass.
   */
  public List<TensorData> toTensors(DType dtype) {
    List<TensorData> out = new ArrayList<>();
    Map<String, NDArray> unpackedFused = new java.util.HashMap<>();
    try (NDManager fusedScope = manager.newSubManager()) {
    for (var e : params.entrySet()) {
      if (this.dtype == DataType.FLOAT32) {
        ByteBuffer b = e.getValue().toByteBuffer().order(ByteOrder.LITTLE_ENDIAN); // one copy out of native memory
        out.add(new TensorData(e.getKey(), DType.F32, e.getValue().getShape().getShape(), b).convert(dtype));
      } else { // bf16 leaves through float32 (exact; DJL cannot read bf16 bytes, see Casts)
        try (NDManager s = manager.newSubManager()) {
          NDArray plain = e.getValue();
          Object[] fr = fusedRows.get(e.getKey());
          if (fr != null) { // rows of a fused q/k/v or gate/up matrix (unpacked once per export)
            NDArray un = unpackedFused.computeIfAbsent((String) fr[0], k -> {
              NDArray u = PackedLinear.unpack(packed.get(k));
              u.attach(fusedScope);
              return u;
            });
            long r0 = (long) fr[1];
            plain = un.get(r0 + ":" + (r0 + (long) fr[2]));
            plain.attach(s);
          } else if (packed.containsKey(e.getKey())) {
            plain = PackedLinear.unpack(plain);
            plain.attach(s);
          }
          NDArray f = Casts.toFloat32(plain);
          f.attach(s);
          ByteBuffer b = f.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
          out.add(new TensorData(e.getKey(), DType.F32, plain.getShape().getShape(), b).convert(dtype));
        }
      }
    }
    }
    return out;
  }

  private void put(String name, NDArray a) {
    boolean fusedLater = name.endsWith("q_proj.weight") || name.endsWith("k_proj.weight")
        || name.endsWith("v_proj.weight") || name.endsWith("gate_proj.weight") || name.endsWith("up_proj.weight");
    if (packing && !fusedLater && (name.endsWith("_proj.weight") || name.equals(HEAD))) {
      NDArray p = PackedLinear.pack(a);
      p.attach(manager);
      a.close();
      a = p;
      packed.put(name, p);
    }
    a.setName(name);
    params.put(name, a);
    boolean member = fusedLater || name.endsWith("q_proj.bias") || name.endsWith("k_proj.bias")
        || name.endsWith("v_proj.bias");
    if (packing && member) { // fuse a layer's group as soon as its members (and biases) are all loaded
      java.util.regex.Matcher lm = LAYER_NAME.matcher(name);
      if (lm.matches()) {
        String pre = "model.layers." + lm.group(1) + ".";
        boolean attn = name.contains("self_attn.");
        String[] group = attn ? QKV : GATE_UP;
        String key = attn ? "self_attn.qkv" : "mlp.gate_up";
        boolean all = !packed.containsKey(pre + key);
        for (String m : group) {
          all &= params.containsKey(pre + m + ".weight")
              && (!config.family().qkvBias() || !attn || params.containsKey(pre + m + ".bias"));
        }
        if (all) {
          fuse(pre, key, group);
        }
      }
    }
  }

  @Override
  public Qwen2Config config() {
    return config;
  }

  /**
   * The parameters by HF name. In a packed bf16 model ({@link #packed()}) the projection matrices and
   * an untied LM head are opaque oneDNN tensors: read weights through {@link #toTensors} instead.
   */
  @Override
  public Map<String, NDArray> parameters() {
    return Collections.unmodifiableMap(params);
  }

  /** The manager that owns the parameters. */
  public NDManager manager() {
    return manager;
  }

  NDArray p(String name) {
    Map<String, NDArray> w = castWeights.get();
    return w != null ? w.get(name) : params.get(name);
  }

  @Override
  public NDArray logits(NDManager scope, NDArray inputIds, NDArray segmentIds, NDArray positionIds) {
    boolean mixed = beginForward(scope);
    try {
      return logitsIn(scope, inputIds, segmentIds, positionIds);
    } finally {
      if (mixed) {
        castWeights.remove();
      }
    }
  }

  private NDArray logitsIn(NDManager scope, NDArray inputIds, NDArray segmentIds, NDArray positionIds) {
    long b = inputIds.getShape().get(0);
    long t = inputIds.getShape().get(1);
    NDArray ids = inputIds.toType(DataType.INT64, false);
    ids.attach(scope);
    NDArray x = Embedding.embedding(ids, p("model.embed_tokens.weight"), SparseFormat.DENSE).get(0); // [B,T,C]
    x.attach(scope);
    NDArray[] rope = rope(scope, positionIds); // cos, sin [B,1,T,D]
    // additive mask [B,1,T,T]: 0 where allowed, -1e9 elsewhere (exp underflows to exactly 0)
    NDArray bias = attentionMask(scope, segmentIds, t).toType(DataType.FLOAT32, false).sub(1f).mul(1e9f);
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      x = layer(l, x, rope, bias, b, t);
    }
    NDArray h = rmsNorm(x, p("model.norm.weight"));
    return toFloat32(head(h)); // [B,T,V]
  }

  /** Logits leave the model in float32 whatever the weights' type (losses and sampling read them so). */
  NDArray toFloat32(NDArray x) {
    return compute == DataType.FLOAT32 ? x : Casts.toFloat32(x);
  }

  /** softmax(scores + bias) over the last axis; in float32 for bf16 models (as transformers does). */
  NDArray softmax(NDArray scores, NDArray bias) {
    if (compute == DataType.FLOAT32) {
      return scores.add(bias).softmax(-1);
    }
    return Casts.toBf16(Casts.toFloat32(scores).add(bias).softmax(-1));
  }

  private NDArray layer(int l, NDArray x, NDArray[] rope, NDArray bias, long b, long t) {
    String pre = "model.layers." + l + ".";
    int hq = config.numAttentionHeads();
    int hk = config.numKeyValueHeads();
    int d = config.headDim();
    NDArray[] qkv = projectQkv(pre, x, rope, b, t);
    NDArray q = qkv[0]; // [B,H,T,D]
    NDArray k = qkv[1]; // [B,K,T,D]
    NDArray v = qkv[2]; // [B,K,T,D]
    k = repeatKv(k, hq / hk, b, t, d); // [B,H,T,D]
    v = repeatKv(v, hq / hk, b, t, d);
    NDArray scores = Nd.div(q.matMul(k.transpose(0, 1, 3, 2)), Math.sqrt(d)); // [B,H,T,T]
    NDArray attn = softmax(scores, bias).matMul(v); // [B,H,T,D]
    attn = attn.transpose(0, 2, 1, 3).reshape(b, t, (long) hq * d); // [B,T,C]
    return outputAndMlp(pre, x, attn);
  }

  /** Pre-norm, q/k/v projections with bias, rotary embeddings: q [B,H,t,D], k and v [B,K,t,D]. */
  NDArray[] projectQkv(String pre, NDArray x, NDArray[] rope, long b, long t) {
    int hq = config.numAttentionHeads();
    int hk = config.numKeyValueHeads();
    int d = config.headDim();
    NDArray h = rmsNorm(x, p(pre + "input_layernorm.weight"));
    NDArray[] qkv = fusedLinear(h, pre, "self_attn.qkv", QKV);
    NDArray q = (qkv != null ? qkv[0] : linear(h, pre + "self_attn.q_proj.weight", pre + "self_attn.q_proj.bias"))
        .reshape(b, t, hq, d); // [B,T,H,D]
    NDArray k = (qkv != null ? qkv[1] : linear(h, pre + "self_attn.k_proj.weight", pre + "self_attn.k_proj.bias"))
        .reshape(b, t, hk, d); // [B,T,K,D]
    if (config.family().qkNorm()) { // Qwen3: RMSNorm over D of every head, before rope
      q = rmsNorm(q, p(pre + "self_attn.q_norm.weight"));
      k = rmsNorm(k, p(pre + "self_attn.k_norm.weight"));
    }
    q = q.transpose(0, 2, 1, 3); // [B,H,T,D]
    k = k.transpose(0, 2, 1, 3); // [B,K,T,D]
    NDArray v = (qkv != null ? qkv[2] : linear(h, pre + "self_attn.v_proj.weight", pre + "self_attn.v_proj.bias"))
        .reshape(b, t, hk, d).transpose(0, 2, 1, 3);
    return new NDArray[] {applyRope(q, rope), applyRope(k, rope), v};
  }

  /** x + o_proj(attn), then x + down(silu(gate(h)) ⊙ up(h)) with h = post-attention norm. */
  NDArray outputAndMlp(String pre, NDArray x, NDArray attn) {
    x = x.add(linear(attn, pre + "self_attn.o_proj.weight", null));
    NDArray h2 = rmsNorm(x, p(pre + "post_attention_layernorm.weight"));
    NDArray[] gu = fusedLinear(h2, pre, "mlp.gate_up", GATE_UP);
    NDArray gate = gu != null ? gu[0] : linear(h2, pre + "mlp.gate_proj.weight", null); // [B,T,F]
    NDArray up = gu != null ? gu[1] : linear(h2, pre + "mlp.up_proj.weight", null);
    NDArray act = gate.mul(gate.getNDArrayInternal().sigmoid()).mul(up); // silu(gate) ⊙ up
    return x.add(linear(act, pre + "mlp.down_proj.weight", null));
  }

  /** x / sqrt(mean(x²) + eps) · w over the last axis. */
  NDArray rmsNorm(NDArray x, NDArray w) {
    if (compute != DataType.FLOAT32) { // the statistics in float32, the result back in the model's type (HF)
      NDArray xf = Casts.toFloat32(x);
      NDArray var = xf.square().mean(new int[] {-1}, true);
      return Casts.toBf16(xf.div(var.add(config.rmsNormEps()).sqrt())).mul(w);
    }
    NDArray var = x.square().mean(new int[] {-1}, true);
    return x.div(var.add(config.rmsNormEps()).sqrt()).mul(w);
  }

  /** cos and sin tables [B,1,T,D] for the given positions [B,T]. */
  NDArray[] rope(NDManager scope, NDArray positionIds) {
    NDArray pos = positionIds.toType(DataType.FLOAT32, false).expandDims(-1); // [B,T,1]
    pos.attach(scope);
    NDArray inv = scope.create(invFreq).reshape(1, 1, invFreq.length); // [1,1,D/2]
    NDArray freqs = pos.mul(inv); // [B,T,D/2]
    NDArray emb = NDArrays.concat(new NDList(freqs, freqs), -1).expandDims(1); // [B,1,T,D]
    NDArray cos = emb.cos();
    NDArray sin = emb.sin();
    if (ropeScale != 1f) { // yarn: cos, sin · attention_factor
      cos = cos.mul(ropeScale);
      sin = sin.mul(ropeScale);
    }
    if (compute != DataType.FLOAT32) { // tables computed in float32, used in the activations' type (HF)
      return new NDArray[] {Casts.toBf16(cos), Casts.toBf16(sin)};
    }
    return new NDArray[] {cos, sin};
  }

  /** x·cos + rotate_half(x)·sin with rotate_half(x) = [−x₂, x₁] over the halves of D. */
  static NDArray applyRope(NDArray x, NDArray[] cs) {
    long d = x.getShape().get(3);
    NDArray x1 = x.get(":, :, :, 0:" + d / 2);
    NDArray x2 = x.get(":, :, :, " + d / 2 + ":");
    NDArray rot = NDArrays.concat(new NDList(x2.neg(), x1), -1);
    return x.mul(cs[0]).add(rot.mul(cs[1]));
  }

  /** [B,K,T,D] → [B,K·G,T,D], each kv head repeated G times in place (HF repeat_kv). */
  static NDArray repeatKv(NDArray x, int g, long b, long t, long d) {
    if (g == 1) {
      return x;
    }
    long k = x.getShape().get(1);
    return x.expandDims(2).repeat(2, g).reshape(b, k * g, t, d);
  }

  /** allowed[b,0,i,j] = j ≤ i ∧ seg[b,i] = seg[b,j] ≠ 0, plus i = j so padding rows stay finite. */
  static NDArray attentionMask(NDManager scope, NDArray segmentIds, long t) {
    NDArray seg = segmentIds.toType(DataType.INT64, false);
    seg.attach(scope);
    NDArray same = seg.expandDims(2).eq(seg.expandDims(1)); // [B,T,T]
    NDArray keyReal = seg.expandDims(1).neq(0); // [B,1,T]
    NDArray ar = scope.arange(t);
    NDArray causal = ar.expandDims(1).gte(ar.expandDims(0)); // [T,T] i ≥ j
    NDArray eye = ar.expandDims(1).eq(ar.expandDims(0));
    NDArray allowed = same.logicalAnd(keyReal).logicalAnd(causal).logicalOr(eye);
    return allowed.expandDims(1); // [B,1,T,T]
  }

  /**
   * Key/value cache of an incremental decode: per layer k, v [B,K,S,D] and which of the S cached
   * positions are real tokens (left padding is not). Owned by its own manager; close it when done.
   */
  public static final class KvCache implements AutoCloseable {
    final NDManager mgr;
    final NDArray[] k;
    final NDArray[] v;
    NDArray valid; // [B,S] float32, 1 = real token
    long length;

    KvCache(NDManager parent, int layers) {
      this.mgr = parent.newSubManager();
      this.k = new NDArray[layers];
      this.v = new NDArray[layers];
    }

    public long length() {
      return length;
    }

    @Override
    public void close() {
      mgr.close();
    }
  }

  /** A fresh, empty cache. */
  public KvCache newCache() {
    return new KvCache(manager, config.numHiddenLayers());
  }

  /**
   * Incremental forward: runs t new tokens per row against the cache and appends them to it.
   *
   * @param scope owner of temporaries and the result
   * @param ids [B,t] new token ids
   * @param valid [B,t] 1 for real tokens, 0 for (left) padding
   * @param positions [B,t] rotary positions of the new tokens
   * @return logits [B,t,V]
   */
  public NDArray forwardCached(NDManager scope, NDArray ids, NDArray valid, NDArray positions, KvCache cache) {
    return forwardCached(scope, ids, valid, positions, cache, false);
  }

  /**
   * As {@link #forwardCached(NDManager, NDArray, NDArray, NDArray, KvCache)}; with {@code lastOnly} the
   * LM head runs on the last of the t new positions only and the logits are [B,1,V] (a prefill that
   * only samples the next token: 1/t of the head's work and none of the [B,t,V] logits' memory).
   */
  public NDArray forwardCached(NDManager scope, NDArray ids, NDArray valid, NDArray positions, KvCache cache,
      boolean lastOnly) {
    boolean mixed = beginForward(scope);
    try {
      return forwardCachedIn(scope, ids, valid, positions, cache, lastOnly);
    } finally {
      if (mixed) {
        castWeights.remove();
      }
    }
  }

  private NDArray forwardCachedIn(NDManager scope, NDArray ids, NDArray valid, NDArray positions, KvCache cache,
      boolean lastOnly) {
    long b = ids.getShape().get(0);
    long t = ids.getShape().get(1);
    long past = cache.length;
    NDArray idsL = ids.toType(DataType.INT64, false);
    idsL.attach(scope);
    NDArray x = Embedding.embedding(idsL, p("model.embed_tokens.weight"), SparseFormat.DENSE).get(0); // [B,t,C]
    x.attach(scope);
    NDArray[] rope = rope(scope, positions);
    NDArray validF = valid.toType(DataType.FLOAT32, false);
    validF.attach(scope);
    NDArray allValid = cache.valid == null ? validF : cache.valid.concat(validF, 1); // [B,S+t]
    allValid.attach(scope);
    // key j (absolute) is visible to new query i iff valid[j] and j ≤ past + i; plus its own position
    NDArray qi = scope.arange(t).add(past).expandDims(1); // [t,1]
    NDArray kj = scope.arange(past + t).expandDims(0); // [1,S+t]
    NDArray causal = kj.lte(qi).toType(DataType.FLOAT32, false); // [t,S+t]
    NDArray self = kj.eq(qi).toType(DataType.FLOAT32, false);
    NDArray allowed = allValid.expandDims(1).mul(causal).add(self).clip(0, 1); // [B,t,S+t]
    NDArray bias = allowed.sub(1f).mul(1e9f).expandDims(1); // [B,1,t,S+t]
    int hq = config.numAttentionHeads();
    int hk = config.numKeyValueHeads();
    int d = config.headDim();
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      String pre = "model.layers." + l + ".";
      NDArray[] qkv = projectQkv(pre, x, rope, b, t);
      NDArray q = qkv[0]; // [B,H,t,D]
      NDArray k = qkv[1]; // [B,K,t,D]
      NDArray v = qkv[2];
      NDArray kAll = cache.k[l] == null ? k : cache.k[l].concat(k, 2); // [B,K,S+t,D]
      NDArray vAll = cache.v[l] == null ? v : cache.v[l].concat(v, 2);
      kAll.attach(cache.mgr);
      vAll.attach(cache.mgr);
      if (cache.k[l] != null && cache.k[l] != kAll) {
        cache.k[l].close();
        cache.v[l].close();
      }
      cache.k[l] = kAll;
      cache.v[l] = vAll;
      // grouped attention without materialising repeated k/v: query heads of kv head k are
      // consecutive (h = k·G + g), so q [B,H,t,D] → [B,K,G·t,D] attends to k [B,K,S+t,D] directly
      long g = hq / hk;
      long s = past + t;
      NDArray qg = q.reshape(b, hk, g * t, d);
      NDArray kT = kAll.transpose(0, 1, 3, 2);
      kT.attach(scope);
      NDArray scores = Nd.div(qg.matMul(kT), Math.sqrt(d)).reshape(b, hk, g, t, s); // [B,K,G,t,S]
      NDArray attn = softmax(scores, bias.expandDims(1)).reshape(b, hk, g * t, s).matMul(vAll)
          .reshape(b, hq, t, d).transpose(0, 2, 1, 3).reshape(b, t, (long) hq * d);
      x = outputAndMlp(pre, x, attn);
    }
    NDArray newValid = allValid.duplicate();
    newValid.attach(cache.mgr);
    if (cache.valid != null) {
      cache.valid.close();
    }
    cache.valid = newValid;
    cache.length = past + t;
    if (lastOnly && t > 1) {
      x = x.get(":, " + (t - 1) + ":, :"); // [B,1,C]
    }
    NDArray hN = rmsNorm(x, p("model.norm.weight"));
    return toFloat32(head(hN));
  }

  @Override
  public void close() {
    manager.close();
  }

  /** Helper so callers can build an {@link ai.djl.ndarray.NDList} without importing it. */
  private static final class NDList extends ai.djl.ndarray.NDList {
    NDList(NDArray... a) {
      super(a);
    }
  }
}
