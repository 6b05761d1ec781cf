package io.r1cluster.core.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class ContinuousBatcherTest {
  static final Qwen2Config CFG = Qwen2Config.of(40, 32, 64, 2, 4, 2, 256, true);

  /** Collects one sequence's tokens. */
  static final class Collect implements ContinuousBatcher.Listener {
    final List<Integer> tokens = new CopyOnWriteArrayList<>();
    final List<Float> logprobs = new CopyOnWriteArrayList<>();
    final CompletableFuture<FinishReason> done = new CompletableFuture<>();
    volatile int[] lastTop;

    @Override
    public void onToken(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {
      tokens.add(tokenId);
      logprobs.add(logprob);
      lastTop = topIds;
    }

    @Override
    public void onFinish(FinishReason reason) {
      done.complete(reason);
    }

    @Override
    public void onError(Throwable error) {
      done.completeExceptionally(error);
    }

    int[] ids() {
      return tokens.stream().mapToInt(Integer::intValue).toArray();
    }

    void awaitTokens(int n) throws InterruptedException {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (tokens.size() < n && !done.isDone() && System.nanoTime() < end) {
        Thread.sleep(1);
      }
    }
  }

  static ContinuousBatcher.Request req(int[] prompt, int max, Collect c) {
    return new ContinuousBatcher.Request(prompt, SamplingParams.greedy(max, List.of()), 1, 3, c);
  }

  /**
   * Sequences that join a running batch at different steps, next to rows of other lengths, and
   * take rows that others left, get the tokens (and log-probs) each gets alone.
   */
  @Test
  void joiningAndLeavingRowsGenerateAsAlone() throws Exception {
    int[][] prompts = {{1, 2, 3, 4, 5, 6, 7}, {9}, {3, 3, 8, 2}, {5, 1, 7, 7, 7, 2, 9, 11, 13, 4, 6}};
    int[] max = {40, 6, 15, 12};
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 11)) {
      Sampler alone = new Sampler(m, ids -> "");
      List<Completion> ref = new ArrayList<>();
      for (int i = 0; i < prompts.length; i++) {
        ref.add(alone.generate(List.of(prompts[i]), SamplingParams.greedy(max[i], List.of()), 0, 0).get(0));
      }
      Collect[] c = new Collect[prompts.length];
      for (int i = 0; i < c.length; i++) {
        c[i] = new Collect();
      }
      try (ContinuousBatcher e = new ContinuousBatcher(m, new ContinuousBatcher.Options(4, 8, 1 << 20))) {
        e.submit(List.of(req(prompts[0], max[0], c[0])));
        c[0].awaitTokens(3);
        e.submit(List.of(req(prompts[1], max[1], c[1]), req(prompts[2], max[2], c[2])));
        c[1].done.get(60, TimeUnit.SECONDS); // row 1 leaves; row 3 joins a batch with a hole behind it
        e.submit(List.of(req(prompts[3], max[3], c[3])));
        for (Collect x : c) {
          assertEquals(FinishReason.LENGTH, x.done.get(60, TimeUnit.SECONDS));
        }
        assertTrue(c[0].tokens.size() > c[1].tokens.size() + 10, "row 0 kept running while others came and went");
        for (int i = 0; i < prompts.length; i++) {
          assertArrayEquals(ref.get(i).tokenIds(), c[i].ids(), "sequence " + i);
          for (int j = 0; j < max[i]; j++) {
            assertEquals(ref.get(i).logProbs()[j], c[i].logprobs.get(j), 1e-4, "log-prob " + j + " of " + i);
          }
          assertEquals(c[i].tokens.get(c[i].tokens.size() - 1), c[i].lastTop[0], "greedy picks the top log-prob");
        }
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (e.running() > 0 && System.nanoTime() < until) {
          Thread.sleep(5);
        }
        assertEquals(0, e.running());
        assertEquals(0, e.cacheColumns(), "an idle engine holds no cache");
      }
    }
  }

  /** A long-running batch with turnover keeps its cache about as long as its longest row, not its age. */
  @Test
  void cacheIsTrimmedAsRowsTurnOver() throws Exception {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 3);
        ContinuousBatcher e = new ContinuousBatcher(m, new ContinuousBatcher.Options(4, 64, 1 << 20))) {
      long maxCols = 0;
      List<Collect> all = new ArrayList<>();
      for (int wave = 0; wave < 12; wave++) {
        Collect c = new Collect();
        all.add(c);
        e.submit(List.of(req(new int[] {1, 2, 3, 4, 5}, 20, c)));
        c.awaitTokens(10);
        maxCols = Math.max(maxCols, e.cacheColumns());
      }
      for (Collect c : all) {
        c.done.get(60, TimeUnit.SECONDS);
      }
      // 12 staggered sequences of 5 + 20 tokens: without trimming the cache would reach ~120+ columns
      assertTrue(maxCols <= 2 * 25 + 5, "cache columns peaked at " + maxCols);
    }
  }

  /** cancel() frees the row at the next step: no more tokens, the batch empties. */
  @Test
  void cancelStopsTheRow() throws Exception {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 5);
        ContinuousBatcher e = new ContinuousBatcher(m, new ContinuousBatcher.Options(4, 8, 1 << 20))) {
      Collect c = new Collect();
      ContinuousBatcher.Handle h = e.submit(List.of(req(new int[] {1, 2}, 200, c))).get(0);
      c.awaitTokens(3);
      h.cancel();
      int at = c.tokens.size();
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (e.running() > 0 && System.nanoTime() < until) {
        Thread.sleep(2);
      }
      assertEquals(0, e.running());
      assertTrue(c.tokens.size() <= at + 1, "at most the step in flight finishes: " + at + " → " + c.tokens.size());
      assertTrue(!c.done.isDone(), "a cancelled row gets no finish callback");
    }
  }

  /** Beyond the free rows and the waiting bound, submit refuses, all or nothing. */
  @Test
  void fullQueueRefuses() throws Exception {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 5);
        ContinuousBatcher e = new ContinuousBatcher(m, new ContinuousBatcher.Options(1, 1, 1 << 20))) {
      Collect a = new Collect();
      ContinuousBatcher.Handle ha = e.submit(List.of(req(new int[] {1}, 200, a))).get(0);
      a.awaitTokens(1);
      Collect b = new Collect();
      e.submit(List.of(req(new int[] {2}, 3, b)));
      assertEquals(1, e.waiting());
      assertThrows(ContinuousBatcher.QueueFullException.class, () -> e.submit(List.of(req(new int[] {3}, 3, new Collect()))));
      assertEquals(1, e.waiting(), "a refused submit queues nothing");
      ha.cancel();
      assertEquals(FinishReason.LENGTH, b.done.get(60, TimeUnit.SECONDS));
      assertEquals(3, b.tokens.size());
    }
  }

  @Test
  void topKOrdersLargestFirst() {
    float[] x = {0.1f, 3f, -1f, 3f, 2f};
    assertArrayEquals(new int[] {1, 3, 4}, ContinuousBatcher.topK(x, 3));
    assertArrayEquals(new int[] {}, ContinuousBatcher.topK(x, 0));
  }
}
