package io.r1cluster.actors.grpo;

import ai.djl.Device;
import io.r1cluster.actors.transport.SnapshotLease;
import io.r1cluster.actors.transport.WeightReceiver;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * One node's generation engine: the policy model, the tokenizer and the {@link WeightReceiver}
 * that feeds it. Shared by the {@link RolloutWorker} entities of the node; all methods block and
 * run on the rollout dispatcher, never on an actor thread.
 *
 * <p>Weights are swapped between generations only: a generation holds the read lock on the model
 * it started with; {@link #swapToLatest()} builds the new model from a complete, CRC-verified
 * snapshot outside the lock and exchanges it under the write lock. A generation therefore never
 * sees a half-written model, and every completion of a group carries one policy version.
 */
public final class RolloutEngine implements RolloutBackend {
  private final Qwen2Config config;
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final RunSpec.Sampling sampling;
  private final List<Integer> eosIds;
  private final WeightReceiver receiver;
  private final AutoCloseable transport;
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  private final Object swapLock = new Object();
  /** One model per device, same weights and version; models[i] lives on devices.get(i). */
  private volatile Qwen2Model[] models;
  private volatile long version = -1;
  private boolean closed;
  /**
   * Where the models, KV caches and inputs live: one device normally; with {@code member --gpus 0,1}
   * one model per GPU, and each generation (a batch of its own) takes a GPU no other generation uses.
   */
  private final List<Device> devices;
  private final java.util.concurrent.BlockingQueue<Integer> freeDevices = new java.util.concurrent.LinkedBlockingQueue<>();

  RolloutEngine(Qwen2Config config, Tokenizer tokenizer, ChatTemplate template, RunSpec.Sampling sampling,
      WeightReceiver receiver, AutoCloseable transport) {
    this(config, tokenizer, template, sampling, receiver, transport,
        List.of(io.r1cluster.core.device.Devices.selected()));
  }

  RolloutEngine(Qwen2Config config, Tokenizer tokenizer, ChatTemplate template, RunSpec.Sampling sampling,
      WeightReceiver receiver, AutoCloseable transport, List<Device> devices) {
    if (devices.isEmpty()) {
      throw new IllegalArgumentException("a rollout engine needs at least one device");
    }
    this.devices = List.copyOf(devices);
    for (int i = 0; i < devices.size(); i++) {
      freeDevices.add(i);
    }
    this.transport = transport;
    this.config = config;
    this.tokenizer = tokenizer;
    this.template = template;
    this.sampling = sampling;
    this.receiver = receiver;
    List<Integer> eos = new ArrayList<>();
    tokenizer.eosTokenId().ifPresent(eos::add);
    for (String t : List.of("<|im_end|>", "<|endoftext|>")) {
      tokenizer.findTokenId(t).ifPresent(id -> {
        if (!eos.contains(id)) {
          eos.add(id);
        }
      });
    }
    this.eosIds = List.copyOf(eos);
  }

  /** Policy version of the model in use, -1 before the first snapshot arrived. */
  public long version() {
    return version;
  }

  /** The receiver feeding this engine. */
  public WeightReceiver receiver() {
    return receiver;
  }

  /**
   * Generates {@code sampling.numGenerations} completions of one prompt with the newest complete
   * weights, waiting (on this thread) until a version ≥ {@code minVersion} has arrived.
   *
   * @throws TimeoutException when no such version arrives within {@code wait}
   */
  @Override
  public Group generate(Prompt prompt, long seed, long minVersion, Duration wait) throws TimeoutException,
      InterruptedException {
    NoGrad.onThisThread();
    awaitVersion(minVersion, wait);
    int[] promptIds = encode(prompt);
    int d = devices.size() == 1 ? 0 : freeDevices.take(); // one device: generations share it (as before)
    lock.readLock().lock();
    try {
      Qwen2Model m = models[d];
      long v = version;
      SamplingParams sp = new SamplingParams(sampling.temperature(), sampling.topP(), Math.max(0, sampling.topK()),
          sampling.minP(), sampling.maxCompletionLength(), eosIds, List.of());
      List<int[]> batch = new ArrayList<>();
      for (int i = 0; i < sampling.numGenerations(); i++) {
        batch.add(promptIds);
      }
      List<Completion> cs = new Sampler(m, ids -> tokenizer.decode(ids, true)).generate(batch, sp, seed, v);
      return new Group(prompt, promptIds, cs, v);
    } finally {
      lock.readLock().unlock();
      if (devices.size() > 1) {
        freeDevices.add(d);
      }
    }
  }

  /** The devices this engine generates on (one model each). */
  public List<Device> devices() {
    return devices;
  }

  /** The chat-templated prompt's ids, cut to the last {@code max_prompt_length} tokens (TRL keeps the end). */
  int[] encode(Prompt prompt) {
    int[] ids = tokenizer.encode(template.render(prompt.messages(), true));
    int max = sampling.maxPromptLength();
    return ids.length <= max ? ids : Arrays.copyOfRange(ids, ids.length - max, ids.length);
  }

  private void awaitVersion(long minVersion, Duration wait) throws TimeoutException, InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (true) {
      swapToLatest();
      if (version >= Math.max(0, minVersion)) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new TimeoutException("weights version >= " + minVersion + " did not arrive within " + wait
            + " (have " + version + ", receiver " + receiver.latestVersion() + ")");
      }
      Thread.sleep(2);
    }
  }

  /** Swaps in the receiver's latest complete snapshot if it is newer than the model in use. */
  public void swapToLatest() {
    synchronized (swapLock) {
      if (closed || receiver.latestVersion() <= version) {
        return;
      }
      Qwen2Model[] fresh = new Qwen2Model[devices.size()];
      long v;
      try (SnapshotLease lease = receiver.acquireLatest().orElse(null)) {
        if (lease == null || lease.version() <= version) {
          return;
        }
        Map<String, TensorData> named = new LinkedHashMap<>();
        for (TensorData t : lease.snapshot().tensors()) {
          named.put(t.name(), t);
        }
        // copies out of the leased buffers; a bf16 push (torch_dtype: bfloat16) gives a bf16 model
        boolean bf16 = !named.isEmpty() && named.values().iterator().next().dtype() == DType.BF16;
        try {
          for (int i = 0; i < fresh.length; i++) {
            fresh[i] = Qwen2Model.fromTensors(config, named, devices.get(i),
                bf16 ? ai.djl.ndarray.types.DataType.BFLOAT16 : ai.djl.ndarray.types.DataType.FLOAT32);
          }
        } catch (RuntimeException e) {
          closeAll(fresh);
          throw e;
        }
        v = lease.version();
      }
      Qwen2Model[] old;
      lock.writeLock().lock();
      try {
        old = models;
        models = fresh;
        version = v;
      } finally {
        lock.writeLock().unlock();
      }
      closeAll(old);
    }
  }

  /** The weights in use, as float32 tensors (tests compare them bit for bit). */
  public List<TensorData> weights() {
    lock.readLock().lock();
    try {
      return models == null ? List.of() : models[0].toTensors(DType.F32);
    } finally {
      lock.readLock().unlock();
    }
  }

  @Override
  public void close() {
    synchronized (swapLock) {
      closed = true;
      receiver.close();
      try {
        transport.close();
      } catch (Exception e) {
        // closing on shutdown: nothing left to do with a failure
      }
      lock.writeLock().lock();
      try {
        closeAll(models);
        models = null;
      } finally {
        lock.writeLock().unlock();
      }
      tokenizer.close();
    }
  }

  private static void closeAll(Qwen2Model[] ms) {
    if (ms != null) {
      for (Qwen2Model m : ms) {
        if (m != null) {
          m.close();
        }
      }
    }
  }
}
