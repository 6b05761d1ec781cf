package io.r1cluster.core.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.model.Nd;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * AdamW (Loshchilov &amp; Hutter) as {@code torch.optim.AdamW} computes it, updating parameters in
 * place:
 *
 * <pre>
 *   w ← w · (1 − lr·λ)                          (decoupled weight decay; not on biases / norm weights)
 *   m ← β₁ m + (1 − β₁) g ;  v ← β₂ v + (1 − β₂) g²
 *   w ← w − lr · (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε)
 * </pre>
 *
 * Weight decay skips biases and normalisation weights, like transformers' Trainer. The moments
 * live in the optimizer's own manager; every temporary of a step lives in a scope closed at the
 * end of the step.
 */
public final class AdamW implements AutoCloseable {
  /** Hyper-parameters (HF defaults: β₁ 0.9, β₂ 0.999, ε 1e-8, weight decay 0). */
  public record Config(double beta1, double beta2, double eps, double weightDecay) {
    public static Config defaults() {
      return new Config(0.9, 0.999, 1e-8, 0.0);
    }
  }

  private final Map<String, NDArray> params;
  private final Config cfg;
  private final NDManager manager;
  private final Map<String, NDArray> m = new LinkedHashMap<>();
  private final Map<String, NDArray> v = new LinkedHashMap<>();
  private long step;

  public AdamW(Map<String, NDArray> params, Config cfg) {
    this.params = params;
    this.cfg = cfg;
    NDArray any = params.values().iterator().next();
    this.manager = Devices.managerLike(any);
    for (var e : params.entrySet()) {
      e.getValue().setRequiresGradient(true);
      m.put(e.getKey(), manager.zeros(e.getValue().getShape()));
      v.put(e.getKey(), manager.zeros(e.getValue().getShape()));
    }
    defineGradients(params.values());
  }

  /**
   * Gives every parameter a defined (zero) gradient tensor with one backward pass of Σ 0·w. Until a
   * first backward, PyTorch's {@code .grad} is undefined and DJL hands out a handle to nothing:
   * zeroing or clipping through it corrupts native memory (seen as a SIGSEGV in a later backward).
   */
  public static void defineGradients(Collection<NDArray> params) {
    try (NDManager s = Devices.manager(params.isEmpty() ? Devices.host() : params.iterator().next().getDevice());
        ai.djl.training.GradientCollector gc = ai.djl.engine.Engine.getInstance().newGradientCollector()) {
      NDArray total = null;
      for (NDArray w : params) {
        w.setRequiresGradient(true);
        NDArray z = tmp(s, Nd.mul(tmp(s, w.sum()), 0.0));
        total = total == null ? z : tmp(s, total.add(z));
      }
      if (total != null) {
        gc.backward(total);
      }
    }
  }

  /** Optimizer steps taken. */
  public long steps() {
    return step;
  }

  static boolean decays(String name) {
    return !(name.endsWith(".bias") || name.contains("norm"));
  }

  /** One update with learning rate {@code lr} from the parameters' current gradients. */
  public void step(double lr) {
    step++;
    double bc1 = 1 - Math.pow(cfg.beta1(), step);
    double bc2 = 1 - Math.pow(cfg.beta2(), step);
    for (var e : params.entrySet()) {
      NDArray w = e.getValue();
      try (NDManager s = manager.newSubManager()) {
        NDArray g = grad(w, s);
        NDArray mm = m.get(e.getKey());
        NDArray vv = v.get(e.getKey());
        if (cfg.weightDecay() > 0 && decays(e.getKey())) {
          w.muli((float) (1 - lr * cfg.weightDecay()));
        }
        mm.muli((float) cfg.beta1()).addi(tmp(s, g.mul((float) (1 - cfg.beta1()))));
        vv.muli((float) cfg.beta2()).addi(tmp(s, tmp(s, g.square()).mul((float) (1 - cfg.beta2()))));
        NDArray denom = tmp(s, tmp(s, tmp(s, vv.sqrt()).div((float) Math.sqrt(bc2))).add((float) cfg.eps()));
        w.subi(tmp(s, tmp(s, mm.div(denom)).mul((float) (lr / bc1))));
      }
    }
  }

