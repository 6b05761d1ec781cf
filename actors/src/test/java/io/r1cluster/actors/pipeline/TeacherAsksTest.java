package io.r1cluster.actors.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.actors.grpo.RolloutWorker;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.generate.TraceTeacher;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link TeacherAsks} against replies given here (the cluster path is in
 * {@link RolloutTeacherClusterTest}): order, n per prompt, the in-flight cap, retries and their limits,
 * the stall line and cancellation.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class TeacherAsksTest {
  private static final TeacherAsks.Limits FAST = new TeacherAsks.Limits(3, Duration.ofSeconds(5), 3,
      Duration.ofMillis(20), Duration.ofSeconds(60));
  private final ByteArrayOutputStream logged = new ByteArrayOutputStream();
  private final PrintStream log = new PrintStream(logged, true, StandardCharsets.UTF_8);
  private final TeacherAsks.Reports reports = new TeacherAsks.Reports();

  private static List<Prompt> prompts(int count) {
    List<Prompt> ps = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ps.add(new Prompt("p" + i, List.of(new ChatMessage("user", "q" + i)), String.valueOf(i), Map.of()));
    }
    return ps;
  }

  /** The group a worker would give: n completions whose text and token ids name the prompt, the answer and the seed. */
  private static RolloutWorker.Generated group(long id, Prompt p, long seed, int n) {
    List<Completion> cs = new ArrayList<>();
    for (int k = 0; k < n; k++) {
      cs.add(new Completion(new int[] {Integer.parseInt(p.id().substring(1)), k}, new float[2],
          p.id() + "/" + k + "/" + seed, FinishReason.STOP, 0));
    }
    return new RolloutWorker.Generated(id, new Group(p, new int[] {1}, cs, 0), 0);
  }

  private static Executor after(long millis) {
    return CompletableFuture.delayedExecutor(millis, TimeUnit.MILLISECONDS);
  }

  @Test
  void answersComeBackInPromptOrderNPerPromptWhateverOrderTheyArriveIn() {
    List<Prompt> ps = prompts(7);
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();
    TeacherAsks asks = new TeacherAsks((entity, id, p, seed, reportEvery) -> {
      maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
      int i = Integer.parseInt(p.id().substring(1));
      // later prompts answer first
      return CompletableFuture.supplyAsync(() -> {
        inFlight.decrementAndGet();
        return (RolloutWorker.Reply) group(id, p, seed, 4);
      }, after(10L * (ps.size() - i)));
    }, reports, FAST, () -> false, log, "here");

    List<Group> groups = asks.collect(ps, 4, 11);

    assertEquals(7, groups.size());
    for (int i = 0; i < 7; i++) {
      Group g = groups.get(i);
      assertEquals("p" + i, g.prompt().id());
      assertEquals(4, g.completions().size());
      for (int k = 0; k < 4; k++) {
        assertEquals("p" + i + "/" + k + "/" + TeacherAsks.promptSeed(11, i), g.completions().get(k).text());
        assertArrayEquals(new int[] {i, k}, g.completions().get(k).tokenIds());
      }
    }
    assertTrue(maxInFlight.get() <= 3, "at most one ask per entity in flight: " + maxInFlight.get());
    assertEquals(7, ps.stream().map(p -> TeacherAsks.promptSeed(11, Integer.parseInt(p.id().substring(1)))).distinct()
        .count(), "a seed per prompt");
  }

  @Test
  void timeoutsAndTypedFailuresAreAskedAgainWithTheSameSeed() {
    List<Prompt> ps = prompts(2);
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    Map<String, List<Long>> seeds = new ConcurrentHashMap<>();
    TeacherAsks asks = new TeacherAsks((entity, id, p, seed, reportEvery) -> {
      int call = calls.computeIfAbsent(p.id(), k -> new AtomicInteger()).incrementAndGet();
      seeds.computeIfAbsent(p.id(), k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(seed);
      if (p.id().equals("p0") && call == 1) {
        return CompletableFuture.failedFuture(new TimeoutException("no reply in 5 s"));
      }
      if (p.id().equals("p1") && call <= 2) {
        return CompletableFuture.completedFuture(new RolloutWorker.GenerateFailed(id, "weights did not arrive"));
      }
      return CompletableFuture.completedFuture(group(id, p, seed, 2));
    }, reports, FAST, () -> false, log, "here");

    List<Group> groups = asks.collect(ps, 2, 5);

    assertEquals(List.of("p0", "p1"), groups.stream().map(g -> g.prompt().id()).toList());
    assertEquals(2, calls.get("p0").get());
    assertEquals(3, calls.get("p1").get(), "two typed failures (of 3 allowed), then the answer");
    assertEquals(1, seeds.get("p1").stream().distinct().count(), "a retry samples with the prompt's seed");
    assertTrue(logged.toString(StandardCharsets.UTF_8).contains("prompt p1 failed on the rollout workers (weights did not arrive)"),
        logged.toString(StandardCharsets.UTF_8));
  }

  @Test
  void aPromptThatKeepsFailingFailsTheStageWithItsIdAndReason() {
    TeacherAsks asks = new TeacherAsks((entity, id, p, seed, reportEvery) ->
        CompletableFuture.completedFuture(new RolloutWorker.GenerateFailed(id, "rollout-1: engine broken")),
        reports, FAST, () -> false, log, "here");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> asks.collect(prompts(1), 2, 5));
    assertEquals("generate: prompt p0 failed 3 times on the rollout workers; last: rollout-1: engine broken", e.getMessage());
  }

  @Test
  void withoutRepliesItSaysSoPeriodicallyAndStopsWhenCancelled() throws Exception {
    TeacherAsks.Limits quick = new TeacherAsks.Limits(2, Duration.ofMillis(50), 3, Duration.ofMillis(20),
        Duration.ofMillis(200));
    AtomicBoolean cancel = new AtomicBoolean();
    AtomicInteger asked = new AtomicInteger();
    TeacherAsks asks = new TeacherAsks((entity, id, p, seed, reportEvery) -> {
      asked.incrementAndGet();
      return new CompletableFuture<>(); // a worker that is gone: no reply, no report
    }, reports, quick, cancel::get, log, "pekko://r1@127.0.0.1:1");
    CompletableFuture<List<Group>> run = CompletableFuture.supplyAsync(() -> asks.collect(prompts(3), 2, 5));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!logged.toString(StandardCharsets.UTF_8).contains("no reply from the rollout workers")) {
      assertTrue(System.nanoTime() < deadline, "no stall line");
      Thread.sleep(20);
    }
    cancel.set(true);
    java.util.concurrent.ExecutionException e = assertThrows(java.util.concurrent.ExecutionException.class,
        () -> run.get(5, TimeUnit.SECONDS));
    assertTrue(e.getCause() instanceof TraceTeacher.Cancelled, e.toString());
    String line = logged.toString(StandardCharsets.UTF_8);
    assertTrue(line.contains("(0 of 3 prompts of this batch answered); waiting for rollout members (r1 member --roles"
        + " rollout) to join pekko://r1@127.0.0.1:1"), line);
    assertTrue(asked.get() > 3, "asks given up are asked again: " + asked.get());
    assertTrue(line.contains("no reply and no progress report from rollout entity"), line);
  }

  /**
   * Generations of 1 s under a 200 ms ask timeout, on an entity that reports its asks every 50 ms:
   * they are waited for, each prompt asked once. (Before the reports, each was given up after the
   * ask timeout and asked again without end.)
   */
  @Test
  void aLongGenerationIsWaitedForWhileItsEntityReportsIt() {
    TeacherAsks.Limits shortTimeout = new TeacherAsks.Limits(2, Duration.ofMillis(200), 3, Duration.ofMillis(20),
        Duration.ofSeconds(60));
    java.util.concurrent.ScheduledExecutorService clock = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
      TeacherAsks asks = new TeacherAsks((entity, id, p, seed, reportEvery) -> {
        calls.computeIfAbsent(p.id(), k -> new AtomicInteger()).incrementAndGet();
        assertEquals(Duration.ofMillis(50), reportEvery, "a quarter of the ask timeout");
        var ticking = clock.scheduleAtFixedRate(() -> reports.heard(new long[] {id}), 50, 50, TimeUnit.MILLISECONDS);
        return CompletableFuture.supplyAsync(() -> {
          ticking.cancel(false);
          return (RolloutWorker.Reply) group(id, p, seed, 2);
        }, after(1000));
      }, reports, shortTimeout, () -> false, log, "here");

      List<Group> groups = asks.collect(prompts(3), 2, 5);

      assertEquals(List.of("p0", "p1", "p2"), groups.stream().map(g -> g.prompt().id()).toList());
      assertEquals(3, calls.values().stream().mapToInt(AtomicInteger::get).sum(), "each prompt asked once: " + calls);
      assertTrue(!logged.toString(StandardCharsets.UTF_8).contains("asking again"), logged.toString(StandardCharsets.UTF_8));
    } finally {
      clock.shutdownNow();
    }
  }

  /**
   * A worker that goes silent (no reply, no report): its ask is given up after the ask timeout and
   * asked again, and its late (here: wrong) reply, which comes while p1 still generates, is ignored.
   */
  @Test
  void aSilentAskIsGivenUpAndItsLateReplyIgnored() {
    TeacherAsks.Limits shortTimeout = new TeacherAsks.Limits(2, Duration.ofMillis(200), 3, Duration.ofMillis(20),
        Duration.ofSeconds(60));
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    java.util.concurrent.ScheduledExecutorService clock = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    TeacherAsks asks = new TeacherAsks((entity, id, p, seed, reportEvery) -> {
      if (calls.computeIfAbsent(p.id(), k -> new AtomicInteger()).incrementAndGet() == 1 && p.id().equals("p0")) {
        // the first ask of p0: silent, then a wrong late answer long after it was given up
        return CompletableFuture.supplyAsync(() -> (RolloutWorker.Reply) group(id, prompts(2).get(1), seed, 2), after(600));
      }
      if (p.id().equals("p1")) { // reported, answers after the late reply above
        var ticking = clock.scheduleAtFixedRate(() -> reports.heard(new long[] {id}), 50, 50, TimeUnit.MILLISECONDS);
        return CompletableFuture.supplyAsync(() -> {
          ticking.cancel(false);
          return (RolloutWorker.Reply) group(id, p, seed, 2);
        }, after(900));
      }
      return CompletableFuture.completedFuture(group(id, p, seed, 2));
    }, reports, shortTimeout, () -> false, log, "here");

    List<Group> groups;
    try {
      groups = asks.collect(prompts(2), 2, 5);
    } finally {
      clock.shutdownNow();
    }

    assertEquals(2, calls.get("p0").get(), "given up once, asked again: " + calls);
    assertEquals(1, calls.get("p1").get(), "reported: asked once");
    assertEquals("p0/0/" + TeacherAsks.promptSeed(5, 0), groups.get(0).completions().get(0).text());
    assertTrue(logged.toString(StandardCharsets.UTF_8).contains(
        "generate: prompt p0: no reply and no progress report from rollout entity 0 for 200 ms; asking again"),
        logged.toString(StandardCharsets.UTF_8));
  }
}
