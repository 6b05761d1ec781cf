package io.r1cluster.actors.grpo;

import io.r1cluster.core.data.Prompt;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Exactly-once accounting of the prompts of a run: every (epoch, prompt) pair — a <em>key</em> —
 * is trained once. Not thread-safe: owned by the {@link PromptDispatcher} actor.
 *
 * <pre>
 *   PENDING ──dispatch──► IN_FLIGHT ──first reply──► BUFFERED ──learner takes it──► TRAINED
 *      ▲                     │  ▲                       │
 *      │                     └──┘ timeout / failure:    └── too stale: back to PENDING
 *      │                          new attempt (retried)      (dropped_stale)
 *      └────────────────────────────────────────────────────────┘
 * </pre>
 *
 * A key in flight may have several attempts out; the first reply of any of them completes it,
 * every later reply (or a reply to an unknown attempt) is a duplicate and is ignored.
 *
 * <p>The in-flight budget counts keys IN_FLIGHT or BUFFERED: a key leaves it only when the learner
 * takes it, so a slow learner stops new dispatches. Epochs are handed out in order, each shuffled
 * with {@code seed + epoch} when {@code shuffle}.
 */
public final class PromptLedger {

  private enum State { PENDING, IN_FLIGHT, BUFFERED, TRAINED }

  /** One attempt to get a key's group. */
  public record Dispatch(long dispatchId, long key, int epoch, Prompt prompt, long seed) {}

  /**
   * Counters.
   *
   * @param total keys in the run (epochs × prompts)
   * @param dispatched attempts sent (first dispatches and re-dispatches)
   * @param completed keys whose group arrived (a key dropped as stale and completed again counts twice)
   * @param retried re-dispatches after a timeout or a failure reply
   * @param droppedStale groups dropped for being more than max_staleness versions old
   * @param duplicateIgnored replies for keys already completed, or for unknown attempts
   * @param trained keys trained (each at most once)
   * @param filtered keys consumed without a gradient (dynamic sampling: zero reward spread)
   * @param trainedTwice keys trained more than once (always 0)
   * @param inFlight keys in flight now
   * @param buffered keys waiting for the learner now
   * @param budget the in-flight budget
   */
  public record Counters(long total, long dispatched, long completed, long retried, long droppedStale,
      long duplicateIgnored, long trained, long filtered, long trainedTwice, int inFlight, int buffered, int budget) {}

  private final List<Prompt> prompts;
  private final int epochs;
  private final long seed;
  private final boolean shuffle;
  private final int budget;
  private final State[] state;
  private final byte[] trainedCount;
  private final Map<Long, Long> attemptKey = new HashMap<>();
  private final Map<Long, Long> deadline = new LinkedHashMap<>(); // dispatchId → deadline (nanos) of live attempts
  private final Map<Long, List<Long>> liveAttempts = new HashMap<>();
  private final ArrayDeque<Long> requeued = new ArrayDeque<>();
  private int[] order;
  private int orderEpoch = -1;
  private long cursor;
  private long nextDispatchId = 1;
  private int inFlight;
  private int buffered;
  private long dispatched;
  private long completed;
  private long retried;
  private long droppedStale;
  private long duplicateIgnored;
  private long trained;
  private long filtered;
  private long trainedTwice;

  public PromptLedger(List<Prompt> prompts, int epochs, long seed, boolean shuffle, int budget) {
    if (prompts.isEmpty()) {
      throw new IllegalArgumentException("no prompts");
    }
    if (epochs < 1 || budget < 1) {
      throw new IllegalArgumentException("epochs and budget must be at least 1");
    }
    this.prompts = List.copyOf(prompts);
    this.epochs = epochs;
    this.seed = seed;
    this.shuffle = shuffle;
    this.budget = budget;
    long total = (long) epochs * prompts.size();
    if (total > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("too many prompts × epochs");
    }
    this.state = new State[(int) total];
    java.util.Arrays.fill(state, State.PENDING);
    this.trainedCount = new byte[(int) total];
  }