  /** Moves a temporary into the step scope so it is freed with it. */
  static NDArray tmp(NDManager scope, NDArray a) {
    a.attach(scope);
    return a;
  }

  /**
   * The gradient of a parameter as a handle owned by {@code scope}: DJL returns a new handle on every
   * {@code getGradient()} call and attaches it to the parameter's manager, which would grow without
   * bound; closing the handle leaves the gradient itself in place.
   */
  public static NDArray grad(NDArray w, NDManager scope) {
    return tmp(scope, w.getGradient());
  }

  /** Sets every gradient to zero. */
  public void zeroGrad() {
    zeroGrad(params.values());
  }

  /**
   * Zeroes each gradient in place in native memory. ({@code NDArray.set(float[])} would instead
   * re-point the gradient's storage at a Java direct buffer that dies with the handle: the next
   * backward then accumulates into freed memory.)
   */
  public static void zeroGrad(Collection<NDArray> params) {
    for (NDArray w : params) {
      ai.djl.pytorch.jni.JniUtils.zeroGrad((ai.djl.pytorch.engine.PtNDArray) w);
    }
  }

  /**
   * Clips the global L2 norm of all gradients to {@code maxNorm} (torch's clip_grad_norm_:
   * coefficient min(1, maxNorm / (norm + 1e-6))). Returns the norm before clipping (NaN/Inf when a
   * gradient is not finite; nothing is scaled then).
   */
  public static double clipGradNorm(Collection<NDArray> params, double maxNorm) {
    double sq = 0;
    for (NDArray w : params) {
      try (NDManager s = Devices.managerLike(w)) {
        NDArray g = grad(w, s);
        sq += tmp(s, tmp(s, g.square()).sum()).getFloat();
      }
    }
    double norm = Math.sqrt(sq);
    if (!Double.isFinite(norm) || maxNorm <= 0) {
      return norm;
    }
    double coef = maxNorm / (norm + 1e-6);
    if (coef < 1) {
      for (NDArray w : params) {
        try (NDManager s = Devices.managerLike(w)) {
          grad(w, s).muli((float) coef);
        }
      }
    }
    return norm;
  }

  /** Optimizer state for checkpoints: {@code exp_avg.NAME}, {@code exp_avg_sq.NAME}, {@code step}. */
  public Map<String, TensorData> state() {
    Map<String, TensorData> out = new LinkedHashMap<>();
    for (String k : m.keySet()) {
      out.put("exp_avg." + k, TensorData.ofFloats("exp_avg." + k, m.get(k).getShape().getShape(), m.get(k).toFloatArray()));
      out.put("exp_avg_sq." + k, TensorData.ofFloats("exp_avg_sq." + k, v.get(k).getShape().getShape(), v.get(k).toFloatArray()));
    }
    out.put("step", TensorData.ofFloats("step", new long[] {1}, new float[] {step}));
    return out;
  }

  /** Restores {@link #state()}. */
  public void load(Map<String, TensorData> state) {
    for (String k : m.keySet()) {
      replace(m, k, state.get("exp_avg." + k));
      replace(v, k, state.get("exp_avg_sq." + k));
    }
    step = (long) state.get("step").toFloats()[0];
  }

  /** Swaps a moment for a fresh PyTorch-owned copy of {@code t} (no storage shared with Java). */
  private void replace(Map<String, NDArray> moments, String k, TensorData t) {
    NDArray old = moments.get(k);
    try (NDManager s = manager.newSubManager()) {
      NDArray src = s.create(t.toFloats(), old.getShape());
      NDArray copy = src.duplicate();
      copy.attach(manager);
      moments.put(k, copy);
    }
    old.close();
  }

  @Override
  public void close() {
    manager.close();
  }

  static Shape shape(NDArray a) {
    return a.getShape();
  }
}
