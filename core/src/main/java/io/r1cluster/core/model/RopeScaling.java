package io.r1cluster.core.model;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * Rotary-embedding frequencies: the default ones, or a {@code rope_scaling} of type {@code llama3}
 * (Llama 3.1+, DeepSeek-R1-Distill-Llama) or {@code yarn} (Qwen2.5 long context), computed as
 * transformers' {@code modeling_rope_utils} does. {@code raw} is the config object as read, written
 * back unchanged on save.
 *
 * <pre>
 * default: inv[i] = 1 / θ^(2i/D), i &lt; D/2, attention scale 1
 * llama3:  wavelen = 2π/inv; low = L/low_freq_factor, high = L/high_freq_factor (L original context)
 *          inv' = inv/factor where wavelen &gt; low; inv where wavelen &lt; high;
 *          between: (1−s)·inv/factor + s·inv with s = (L/wavelen − low_ff)/(high_ff − low_ff); scale 1
 * yarn:    band [lo, hi] = floor/ceil of D·ln(L/(β·2π)) / (2 ln θ) for β = beta_fast (32), beta_slow (1),
 *          clamped to [0, D−1]; ramp r[i] = clamp((i − lo)/(hi − lo), 0, 1);
 *          inv' = inv/factor · r + inv · (1 − r); cos, sin multiplied by attention_factor
 *          (default 0.1·ln(factor) + 1). L = original_max_position_embeddings, else
 *          max_position_embeddings; an explicit factor is kept (transformers ≥ 4.56.2; 4.51–4.55
 *          replaced it by max_position_embeddings / L).
 * </pre>
 */