  public long total() {
    return state.length;
  }

  public int budget() {
    return budget;
  }

  /** Whether a new key may be dispatched now (budget left and a key pending). */
  public boolean canDispatch() {
    return inFlight + buffered < budget && hasPending();
  }

  private boolean hasPending() {
    // keys restored from a checkpoint are TRAINED before the cursor reaches them: skip them
    while (cursor < state.length && state[(int) keyAt(cursor)] != State.PENDING) {
      cursor++;
    }
    return !requeued.isEmpty() || cursor < state.length;
  }

  /**
   * Restores the keys a resumed run already consumed (from its checkpoint): they count as trained or
   * filtered and are never dispatched again; every other key is pending. Call before the first dispatch.
   */
  public void restore(long[] trainedKeys, long[] filteredKeys) {
    if (dispatched > 0) {
      throw new IllegalStateException("restore before the first dispatch");
    }
    for (long k : trainedKeys) {
      restoreKey(k);
      trained++;
    }
    for (long k : filteredKeys) {
      restoreKey(k);
      filtered++;
    }
  }

  private void restoreKey(long key) {
    if (key < 0 || key >= state.length) {
      throw new IllegalArgumentException("key " + key + " is outside this run's " + state.length + " keys");
    }
    if (state[(int) key] != State.PENDING) {
      throw new IllegalArgumentException("key " + key + " restored twice");
    }
    state[(int) key] = State.TRAINED;
    trainedCount[(int) key] = 1;
  }

  /** Dispatches the next pending key; call only when {@link #canDispatch()}. */
  public Dispatch next(long deadlineNanos) {
    hasPending();
    long key = requeued.isEmpty() ? keyAt(cursor++) : requeued.poll();
    state[(int) key] = State.IN_FLIGHT;
    inFlight++;
    return attempt(key, deadlineNanos);
  }

