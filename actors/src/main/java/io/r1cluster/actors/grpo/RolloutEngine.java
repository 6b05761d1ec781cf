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
  private volatile Qwen2Model model;
  private volatile long version = -1;
  private boolean closed;

  RolloutEngine(Qwen2Config config, Tokenizer tokenizer, ChatTemplate template, RunSpec.Sampling sampling,
      WeightReceiver receiver, AutoCloseable transport) {
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
    lock.readLock().lock();
    try {
      Qwen2Model m = model;
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
    }
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
      Qwen2Model fresh;
      long v;
      try (SnapshotLease lease = receiver.acquireLatest().orElse(null)) {
        if (lease == null || lease.version() <= version) {
          return;
        }
        Map<String, TensorData> named = new LinkedHashMap<>();
        for (TensorData t : lease.snapshot().tensors()) {
          named.put(t.name(), t);
        }
        fresh = Qwen2Model.fromTensors(config, named, Device.cpu()); // copies out of the leased buffers
        v = lease.version();
      }
      Qwen2Model old;
      lock.writeLock().lock();
      try {
        old = model;
        model = fresh;
        version = v;
      } finally {
        lock.writeLock().unlock();
      }
      if (old != null) {
        old.close();
      }
    }
  }

  /** The weights in use, as float32 tensors (tests compare them bit for bit). */
  public List<TensorData> weights() {
    lock.readLock().lock();
    try {
      return model == null ? List.of() : model.toTensors(DType.F32);
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
        if (model != null) {
          model.close();
          model = null;
        }
      } finally {
        lock.writeLock().unlock();
      }
      tokenizer.close();
    }
  }
}