public record RopeScaling(String type, double factor, double lowFreqFactor, double highFreqFactor,
    int originalMaxPositionEmbeddings, Double attentionFactor, double betaFast, double betaSlow, boolean truncate,
    Double mscale, Double mscaleAllDim, JsonNode raw) {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> LLAMA3_KEYS = Set.of("type", "rope_type", "factor", "low_freq_factor",
      "high_freq_factor", "original_max_position_embeddings", "rope_theta");
  private static final Set<String> YARN_KEYS = Set.of("type", "rope_type", "factor", "original_max_position_embeddings",
      "attention_factor", "beta_fast", "beta_slow", "truncate", "mscale", "mscale_all_dim", "rope_theta");

  /**
   * The {@code rope_scaling} (or transformers 5 {@code rope_parameters}) object of {@code file}; null for
   * none or {@code default}. Any other type, or a key this type does not have, is an error naming the file
   * and the key.
   */
  public static RopeScaling parse(JsonNode n, Path file, String key, int maxPositionEmbeddings) {
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isObject()) {
      throw new InputException(file, 0, key, "must be an object or null");
    }
    String type = n.hasNonNull("rope_type") ? n.get("rope_type").asText() : n.path("type").asText("default");
    switch (type) {
      case "default":
        return null;
      case "llama3": {
        checkKeys(n, file, key, type, LLAMA3_KEYS);
        double factor = num(n, file, key, "factor", null);
        double lo = num(n, file, key, "low_freq_factor", null);
        double hi = num(n, file, key, "high_freq_factor", null);
        int orig = (int) num(n, file, key, "original_max_position_embeddings", null);
        if (hi <= lo) {
          throw new InputException(file, 0, key + ".high_freq_factor", "must be greater than low_freq_factor");
        }
        return new RopeScaling(type, factor, lo, hi, orig, 1.0, 0, 0, true, null, null, n.deepCopy());
      }
      case "yarn": {
        checkKeys(n, file, key, type, YARN_KEYS);
        double factor = num(n, file, key, "factor", null);
        if (factor < 1) {
          throw new InputException(file, 0, key + ".factor", "must be >= 1, got " + factor);
        }
        int orig = n.hasNonNull("original_max_position_embeddings")
            ? (int) num(n, file, key, "original_max_position_embeddings", null) : maxPositionEmbeddings;
        Double att = n.hasNonNull("attention_factor") ? num(n, file, key, "attention_factor", null) : null;
        Double ms = n.hasNonNull("mscale") ? num(n, file, key, "mscale", null) : null;
        Double msAll = n.hasNonNull("mscale_all_dim") ? num(n, file, key, "mscale_all_dim", null) : null;
        double bf = n.hasNonNull("beta_fast") ? num(n, file, key, "beta_fast", null) : 32;
        double bs = n.hasNonNull("beta_slow") ? num(n, file, key, "beta_slow", null) : 1;
        boolean truncate = n.path("truncate").asBoolean(true);
        return new RopeScaling(type, factor, 0, 0, orig, att, bf, bs, truncate, ms, msAll, n.deepCopy());
      }
      default:
        throw new InputException(file, 0, key + (n.hasNonNull("rope_type") ? ".rope_type" : ".type"),
            "rotary scaling '" + type + "' is not supported (supported: default, llama3, yarn)");
    }
  }

  private static void checkKeys(JsonNode n, Path file, String key, String type, Set<String> allowed) {
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String k = it.next();
      if (!allowed.contains(k)) {
        throw new InputException(file, 0, key + "." + k, "not a key of rope type '" + type + "' (known: "
            + new java.util.TreeSet<>(allowed) + ")");
      }
    }
  }

  private static double num(JsonNode n, Path file, String key, String k, Double dflt) {
    JsonNode v = n.get(k);
    if (v == null || v.isNull()) {
      if (dflt != null) {
        return dflt;
      }
      throw new InputException(file, 0, key + "." + k, "missing");
    }
    if (!v.isNumber()) {
      throw new InputException(file, 0, key + "." + k, "must be a number, got " + v);
    }
    return v.asDouble();
  }

  /** Inverse frequencies [D/2] for head dimension {@code d} and base {@code theta}, in float32 as transformers. */
  public static float[] invFreq(RopeScaling s, double theta, int d) {
    float[] inv = new float[d / 2];
    for (int i = 0; i < d / 2; i++) {
      // HF: 1 / base^(arange(0, D, 2).float() / D), the exponent in float32
      inv[i] = (float) (1.0 / Math.pow(theta, (float) (2 * i) / (float) d));
    }
    return s == null ? inv : s.scale(inv, theta, d);
  }

  /** Factor on cos and sin (yarn's attention factor; 1 otherwise). */
  public static double attentionScaling(RopeScaling s) {
    if (s == null || !s.type.equals("yarn")) {
      return 1.0;
    }
    if (s.attentionFactor != null) {
      return s.attentionFactor;
    }
    if (s.mscale != null && s.mscaleAllDim != null && s.mscale != 0 && s.mscaleAllDim != 0) {
      return mscale(s.factor, s.mscale) / mscale(s.factor, s.mscaleAllDim);
    }
    return mscale(s.factor, 1);
  }

  private static double mscale(double scale, double m) {
    return scale <= 1 ? 1.0 : 0.1 * m * Math.log(scale) + 1.0;
  }

  private float[] scale(float[] inv, double theta, int d) {
    float[] out = new float[inv.length];
    if (type.equals("llama3")) {
      double lowWl = originalMaxPositionEmbeddings / lowFreqFactor;
      double highWl = originalMaxPositionEmbeddings / highFreqFactor;
      for (int i = 0; i < inv.length; i++) {
        float f = inv[i];
        float wavelen = (float) (2 * Math.PI / f);
        float scaled = wavelen > lowWl ? (float) (f / factor) : f;
        if (!(wavelen < highWl) && !(wavelen > lowWl)) {
          float smooth = (float) ((originalMaxPositionEmbeddings / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor));
          scaled = (float) ((1 - smooth) * scaled / factor + smooth * scaled);
        }
        out[i] = scaled;
      }
      return out;
    }
    // yarn
    double lo = correctionDim(betaFast, d, theta);
    double hi = correctionDim(betaSlow, d, theta);
    if (truncate) {
      lo = Math.floor(lo);
      hi = Math.ceil(hi);
    }
    lo = Math.max(lo, 0);
    hi = Math.min(hi, d - 1);
    if (lo == hi) {
      hi += 0.001;
    }
    for (int i = 0; i < inv.length; i++) {
      float ramp = (float) Math.min(1, Math.max(0, (i - lo) / (hi - lo)));
      float keep = 1 - ramp; // extrapolation weight
      float posFreq = (float) Math.pow(theta, (float) (2 * i) / (float) d);
      float extrapolation = 1f / posFreq;
      float interpolation = (float) (1.0 / (factor * posFreq));
      out[i] = interpolation * (1 - keep) + extrapolation * keep;
    }
    return out;
  }

  private double correctionDim(double rotations, int d, double theta) {
    return (d * Math.log(originalMaxPositionEmbeddings / (rotations * 2 * Math.PI))) / (2 * Math.log(theta));
  }

  /** The object written back to config.json (the one read). */
  public ObjectNode toJson() {
    return raw.isObject() ? (ObjectNode) raw.deepCopy() : JSON.createObjectNode();
  }

  /** For tests: a scaling from key/value pairs as config.json would hold them. */
  public static RopeScaling of(Map<String, Object> values, int maxPositionEmbeddings) {
    return parse(JSON.valueToTree(values), null, "rope_scaling", maxPositionEmbeddings);
  }
}
