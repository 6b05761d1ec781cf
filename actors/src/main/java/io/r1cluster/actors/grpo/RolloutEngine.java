package io.r1cluster.actors.grpo;

import ai.djl.Device;
import io.r1cluster.actors.transport.SnapshotLease;
import io.r1cluster.actors.transport.WeightReceiver;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.generate.BatchEngine;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * One node's generation engine: the tokenizer, the {@link WeightReceiver} and one continuously
 * batched {@link BatchEngine} per device, shared by every {@link RolloutWorker} entity of the node
 * (and the generate stage's teacher requests, which reach it through those entities). A request
 * puts the G sequences of its prompt into the running batch of the least-loaded device, where they
 * join at the next token step beside every other request of the node; so a node's throughput does
 * not depend on how many groups it was handed one by one, nor on how many threads handed them.
 *
 * <p>Weights: {@link #swapToLatest()} takes the receiver's latest complete, CRC-verified snapshot.
 * The first one builds a model per device; every later one is written into the models the engines
 * run, in place, by each engine between token steps (a packed bf16 model on the CPU is rebuilt
 * instead) — after draining its running sequences (default: every completion of a group comes from
 * one version), or at once with {@code inflightWeightUpdate} (PipelineRL: a completion then carries
 * the oldest version that wrote any of its tokens). A device never holds two copies of the model. A
 * request made after the swap call is generated entirely by the new version or a newer one.
 */
public final class RolloutEngine implements RolloutBackend {
  /** Sequences one device's batch runs at once, unless configured ({@code r1.grpo.rollout.batch-rows}). */
  static final int DEFAULT_BATCH_ROWS = 256;

  private final Qwen2Config config;
  private final Tokenizer tokenizer;
  private final ChatTemplate template;
  private final RunSpec.Sampling sampling;
  private final List<Integer> eosIds;
  private final SamplingParams params;
  private final WeightReceiver receiver;
  private final AutoCloseable transport;
  private final BatchEngine.Options batchOptions;
  private final Object swapLock = new Object();
  /** Requests waiting for a version the engines do not have yet ({@link #submit}). */
  private final List<Pending> parked = new ArrayList<>();
  /** One engine per device (created with the first snapshot); engines[i] runs on devices.get(i). */
  private volatile BatchEngine[] engines;
  /**
   * Whether later versions are written into the engines' models in place (set with the first models:
   * every model but a packed bf16 one on the CPU) instead of built as new models beside them.
   */
  private boolean inPlace;
  /** Newest version handed to the engines, -1 before the first snapshot arrived. */
  private volatile long version = -1;
  private volatile boolean closed;
  /**
   * Where the models, KV caches and inputs live: one device normally; with {@code member --gpus 0,1}
   * one model (and one running batch) per GPU.
   */
  private final List<Device> devices;

  RolloutEngine(Qwen2Config config, Tokenizer tokenizer, ChatTemplate template, RunSpec.Sampling sampling,
      WeightReceiver receiver, AutoCloseable transport) {
    this(config, tokenizer, template, sampling, receiver, transport,
        List.of(io.r1cluster.core.device.Devices.selected()), DEFAULT_BATCH_ROWS, false);
  }

  RolloutEngine(Qwen2Config config, Tokenizer tokenizer, ChatTemplate template, RunSpec.Sampling sampling,
      WeightReceiver receiver, AutoCloseable transport, List<Device> devices, int batchRows, boolean inflightWeightUpdate) {
    if (devices.isEmpty()) {
      throw new IllegalArgumentException("a rollout engine needs at least one device");
    }
    this.devices = List.copyOf(devices);
    this.transport = transport;
    this.config = config;
    this.tokenizer = tokenizer;
    this.template = template;
    this.sampling = sampling;
    this.receiver = receiver;
    this.eosIds = io.r1cluster.core.generate.StopTokens.of(tokenizer, config);
    this.params = new SamplingParams(sampling.temperature(), sampling.topP(), Math.max(0, sampling.topK()),
        sampling.minP(), sampling.maxCompletionLength(), eosIds, List.of());
    this.batchOptions = new BatchEngine.Options(Math.max(batchRows, sampling.numGenerations()),
        sampling.maxPromptLength() + sampling.maxCompletionLength(), inflightWeightUpdate);
  }

  /**
   * An engine on the process's device fed by {@code receiver} (benchmarks and tools; a node builds
   * its engine from the run spec). Takes ownership of the tokenizer, receiver and transport.
   */
  public static RolloutEngine open(Qwen2Config config, Tokenizer tokenizer, ChatTemplate template, RunSpec.Sampling sampling,
      WeightReceiver receiver, AutoCloseable transport, int batchRows, boolean inflightWeightUpdate) {
    return new RolloutEngine(config, tokenizer, template, sampling, receiver, transport,
        List.of(io.r1cluster.core.device.Devices.selected()), batchRows, inflightWeightUpdate);
  }

  /** Policy version most recently handed to the engines, -1 before the first snapshot arrived. */
  public long version() {
    return version;
  }

  /** The receiver feeding this engine. */
  public WeightReceiver receiver() {
    return receiver;
  }

  /** The batch settings of each device's engine. */
  public BatchEngine.Options batchOptions() {
    return batchOptions;
  }

  /** Device {@code i}'s batch engine, null before the first snapshot (the serve role joins its batch). */
  public BatchEngine batchEngine(int i) {
    BatchEngine[] es = engines;
    return es == null ? null : es[i];
  }

  /** Counters of each device's batch engine (empty before the first snapshot). */
  public List<BatchEngine.Stats> stats() {
    BatchEngine[] es = engines;
    return es == null ? List.of() : Arrays.stream(es).map(BatchEngine::stats).toList();
  }

  /**
   * Generates {@code sampling.numGenerations} completions of one prompt, blocking this thread:
   * {@link #submit} with the waiting for weights done here.
   *
   * @throws TimeoutException when a version ≥ {@code minVersion} was announced but did not arrive
   *     within {@code wait} of its announcement
   */
  @Override
  public Group generate(Prompt prompt, long seed, long minVersion, Duration wait) throws TimeoutException,
      InterruptedException {
    try {
      return submit(prompt, seed, minVersion, wait, Runnable::run).get();
    } catch (ExecutionException e) {
      Throwable c = e.getCause() instanceof CompletionException && e.getCause().getCause() != null
          ? e.getCause().getCause() : e.getCause();
      if (c instanceof TimeoutException t) {
        throw t;
      }
      if (c instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(c);
    }
  }

  /**
   * Puts the {@code sampling.numGenerations} sequences of one prompt (row i seeded
   * {@code Sampler.rowSeed(seed, i)}) into the running batch of the least-loaded device and completes
   * when all have finished. A request that needs a version ≥ {@code minVersion} the engines do not
   * have yet is encoded now and parked; waiting for the version (and building its models) runs on
   * {@code slots}, and when it arrives every parked request it satisfies goes into the batch in one
   * hand-over, so they share one prefill and start at the same token step (at
   * {@code max_staleness} 0 a whole step's groups wait for each learner step). The generation itself
   * holds no thread.
   */
  @Override
  public CompletableFuture<Group> submit(Prompt prompt, long seed, long minVersion, Duration wait, Executor slots) {
    // the caller's future: cancelling it (an entity stopped) cancels the group's sequences in the batch
    Pending p = new Pending(prompt, seed, Math.max(0, minVersion));
    p.out.whenComplete((g, e) -> {
      List<BatchEngine.Handle> hs = p.handles;
      if (p.out.isCancelled() && hs != null) {
        hs.forEach(BatchEngine.Handle::cancel);
      }
    });
    if (version >= p.minVersion && receiver.latestVersion() <= version) {
      start(List.of(p));
      return p.out;
    }
    try {
      p.ids = encode(prompt); // while the weights are on their way
    } catch (RuntimeException e) {
      p.out.completeExceptionally(e);
      return p.out;
    }
    synchronized (parked) {
      parked.add(p);
    }
    try {
      CompletableFuture.runAsync(() -> {
        NoGrad.onThisThread();
        try {
          awaitVersion(p, wait);
        } catch (TimeoutException | InterruptedException | RuntimeException e) {
          if (unpark(p)) {
            p.out.completeExceptionally(e);
          }
          return;
        }
        startParked();
      }, slots);
    } catch (RuntimeException e) { // the slots executor refused the task (shutting down)
      if (unpark(p)) {
        p.out.completeExceptionally(e);
      }
    }
    return p.out;
  }

  @Override
  public boolean batched() {
    return true;
  }

  /**
   * A group request. {@code out} is the caller's future; {@code ids} are encoded on submission when
   * it has to wait for weights, else when it starts; {@code handles} are its rows once in a batch.
   */
  private static final class Pending {
    final Prompt prompt;
    final long seed;
    final long minVersion;
    final CompletableFuture<Group> out = new CompletableFuture<>();
    int[] ids;
    volatile List<BatchEngine.Handle> handles;

    Pending(Prompt prompt, long seed, long minVersion) {
      this.prompt = prompt;
      this.seed = seed;
      this.minVersion = minVersion;
    }
  }

  /** The order of one hand-over's groups: by their sampling seed, then prompt id (a function of the dispatch). */
  private static final java.util.Comparator<Pending> HANDOVER_ORDER =
      java.util.Comparator.<Pending>comparingLong(x -> x.seed).thenComparing(x -> x.prompt.id());

  private boolean unpark(Pending p) {
    synchronized (parked) {
      return parked.remove(p);
    }
  }

  /** Starts every parked request the engines' version satisfies, in one hand-over per device. */
  private void startParked() {
    List<Pending> go = new ArrayList<>();
    synchronized (parked) {
      for (java.util.Iterator<Pending> it = parked.iterator(); it.hasNext(); ) {
        Pending p = it.next();
        if (p.out.isDone()) {
          it.remove(); // cancelled while it waited
        } else if (p.minVersion <= version) {
          go.add(p);
          it.remove();
        }
      }
    }
    if (!go.isEmpty()) {
      // in a fixed order, not the order the requests arrived in: a row's numbers depend (in the last bits) on
      // the slot it runs in, so at max_staleness 0 the same step's groups must take the same slots every run
      go.sort(HANDOVER_ORDER);
      start(go);
    }
  }

  /** Hands the groups to the engines: each to the least-loaded device, counting the rows handed here. */
  private void start(List<Pending> groups) {
    BatchEngine[] es = engines;
    if (es == null) {
      groups.forEach(p -> p.out.completeExceptionally(new IllegalStateException("rollout engine closed")));
      return;
    }
    int[] load = new int[es.length];
    for (int i = 0; i < es.length; i++) {
      load[i] = es[i].load();
    }
    List<List<Pending>> byEngine = new ArrayList<>();
    for (int i = 0; i < es.length; i++) {
      byEngine.add(new ArrayList<>());
    }
    for (Pending p : groups) {
      int best = 0;
      for (int i = 1; i < es.length; i++) {
        if (load[i] < load[best]) {
          best = i;
        }
      }
      load[best] += sampling.numGenerations();
      byEngine.get(best).add(p);
    }
    for (int i = 0; i < es.length; i++) {
      List<Pending> mine = byEngine.get(i);
      if (mine.isEmpty()) {
        continue;
      }
      List<List<BatchEngine.Request>> requests = new ArrayList<>();
      try {
        for (Pending p : mine) {
          if (p.ids == null) {
            p.ids = encode(p.prompt);
          }
          List<BatchEngine.Request> rs = new ArrayList<>();
          for (int k = 0; k < sampling.numGenerations(); k++) {
            rs.add(new BatchEngine.Request(p.ids, params, Sampler.rowSeed(p.seed, k), null));
          }
          requests.add(rs);
        }
        List<List<BatchEngine.Handle>> hs = es[i].submitGroups(requests);
        for (int g = 0; g < mine.size(); g++) {
          whenFinished(mine.get(g), hs.get(g));
        }
      } catch (RuntimeException e) {
        mine.forEach(p -> p.out.completeExceptionally(e));
      }
    }
  }

  private void whenFinished(Pending p, List<BatchEngine.Handle> hs) {
    p.handles = hs;
    if (p.out.isCancelled()) {
      hs.forEach(BatchEngine.Handle::cancel); // cancelled while the sequences were being submitted
    }
    CompletableFuture.allOf(hs.stream().map(BatchEngine.Handle::result).toArray(CompletableFuture[]::new))
        .whenComplete((x, e) -> {
          if (e != null) {
            p.out.completeExceptionally(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e);
            return;
          }
          List<Completion> cs = hs.stream().map(h -> h.result().join()).toList();
          // the group is as stale as its oldest token (in-flight updates: rows may have seen several versions)
          long oldest = cs.stream().mapToLong(Completion::policyVersion).min().orElse(version);
          p.out.complete(new Group(p.prompt, p.ids, cs, oldest));
        });
  }

  /** The devices this engine generates on (one model and one running batch each). */
  public List<Device> devices() {
    return devices;
  }

  /** The chat-templated prompt's ids, cut to the last {@code max_prompt_length} tokens (TRL keeps the end). */
  int[] encode(Prompt prompt) {
    int[] ids = tokenizer.encode(template.render(prompt.messages(), true));
    int max = sampling.maxPromptLength();
    return ids.length <= max ? ids : Arrays.copyOfRange(ids, ids.length - max, ids.length);
  }

  /**
   * Waits until the engines hold a version ≥ {@code p.minVersion}. Until the owner of the weights has
   * announced such a version it is still being trained (at {@code max_staleness} 0 every request
   * waits out a learner step, minutes on a large model): no time limit, the rollout entity reports the
   * request as held meanwhile. From the announcement on, the snapshot has {@code wait} to arrive, or
   * the request fails back (this node's receiver is not getting it). Ends early when the request is
   * cancelled (its entity stopped) or the engine closes. Each newer version that arrives also starts
   * the other parked requests it satisfies, whichever thread waits for them.
   */
  private void awaitVersion(Pending p, Duration wait) throws TimeoutException, InterruptedException {
    long minVersion = Math.max(0, p.minVersion);
    long deadline = 0;
    boolean announced = false;
    while (true) {
      long had = version;
      swapToLatest();
      if (version >= minVersion) {
        return;
      }
      if (version > had) {
        startParked();
      }
      if (p.out.isDone()) {
        return; // cancelled while it waited: the caller's startParked drops it
      }
      if (closed) {
        throw new IllegalStateException("rollout engine closed");
      }
      long now = System.nanoTime();
      if (!announced && receiver.announcedVersion() >= minVersion) {
        announced = true;
        deadline = now + wait.toNanos();
      }
      long left = deadline - now;
      if (announced && left <= 0) {
        throw new TimeoutException("weights version >= " + minVersion + " was announced but did not arrive within "
            + wait + " (have " + version + ", receiver " + receiver.latestVersion() + ")");
      }
      // sleep until the receiver completes a version, not in a polling loop: at max_staleness 0 the
      // waiters wait out every learner step, and each wake-up on a busy machine preempts a PyTorch thread
      receiver.awaitNewerThan(version, announced ? Math.min(TimeUnit.NANOSECONDS.toMillis(left), 100) : 100);
    }
  }

  /**
   * Hands the receiver's latest complete snapshot to every device's engine if it is newer than the
   * one they have (the engines swap it in between token steps).
   */
  public void swapToLatest() {
    synchronized (swapLock) {
      if (closed || receiver.latestVersion() <= version) {
        return;
      }
      SnapshotLease lease = receiver.acquireLatest().orElse(null);
      if (lease == null || lease.version() <= version) {
        if (lease != null) {
          lease.close();
        }
        return;
      }
      if (engines != null && inPlace) {
        writeInPlace(lease);
        return;
      }
      Qwen2Model[] fresh = new Qwen2Model[devices.size()];
      long v = lease.version();
      try (lease) {
        Map<String, TensorData> named = lease.snapshot().byName();
        // copies out of the leased buffers; a bf16 push (torch_dtype: bfloat16) gives a bf16 model
        boolean bf16 = !named.isEmpty() && named.values().iterator().next().dtype() == DType.BF16;
        try {
          for (int i = 0; i < fresh.length; i++) {
            fresh[i] = Qwen2Model.fromTensors(config, named, devices.get(i),
                bf16 ? ai.djl.ndarray.types.DataType.BFLOAT16 : ai.djl.ndarray.types.DataType.FLOAT32);
          }
        } catch (RuntimeException e) {
          for (Qwen2Model m : fresh) {
            if (m != null) {
              m.close();
            }
          }
          throw e;
        }
      }
      if (engines == null) {
        inPlace = Arrays.stream(fresh).allMatch(Qwen2Model::overwritable);
        BatchEngine[] es = new BatchEngine[fresh.length];
        for (int i = 0; i < fresh.length; i++) {
          es[i] = new BatchEngine(fresh[i], true, v, ids -> tokenizer.decode(ids, true), batchOptions,
              "rollout-" + devices.get(i));
        }
        engines = es;
      } else {
        for (int i = 0; i < fresh.length; i++) {
          engines[i].updateWeights(fresh[i], v);
        }
      }
      version = v;
    }
  }

  /**
   * Every version after the first: the engines write the leased snapshot into the models they run,
   * each on its own thread where it would have swapped models ({@link BatchEngine#updateWeightsInPlace}),
   * so a device never holds two copies of the model (a rebuilt model beside the running one was one
   * more model's worth of device memory at every version). The lease pins the receiver's buffers until
   * the last engine has written them; meanwhile the receiver assembles newer versions into other buffers.
   * Takes ownership of {@code lease}.
   */
  private void writeInPlace(SnapshotLease lease) {
    Map<String, TensorData> named = lease.snapshot().byName();
    try {
      Qwen2Model.checkTensors(config, named); // a snapshot that does not fit is refused before any engine writes it
    } catch (RuntimeException e) {
      lease.close();
      throw e;
    }
    long v = lease.version();
    java.util.concurrent.atomic.AtomicInteger holders = new java.util.concurrent.atomic.AtomicInteger(engines.length);
    List<LeaseWrite> writes = new ArrayList<>();
    for (int i = 0; i < engines.length; i++) {
      writes.add(new LeaseWrite(lease, named, holders));
    }
    for (int i = 0; i < engines.length; i++) {
      try {
        engines[i].updateWeightsInPlace(writes.get(i), v);
      } catch (RuntimeException e) { // an engine closed: release the writes no engine took
        for (int j = i + 1; j < engines.length; j++) {
          writes.get(j).close();
        }
        throw e;
      }
    }
    version = v;
  }

  /** One engine's write of a leased snapshot; the lease is released when every engine's write is closed. */
  private static final class LeaseWrite implements BatchEngine.WeightWrite {
    private final SnapshotLease lease;
    private final Map<String, TensorData> tensors;
    private final java.util.concurrent.atomic.AtomicInteger holders;
    private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

    LeaseWrite(SnapshotLease lease, Map<String, TensorData> tensors, java.util.concurrent.atomic.AtomicInteger holders) {
      this.lease = lease;
      this.tensors = tensors;
      this.holders = holders;
    }

    @Override
    public void writeInto(Qwen2Model model) {
      model.overwrite(tensors);
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true) && holders.decrementAndGet() == 0) {
        lease.close();
      }
    }
  }

  /** The newest weights handed to the engines, as float32 tensors (tests compare them bit for bit). */
  public List<TensorData> weights() {
    BatchEngine[] es = engines;
    return es == null ? List.of() : es[0].withModel(m -> m.toTensors(DType.F32)).join();
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
      BatchEngine[] es = engines;
      engines = null;
      if (es != null) {
        for (BatchEngine e : es) {
          e.close(); // fails what still runs, closes the models
        }
      }
      tokenizer.close();
    }
    // a member serves one run after another, each on new threads: give back what this one freed
    io.r1cluster.core.device.NativeHeap.releaseAfter("rollout engine");
  }
}
