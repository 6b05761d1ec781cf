package io.r1cluster.actors.pipeline;

import io.r1cluster.actors.grpo.RolloutWorker;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.generate.TraceTeacher;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;

/**
 * Asks the {@link RolloutWorker} entities for the groups of a batch of prompts and returns them in
 * prompt order. Blocking: it runs on the pipeline's thread, never on an actor's.
 *
 * <p>At most one ask per entity is in flight (a prompt waits for a free entity), so an ask takes
 * about one generation. An ask has no time limit of its own: the entity reports the asks it holds
 * ({@link RolloutWorker.Working}, into {@link Reports}) every quarter of the ask timeout, so a
 * generation may take any time; an ask whose entity neither answers nor reports for the ask timeout
 * (a lost or stuck worker) is given up. Every prompt of a batch gets its own seed, derived from the
 * batch seed and its position, the same on a retry.
 *
 * <p>Failures never hang silently:
 *
 * <ul>
 *   <li>an ask without a reply or a progress report within the ask timeout (no rollout member has
 *       joined, a member died), or whose ask fails, is asked again on another entity, without limit,
 *       and while neither replies nor reports come a line says so every {@code stallLog};
 *   <li>a typed failure ({@link RolloutWorker.GenerateFailed}: no weights in time, an engine error, a
 *       node that has not joined the teacher's run yet, an entity handed over) is asked again after
 *       {@code retryPause}; the {@code maxFailures}-th failure of one prompt fails the stage with the
 *       prompt's id and the last reason;
 *   <li>once {@code cancelled} is true it stops waiting and throws {@link TraceTeacher.Cancelled}.
 * </ul>
 */
final class TeacherAsks {
  private static final long POLL_MS = 100;

  /**
   * Sends one generate request to entity {@code entity}, asking it to report the request to
   * {@link Reports} every {@code reportEvery} while it holds it, and completes with its reply (or the
   * ask's error).
   */
  @FunctionalInterface
  interface Rollouts {
    CompletionStage<RolloutWorker.Reply> ask(int entity, long dispatchId, Prompt prompt, long seed, Duration reportEvery);
  }

  /**
   * When each ask in flight was last heard of (asked, or reported by its entity); thread-safe: the
   * entities' {@link RolloutWorker.Working} reports arrive on an actor's thread.
   */
  static final class Reports {
    private final java.util.concurrent.ConcurrentHashMap<Long, Long> heard = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicLong reportsTaken = new java.util.concurrent.atomic.AtomicLong();

    /** An entity still holds these asks. Reports of asks no longer in flight are ignored. */
    void heard(long[] dispatchIds) {
      long now = System.nanoTime();
      boolean any = false;
      for (long id : dispatchIds) {
        any |= heard.computeIfPresent(id, (k, v) -> now) != null;
      }
      if (any) {
        reportsTaken.incrementAndGet();
      }
    }

    void asked(long dispatchId, long now) {
      heard.put(dispatchId, now);
    }

    /** When the ask was last heard of; null once it is no longer in flight. */
    Long lastHeard(long dispatchId) {
      return heard.get(dispatchId);
    }

    void ended(long dispatchId) {
      heard.remove(dispatchId);
    }

    /** Reports taken so far (that named an ask in flight). */
    long reportsTaken() {
      return reportsTaken.get();
    }
  }

  /**
   * How patient the asks are.
   *
   * @param entities rollout entities to ask ({@code r1.grpo.rollout.entities})
   * @param askTimeout an ask is given up when its entity has neither answered nor reported it for this
   *     long ({@code r1.grpo.dispatch-timeout})
   * @param maxFailures typed failures of one prompt that fail the stage
   * @param retryPause wait before asking again after a typed failure
   * @param stallLog a line every this long without any reply
   */
  record Limits(int entities, Duration askTimeout, int maxFailures, Duration retryPause, Duration stallLog) {}

  private record Reply(int index, int entity, long dispatchId, RolloutWorker.Reply reply, Throwable error) {}

  private final Rollouts rollouts;
  private final Reports reports;
  private final Limits limits;
  private final BooleanSupplier cancelled;
  private final PrintStream log;
  private final String waitingFor;
  private long nextId;

  /**
   * {@code reports}: where the entities' progress reports for these asks go; {@code waitingFor}: where
   * rollout members should join, for the stall line.
   */
  TeacherAsks(Rollouts rollouts, Reports reports, Limits limits, BooleanSupplier cancelled, PrintStream log,
      String waitingFor) {
    this.rollouts = rollouts;
    this.reports = reports;
    this.limits = limits;
    this.cancelled = cancelled;
    this.log = log;
    this.waitingFor = waitingFor;
  }

  /** The seed of the prompt at {@code index} of a batch asked with {@code seed}. */
  static long promptSeed(long seed, int index) {
    return seed ^ (0x9E3779B97F4A7C15L * (index + 1));
  }

