package io.r1cluster.core.device;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.InputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one place that decides where tensors live. Every model, KV cache, input array, optimizer
 * state and reference model is created on a {@link Device} chosen here, and every {@link NDManager}
 * of main code comes from {@link #manager(Device)} or {@link #managerLike(NDArray)} (the
 * architecture test {@code DevicePlacementTest} fails on any other {@code newBaseManager} or
 * {@code Device.cpu()/gpu()} call).
 *
 * <p>Precedence, first that is set wins:
 *
 * <pre>
 *   1. the command line           --device cpu|cuda[:N]   (single-process commands)
 *                                  --gpus 0,1              (r1 member: one rollout engine per GPU)
 *   2. the recipe                  use_cpu: true           (TRL TrainingArguments key)
 *   3. the environment             R1_DEVICE=cpu|cuda[:N]
 *   4. the default                 cuda:0 when the build has CUDA natives and a GPU is visible, else cpu
 * </pre>
 *
 * <p>Data crosses devices only where the code says so: weights to and from Aeron and checkpoints
 * ({@code toByteBuffer} / {@code create} on the model's manager) and the last logits copied to the
 * host for sampling.
 */
public final class Devices {
  /** Environment variable naming the default device. */
  public static final String ENV = "R1_DEVICE";

  private static volatile Device override;

  private Devices() {}

  /**
   * Parses {@code cpu}, {@code cuda}, {@code cuda:N} (also {@code gpu}, {@code gpu:N}).
   *
   * @param key what the value came from (a flag, a recipe key, an environment variable), named in errors
   */
  public static Device parse(String spec, String key) {
    String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
    if (s.equals("cpu")) {
      return Device.cpu();
    }
    String idx = null;
    if (s.equals("cuda") || s.equals("gpu")) {
      idx = "0";
    } else if (s.startsWith("cuda:") || s.startsWith("gpu:")) {
      idx = s.substring(s.indexOf(':') + 1);
    }
    if (idx != null && idx.matches("\\d{1,3}")) {
      return Device.gpu(Integer.parseInt(idx));
    }
    throw new InputException(null, 0, key, "'" + spec + "' is not a device: use cpu, cuda or cuda:N");
  }

  /** Parses the GPU list of {@code r1 member --gpus 0,1,3} into devices (distinct, each checked by {@link #require}). */
  public static List<Device> gpus(String list, String key) {
    List<Device> out = new ArrayList<>();
    for (String part : list.split(",", -1)) {
      String p = part.trim();
      if (!p.matches("\\d{1,3}")) {
        throw new InputException(null, 0, key, "'" + list + "' is not a list of GPU indices like 0,1");
      }
      Device d = Device.gpu(Integer.parseInt(p));
      if (out.contains(d)) {
        throw new InputException(null, 0, key, "GPU " + p + " listed twice in '" + list + "'");
      }
      out.add(require(d, key));
    }
    return List.copyOf(out);
  }

  /** GPUs the PyTorch engine sees (0 with CPU-only natives or no driver). */
  public static int gpuCount() {
    try {
      return Engine.getEngine("PyTorch").getGpuCount();
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return 0;
    }
  }

  /** Whether the loaded natives are a CUDA build (the {@code -Pcuda} jar). */
  public static boolean cudaBuild() {
    try {
      return Engine.getEngine("PyTorch").hasCapability("CUDA");
    } catch (RuntimeException | UnsatisfiedLinkError e) {
      return false;
    }
  }

  /**
   * {@code d} itself when this process can place tensors there; otherwise an {@link InputException}
   * (exit code 2) that says why: a CPU-only build, no GPU visible, or an index past the last GPU.
   */
  public static Device require(Device d, String key) {
    if (!d.isGpu()) {
      return d;
    }
    int n = gpuCount();
    if (n == 0) {
      throw new InputException(null, 0, key, d + " asked for, but " + (cudaBuild()
          ? "no GPU is visible to this process (check the driver, CUDA_VISIBLE_DEVICES and the pod's nvidia.com/gpu limit)"
          : "this build has CPU-only PyTorch natives (build the CUDA jar with mvn -Pcuda package)")
          + "; use --device cpu or unset " + ENV);
    }
    if (d.getDeviceId() >= n) {
      throw new InputException(null, 0, key, d + " asked for, but only " + n + " GPU(s) are visible (cuda:0..cuda:"
          + (n - 1) + ")");
    }
    return d;
  }

  /**
   * Sets the process-wide device from the command line ({@code --device}); null clears it. Checked
   * at once, so a bad flag fails before anything is loaded.
   */
  public static void select(Device d) {
    override = d == null ? null : require(d, "--device");
  }

  /** The device chosen for this process (command line, then {@code R1_DEVICE}, then the default). */
  public static Device selected() {
    return choose(false, System.getenv());
  }

  /** The device for a recipe: {@code --device}, else the recipe's {@code use_cpu}, else {@code R1_DEVICE}, else the default. */
  public static Device forRecipe(boolean useCpu) {
    return choose(useCpu, System.getenv());
  }

  /** The precedence of the class comment with an explicit environment (tests). */
  public static Device choose(boolean useCpu, Map<String, String> env) {
    Device o = override;
    if (o != null) {
      return o;
    }
    if (useCpu) {
      return Device.cpu();
    }
    String e = env.get(ENV);
    if (e != null && !e.isBlank()) {
      return require(parse(e, ENV), ENV);
    }
    return gpuCount() > 0 ? Device.gpu(0) : Device.cpu();
  }

  /** The CPU: for tensors that stay on the host by design (checkpoint and wire conversions, tests). */
  public static Device host() {
    return Device.cpu();
  }

  /** A new root manager on {@code device} (the only way main code makes one). */
  public static NDManager manager(Device device) {
    if (device == null) {
      throw new IllegalArgumentException("a manager needs an explicit device");
    }
    return NDManager.newBaseManager(device);
  }

  /** A new root manager on the device of {@code like} (temporaries of an op on that array). */
  public static NDManager managerLike(NDArray like) {
    return manager(like.getDevice());
  }
}