  private long keyAt(long position) {
    int n = prompts.size();
    int epoch = (int) (position / n);
    if (epoch != orderEpoch) {
      List<Integer> idx = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        idx.add(i);
      }
      if (shuffle) {
        Collections.shuffle(idx, new Random(seed + epoch));
      }
      order = idx.stream().mapToInt(Integer::intValue).toArray();
      orderEpoch = epoch;
    }
    return (long) epoch * n + order[(int) (position % n)];
  }

  private Dispatch attempt(long key, long deadlineNanos) {
    long id = nextDispatchId++;
    attemptKey.put(id, key);
    deadline.put(id, deadlineNanos);
    List<Long> live = liveAttempts.computeIfAbsent(key, k -> new ArrayList<>());
    // the sampling seed is a function of the run's seed, the key and which attempt of the key this is,
    // never of the dispatch counter: a resumed ledger starts counting dispatches again, and its first
    // attempt at a key must sample what the uninterrupted run's did (reproducible at max_staleness 0)
    int attemptOfKey = live.size();
    live.add(id);
    dispatched++;
    int n = prompts.size();
    long s = seed * 0x9E3779B97F4A7C15L + key * 0xBF58476D1CE4E5B9L + attemptOfKey;
    return new Dispatch(id, key, (int) (key / n), prompts.get((int) (key % n)), s);
  }

  /**
   * Moves a live attempt's deadline to {@code deadlineNanos} if that is later (its rollout entity
   * reported it still holds it); false when the attempt is not live.
   */
  public boolean renew(long dispatchId, long deadlineNanos) {
    Long d = deadline.get(dispatchId);
    if (d == null) {
      return false;
    }
    if (deadlineNanos - d > 0) {
      deadline.put(dispatchId, deadlineNanos);
    }
    return true;
  }

  /** The live attempts whose deadline has passed (after {@link #expired}: their keys are dispatched again). */
  public List<Long> lapsed(long nowNanos) {
    List<Long> out = new ArrayList<>();
    for (Map.Entry<Long, Long> e : deadline.entrySet()) {
      if (nowNanos - e.getValue() >= 0) {
        out.add(e.getKey());
      }
    }
    return out;
  }

  /** Re-dispatches every key whose attempts have all passed their deadline. */
  public List<Dispatch> expired(long nowNanos, long newDeadlineNanos) {
    List<Long> keys = new ArrayList<>();
    for (Map.Entry<Long, List<Long>> e : liveAttempts.entrySet()) {
      boolean allLate = true;
      for (long id : e.getValue()) {
        if (nowNanos - deadline.get(id) < 0) {
          allLate = false;
          break;
        }
      }
      if (allLate) {
        keys.add(e.getKey());
      }
    }
    List<Dispatch> out = new ArrayList<>();
    for (long key : keys) {
      retried++;
      out.add(attempt(key, newDeadlineNanos));
    }
    return out;
  }

  /** An attempt failed (typed failure reply): re-dispatch its key now, unless another attempt is still live. */
  public Dispatch failed(long dispatchId, long newDeadlineNanos) {
    Long key = attemptKey.get(dispatchId);
    if (key == null || state[(int) (long) key] != State.IN_FLIGHT || !deadline.containsKey(dispatchId)) {
      duplicateIgnored++;
      return null;
    }
    deadline.remove(dispatchId);
    List<Long> live = liveAttempts.get(key);
    live.remove(dispatchId);
    if (!live.isEmpty()) {
      return null;
    }
    retried++;
    return attempt(key, newDeadlineNanos);
  }

  /**
   * A group arrived for an attempt. Returns its key, or {@code -1} when it is a duplicate (the key
   * is already completed, or the attempt is unknown) — counted and to be ignored.
   */
  public long complete(long dispatchId) {
    Long key = attemptKey.get(dispatchId);
    if (key == null || state[(int) (long) key] != State.IN_FLIGHT) {
      duplicateIgnored++;
      return -1;
    }
    for (long id : liveAttempts.remove(key)) {
      deadline.remove(id);
    }
    state[(int) (long) key] = State.BUFFERED;
    inFlight--;
    buffered++;
    completed++;
    return key;
  }

  /** A buffered key's group was too stale: it goes back to the front of the queue. */
  public void dropStale(long key) {
    expect(key, State.BUFFERED);
    state[(int) key] = State.PENDING;
    buffered--;
    droppedStale++;
    requeued.addFirst(key);
  }

  /** The learner trained on a buffered key's group. */
  public void trained(long key) {
    consume(key);
    trained++;
  }

  /** The learner consumed a buffered key without a gradient (dynamic sampling filtered it). */
  public void filtered(long key) {
    consume(key);
    filtered++;
  }

  private void consume(long key) {
    expect(key, State.BUFFERED);
    state[(int) key] = State.TRAINED;
    buffered--;
    if (++trainedCount[(int) key] > 1) {
      trainedTwice++;
    }
  }

  private void expect(long key, State s) {
    if (state[(int) key] != s) {
      throw new IllegalStateException("key " + key + " is " + state[(int) key] + ", expected " + s);
    }
  }

  /** Every key consumed. */
  public boolean finished() {
    return trained + filtered == state.length;
  }

  /** Nothing pending or in flight: what is buffered is all that is left (a last, partial batch). */
  public boolean drained() {
    return !hasPending() && inFlight == 0;
  }

  /** Epoch (0-based, fractional) of the consumed keys. */
  public double epochProgress() {
    return (trained + filtered) / (double) prompts.size();
  }

  public int prompts() {
    return prompts.size();
  }

  /** Keys trained exactly once / not yet, for tests. */
  public int[] trainedCounts() {
    int[] out = new int[trainedCount.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = trainedCount[i];
    }
    return out;
  }

  public Counters counters() {
    return new Counters(state.length, dispatched, completed, retried, droppedStale, duplicateIgnored, trained, filtered,
        trainedTwice, inFlight, buffered, budget);
  }
}