  /** The group of every prompt, in prompt order, each with {@code n} completions. */
  List<Group> collect(List<Prompt> prompts, int n, long seed) {
    Batch b = new Batch(prompts, n, seed);
    long quietSince = System.nanoTime();
    long reportsSeen = reports.reportsTaken();
    while (b.missing > 0) {
      if (cancelled.getAsBoolean()) {
        throw new TraceTeacher.Cancelled("generate: cancelled while waiting for the rollout workers");
      }
      b.askWaiting();
      Reply r;
      try {
        r = b.replies.poll(POLL_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TraceTeacher.Cancelled("generate: interrupted while waiting for the rollout workers");
      }
      long now = System.nanoTime();
      long reported = reports.reportsTaken();
      if (r != null && b.onReply(r, now) || reported != reportsSeen) {
        quietSince = now;
        reportsSeen = reported;
      } else if (now - quietSince > limits.stallLog().toNanos()) {
        log.printf("generate: no reply from the rollout workers for %d s (%d of %d prompts of this batch answered);"
            + " waiting for rollout members (r1 member --roles rollout) to join %s%n", (now - quietSince) / 1_000_000_000L,
            prompts.size() - b.missing, prompts.size(), waitingFor);
        quietSince = now;
      }
      b.giveUpSilent(now);
    }
    return List.of(b.groups);
  }

  /** The state of one batch: what is answered, asked, waiting for an entity or for its retry time. */
  private final class Batch {
    final List<Prompt> prompts;
    final int n;
    final long seed;
    final Group[] groups;
    final long[] asked; // dispatch id of the prompt's ask in flight, -1 when none
    final int[] entityOf; // the entity of the prompt's ask in flight
    final java.util.Set<Long> givenUp = new java.util.HashSet<>(); // asks whose late reply is ignored
    final int[] failures;
    final long[] retryAt; // nanoTime before which a failed prompt is not asked again
    final ArrayDeque<Integer> waiting = new ArrayDeque<>();
    final ArrayDeque<Integer> free = new ArrayDeque<>();
    final BlockingQueue<Reply> replies = new LinkedBlockingQueue<>();
    int missing;

    Batch(List<Prompt> prompts, int n, long seed) {
      this.prompts = prompts;
      this.n = n;
      this.seed = seed;
      this.groups = new Group[prompts.size()];
      this.asked = new long[prompts.size()];
      this.entityOf = new int[prompts.size()];
      this.failures = new int[prompts.size()];
      this.retryAt = new long[prompts.size()];
      Arrays.fill(asked, -1);
      for (int i = 0; i < prompts.size(); i++) {
        waiting.add(i);
      }
      for (int e = 0; e < limits.entities(); e++) {
        free.add(e);
      }
      missing = prompts.size();
    }

    /** Asks for waiting prompts (those due) while entities are free. */
    void askWaiting() {
      long now = System.nanoTime();
      for (int k = waiting.size(); k > 0 && !free.isEmpty(); k--) {
        int i = waiting.poll();
        if (now - retryAt[i] < 0) {
          waiting.add(i);
          continue;
        }
        int entity = free.poll();
        long id = nextId++;
        asked[i] = id;
        entityOf[i] = entity;
        reports.asked(id, now);
        rollouts.ask(entity, id, prompts.get(i), promptSeed(seed, i), RolloutWorker.reportEvery(limits.askTimeout()))
            .whenCompleteAsync((reply, err) -> replies.add(new Reply(i, entity, id, reply, err)), Runnable::run);
      }
    }

    /**
     * Gives up the asks whose entity has neither answered nor reported them for the ask timeout (its
     * member is gone or stuck): the prompt is asked again on another entity, the entity counts as
     * free, and a late reply is ignored.
     */
    void giveUpSilent(long now) {
      for (int i = 0; i < asked.length; i++) {
        if (asked[i] < 0) {
          continue;
        }
        Long last = reports.lastHeard(asked[i]);
        if (last != null && now - last > limits.askTimeout().toNanos()) {
          log.printf("generate: prompt %s: no reply and no progress report from rollout entity %d for %d ms; asking"
              + " again%n", prompts.get(i).id(), entityOf[i], limits.askTimeout().toMillis());
          reports.ended(asked[i]);
          givenUp.add(asked[i]);
          asked[i] = -1;
          free.add(entityOf[i]);
          waiting.add(i);
        }
      }
    }

    /** Takes a reply in; true when it came from a worker (an answer or a typed failure), not a timeout. */
    boolean onReply(Reply r, long now) {
      reports.ended(r.dispatchId());
      if (givenUp.remove(r.dispatchId())) {
        return false; // given up already (its entity was freed then); nothing is taken twice
      }
      free.add(r.entity());
      int i = r.index();
      if (asked[i] != r.dispatchId()) {
        return false; // cannot happen (one ask per prompt at a time); ignored if it does
      }
      asked[i] = -1;
      if (r.reply() instanceof RolloutWorker.Generated g) {
        if (g.group().completions().size() != n) {
          throw new IllegalStateException("generate: the rollout workers answered prompt " + prompts.get(i).id() + " with "
              + g.group().completions().size() + " completions, not " + n);
        }
        groups[i] = g.group();
        missing--;
        return true;
      }
      boolean timeout = r.error() != null && rootCause(r.error()) instanceof TimeoutException;
      if (!timeout) {
        String why = r.reply() instanceof RolloutWorker.GenerateFailed f ? f.reason() : String.valueOf(r.error());
        if (++failures[i] >= limits.maxFailures()) {
          throw new IllegalStateException("generate: prompt " + prompts.get(i).id() + " failed " + failures[i]
              + " times on the rollout workers; last: " + why);
        }
        log.printf("generate: prompt %s failed on the rollout workers (%s); asking again%n", prompts.get(i).id(), why);
        retryAt[i] = now + limits.retryPause().toNanos();
      }
      waiting.add(i);
      return !timeout;
    }
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }
}
