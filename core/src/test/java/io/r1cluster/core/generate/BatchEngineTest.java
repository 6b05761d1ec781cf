package io.r1cluster.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The continuously batched engine against the per-call {@link Sampler} (the reference), same seeds. */
@Timeout(120)
class BatchEngineTest {
  static final Qwen2Config CFG = Qwen2Config.of(40, 32, 64, 2, 4, 2, 128, true);

  static String decode(int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int i : ids) {
      sb.append((char) ('a' + i % 26));
    }
    return sb.toString();
  }

  static final List<int[]> PROMPTS = List.of(new int[] {3, 9, 4}, new int[] {1, 2, 3, 4, 5, 6, 7}, new int[] {8},
      new int[] {3, 9, 4}, new int[] {11, 12, 13, 14, 15});

  static void assertSame(Completion want, Completion got, String what) {
    assertArrayEquals(want.tokenIds(), got.tokenIds(), what + ": tokens");
    assertEquals(want.finishReason(), got.finishReason(), what + ": finish reason");
    assertEquals(want.text(), got.text(), what + ": text");
    for (int i = 0; i < want.logProbs().length; i++) {
      assertEquals(want.logProbs()[i], got.logProbs()[i], 1e-4, what + ": log-prob " + i);
    }
  }

  /**
   * A sequence that was running when new weights came (version 1 before, 2 or later after): drained, it
   * is exactly what version 1 alone generates ({@code oldOnly}); in flight, its tokens after the update
   * came from the new weights. Greedy on these near-uniform random models mostly echoes its input, so
   * the log-probs are compared.
   */
  static void assertDrainedOrInFlight(boolean inflight, Completion oldOnly, Completion running) {
    float diff = 0;
    for (int i = 0; i < Math.min(oldOnly.logProbs().length, running.logProbs().length); i++) {
      diff = Math.max(diff, Math.abs(oldOnly.logProbs()[i] - running.logProbs()[i]));
    }
    if (inflight) {
      assertTrue(diff > 1e-3, "tokens after the update came from the new weights (max log-prob diff " + diff + ")");
    } else {
      assertArrayEquals(oldOnly.tokenIds(), running.tokenIds(), "drained: all tokens from version 1");
      assertTrue(diff < 1e-4, "drained: all log-probs from version 1 (" + diff + ")");
    }
  }

  static List<Completion> viaEngine(BatchEngine e, List<int[]> prompts, SamplingParams sp, long seed) throws Exception {
    List<BatchEngine.Request> rs = new ArrayList<>();
    for (int r = 0; r < prompts.size(); r++) {
      rs.add(new BatchEngine.Request(prompts.get(r), sp, Sampler.rowSeed(seed, r), null));
    }
    List<Completion> out = new ArrayList<>();
    for (BatchEngine.Handle h : e.submitAll(rs)) {
      out.add(h.result().get(60, TimeUnit.SECONDS));
    }
    return out;
  }

  @Test
  void greedyAndSampledMatchSampler() throws Exception {
    SamplingParams greedy = SamplingParams.greedy(12, List.of());
    SamplingParams sampled = new SamplingParams(1.0, 0.9, 20, 0.01, 12, List.of(7), List.of());
    SamplingParams hot = new SamplingParams(1.3, 1.0, 0, 0, 16, List.of(), List.of("ab"));
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 7);
        BatchEngine e = new BatchEngine(m, false, 3, BatchEngineTest::decode, new BatchEngine.Options(8, 64, false), "t")) {
      Sampler ref = new Sampler(m, BatchEngineTest::decode);
      for (SamplingParams sp : List.of(greedy, sampled, hot)) {
        for (long seed : new long[] {1, 42}) {
          List<Completion> want = ref.generate(PROMPTS, sp, seed, 3);
          List<Completion> got = viaEngine(e, PROMPTS, sp, seed);
          for (int r = 0; r < want.size(); r++) {
            assertSame(want.get(r), got.get(r), "T " + sp.temperature() + " seed " + seed + " row " + r);
            assertEquals(3, got.get(r).policyVersion());
          }
        }
      }
      // the sampled settings did stop some rows early and let others run on (rows left mid-batch)
      List<Completion> s = viaEngine(e, PROMPTS, sampled, 42);
      assertTrue(s.stream().anyMatch(c -> c.finishReason() == FinishReason.STOP), "some row met EOS");
      assertTrue(e.stats().prefillTokens() > 0 && e.stats().steps() > 0);
    }
  }

  /** A bf16 model (what a bf16 weight push builds) runs in the engine: bf16 KV rows, same greedy tokens as Sampler. */
  @Test
  void bf16ModelRunsInTheEngine() throws Exception {
    SamplingParams greedy = SamplingParams.greedy(10, List.of());
    try (Qwen2Model f32 = Qwen2Model.random(CFG, Device.cpu(), 5)) {
      java.util.Map<String, io.r1cluster.core.checkpoint.TensorData> named = new java.util.LinkedHashMap<>();
      f32.toTensors(io.r1cluster.core.checkpoint.DType.BF16).forEach(t -> named.put(t.name(), t));
      try (Qwen2Model m = Qwen2Model.fromTensors(CFG, named, Device.cpu(), ai.djl.ndarray.types.DataType.BFLOAT16);
          BatchEngine e = new BatchEngine(m, false, 1, BatchEngineTest::decode, new BatchEngine.Options(8, 64, false), "t")) {
        List<Completion> want = new Sampler(m, BatchEngineTest::decode).generate(PROMPTS, greedy, 3, 1);
        List<Completion> got = viaEngine(e, PROMPTS, greedy, 3);
        for (int r = 0; r < want.size(); r++) {
          assertArrayEquals(want.get(r).tokenIds(), got.get(r).tokenIds(), "bf16 row " + r);
        }
      }
    }
  }

  /** Sequences join while others run, rows are reused after they leave, and nothing changes a sequence's output. */
  @Test
  void joiningAndLeavingMidBatchDoNotChangeOutputs() throws Exception {
    SamplingParams sp = new SamplingParams(1.0, 1.0, 0, 0, 20, List.of(5), List.of());
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 11);
        BatchEngine e = new BatchEngine(m, false, 0, BatchEngineTest::decode, new BatchEngine.Options(3, 64, false), "t")) {
      Sampler ref = new Sampler(m, BatchEngineTest::decode);
      List<CompletableFuture<Completion>> got = new ArrayList<>();
      CountDownLatch started = new CountDownLatch(3);
      // the first sequence submits the next ones from its token stream, i.e. mid-batch
      AtomicInteger seen = new AtomicInteger();
      List<BatchEngine.Handle> late = new ArrayList<>();
      BatchEngine.Handle first = e.submit(PROMPTS.get(1), new SamplingParams(1.0, 1.0, 0, 0, 30, List.of(), List.of()), s0(99),
          (tok, lp) -> {
            int k = seen.incrementAndGet();
            if (k == 3 || k == 6 || k == 9) {
              synchronized (late) {
                late.add(e.submit(PROMPTS.get(k / 3 + 1), sp, s0(1000 + k), null));
              }
              started.countDown();
            }
          });
      assertTrue(started.await(60, TimeUnit.SECONDS));
      // 3 rows only: these 5 wait, then take rows freed by the ones that finish
      for (int r = 0; r < PROMPTS.size(); r++) {
        got.add(e.submit(PROMPTS.get(r), sp, s0(7 + r), null).result());
      }
      Completion f = first.result().get(60, TimeUnit.SECONDS);
      assertEquals(30, f.tokenIds().length);
      assertSame(refRow(ref, PROMPTS.get(1), new SamplingParams(1.0, 1.0, 0, 0, 30, List.of(), List.of()), 99), f, "first");
      synchronized (late) {
        for (int i = 0; i < late.size(); i++) {
          int k = 3 * (i + 1);
          assertSame(refRow(ref, PROMPTS.get(k / 3 + 1), sp, 1000 + k), late.get(i).result().get(60, TimeUnit.SECONDS),
              "joined at token " + k);
        }
      }
      for (int r = 0; r < PROMPTS.size(); r++) {
        assertSame(refRow(ref, PROMPTS.get(r), sp, 7 + r), got.get(r).get(60, TimeUnit.SECONDS), "queued " + r);
      }
      assertTrue(e.stats().maxActive() <= 3);
    }
  }

  /** What the reference draws for a one-prompt generation seeded {@code seed} (engine seed: rowSeed(seed, 0)). */
  static Completion refRow(Sampler ref, int[] prompt, SamplingParams sp, long seed) {
    return ref.generate(List.of(prompt), sp, seed, 0).get(0);
  }

  static long s0(long seed) {
    return Sampler.rowSeed(seed, 0);
  }

  @Test
  void cancelFreesTheRowAndStopsTokens() throws Exception {
    SamplingParams longRun = new SamplingParams(1.0, 1.0, 0, 0, 60, List.of(), List.of());
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 3);
        BatchEngine e = new BatchEngine(m, false, 0, BatchEngineTest::decode, new BatchEngine.Options(1, 80, false), "t")) {
      AtomicInteger tokens = new AtomicInteger();
      BatchEngine.Handle[] self = new BatchEngine.Handle[1];
      CountDownLatch submitted = new CountDownLatch(1);
      self[0] = e.submit(PROMPTS.get(0), longRun, 5, (tok, lp) -> {
        try {
          submitted.await();
        } catch (InterruptedException ex) {
          throw new IllegalStateException(ex);
        }
        if (tokens.incrementAndGet() == 4) {
          self[0].cancel();
        }
      });
      submitted.countDown();
      assertThrows(CancellationException.class, () -> self[0].result().get(60, TimeUnit.SECONDS));
      // the only row is free again: the next sequence runs to its end
      Completion next = e.submit(PROMPTS.get(2), SamplingParams.greedy(5, List.of()), 1, null).result().get(60, TimeUnit.SECONDS);
      assertEquals(5, next.tokenIds().length);
      assertEquals(4, tokens.get(), "no token reported after cancel()");
      // a sequence cancelled while it still waits never runs
      BatchEngine.Handle blocker = e.submit(PROMPTS.get(0), longRun, 6, null);
      BatchEngine.Handle queued = e.submit(PROMPTS.get(1), longRun, 7, (t, l) -> {
        throw new AssertionError("a cancelled waiting sequence produced a token");
      });
      queued.cancel();
      assertEquals(60, blocker.result().get(60, TimeUnit.SECONDS).tokenIds().length);
      assertTrue(queued.result().isCompletedExceptionally());
      assertEquals(5, e.submit(PROMPTS.get(2), SamplingParams.greedy(5, List.of()), 1, null).result().get(60, TimeUnit.SECONDS)
          .tokenIds().length);
    }
  }

  @Test
  void tooLongOrTooManyIsRefused() throws Exception {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 3);
        BatchEngine e = new BatchEngine(m, false, 0, BatchEngineTest::decode, new BatchEngine.Options(2, 16, false), "t")) {
      IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
          () -> e.submit(PROMPTS.get(1), SamplingParams.greedy(10, List.of()), 1, null));
      assertTrue(tooLong.getMessage().contains("16 positions"), tooLong.getMessage());
      List<BatchEngine.Request> three = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        three.add(new BatchEngine.Request(PROMPTS.get(0), SamplingParams.greedy(2, List.of()), i, null));
      }
      assertThrows(IllegalArgumentException.class, () -> e.submitAll(three));
    }
  }

  /**
   * Weights swapped while a sequence runs: by default the engine drains (the running sequence ends on
   * its version, the next one gets the new weights); in-flight, the swap happens at once and the
   * sequence keeps the oldest version that wrote its tokens.
   */
  @Test
  void weightSwapDrainsOrGoesInFlight() throws Exception {
    SamplingParams sp = SamplingParams.greedy(24, List.of());
    for (boolean inflight : new boolean[] {false, true}) {
      try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 3);
          BatchEngine e = new BatchEngine(m, false, 1, BatchEngineTest::decode, new BatchEngine.Options(4, 64, inflight), "t")) {
        Qwen2Model other = Qwen2Model.random(CFG, Device.cpu(), 4);
        Sampler refOld = new Sampler(m, BatchEngineTest::decode);
        CountDownLatch swapped = new CountDownLatch(1);
        AtomicInteger k = new AtomicInteger();
        BatchEngine.Handle running = e.submit(PROMPTS.get(1), sp, 1, (t, l) -> {
          if (k.incrementAndGet() == 2) {
            e.updateWeights(other, 2);
            swapped.countDown();
          }
        });
        assertTrue(swapped.await(60, TimeUnit.SECONDS));
        Completion after = e.submit(PROMPTS.get(0), sp, 1, null).result().get(60, TimeUnit.SECONDS);
        Completion r = running.result().get(60, TimeUnit.SECONDS);
        assertEquals(1, r.policyVersion(), "the oldest version that wrote its tokens");
        assertEquals(2, after.policyVersion());
        assertDrainedOrInFlight(inflight, refOld.generate(List.of(PROMPTS.get(1)), sp, 0, 1).get(0), r);
        assertEquals(2, e.version());
      }
    }
  }

  /** A write of {@code source}'s weights that counts what the engine did with it. */
  static final class CountingWrite implements BatchEngine.WeightWrite {
    final java.util.Map<String, io.r1cluster.core.checkpoint.TensorData> tensors;
    final AtomicInteger writes = new AtomicInteger();
    final AtomicInteger closes = new AtomicInteger();
    final RuntimeException failure;

    CountingWrite(Qwen2Model source, RuntimeException failure) {
      tensors = new io.r1cluster.core.data.WeightSnapshot(0, source.toTensors(io.r1cluster.core.checkpoint.DType.F32)).byName();
      this.failure = failure;
    }

    @Override
    public void writeInto(Qwen2Model model) {
      writes.incrementAndGet();
      if (failure != null) {
        throw failure;
      }
      model.overwrite(tensors);
    }

    @Override
    public void close() {
      closes.incrementAndGet();
    }
  }

  /**
   * Weights written into the running model in place follow the rules of a model swap (drain first, or
   * in flight), in the engine's own model object; a write superseded before it applied is closed
   * unwritten, and generation after the write is exactly that of the new weights.
   */
  @Test
  void weightsWrittenInPlaceDrainOrGoInFlight() throws Exception {
    SamplingParams sp = SamplingParams.greedy(24, List.of());
    for (boolean inflight : new boolean[] {false, true}) {
      try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 3);
          Qwen2Model oldCopy = Qwen2Model.random(CFG, Device.cpu(), 3);
          Qwen2Model other = Qwen2Model.random(CFG, Device.cpu(), 4);
          Qwen2Model third = Qwen2Model.random(CFG, Device.cpu(), 5);
          BatchEngine e = new BatchEngine(m, false, 1, BatchEngineTest::decode, new BatchEngine.Options(4, 64, inflight), "t")) {
        CountingWrite superseded = new CountingWrite(third, null);
        CountingWrite write = new CountingWrite(other, null);
        CountDownLatch handed = new CountDownLatch(1);
        AtomicInteger k = new AtomicInteger();
        BatchEngine.Handle running = e.submit(PROMPTS.get(1), sp, 1, (t, l) -> {
          if (k.incrementAndGet() == 2) { // on the engine thread: both arrive before the next step
            e.updateWeightsInPlace(superseded, 2);
            e.updateWeightsInPlace(write, 3);
            handed.countDown();
          }
        });
        assertTrue(handed.await(60, TimeUnit.SECONDS));
        Completion after = e.submit(PROMPTS.get(0), sp, 1, null).result().get(60, TimeUnit.SECONDS);
        Completion r = running.result().get(60, TimeUnit.SECONDS);
        assertEquals(1, r.policyVersion(), "the oldest version that wrote its tokens");
        assertEquals(3, after.policyVersion());
        assertSame(new Sampler(other, BatchEngineTest::decode).generate(List.of(PROMPTS.get(0)), sp, 0, 1).get(0), after,
            "after the write: the new weights' own generation");
        assertDrainedOrInFlight(inflight,
            new Sampler(oldCopy, BatchEngineTest::decode).generate(List.of(PROMPTS.get(1)), sp, 0, 1).get(0), r);
        assertEquals(3, e.version());
        assertTrue(e.withModel(x -> x == m).get(60, TimeUnit.SECONDS), "still the engine's own model object");
        assertEquals(0, superseded.writes.get(), "superseded: never written");
        assertEquals(1, superseded.closes.get(), "superseded: closed");
        assertEquals(1, write.writes.get());
        assertEquals(1, write.closes.get());
        io.r1cluster.core.model.OverwriteTest.assertSameTensors(other.toTensors(io.r1cluster.core.checkpoint.DType.F32),
            m.toTensors(io.r1cluster.core.checkpoint.DType.F32), "the engine's model after the write");
      }
    }
  }

  /**
   * A write that fails leaves the model's weights of no one version: the engine stops, failing the
   * running sequence with the cause and refusing later submissions; the write is still closed.
   */
  @Test
  void aFailedWriteStopsTheEngine() throws Exception {
    SamplingParams sp = SamplingParams.greedy(24, List.of());
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 3);
        BatchEngine e = new BatchEngine(m, false, 1, BatchEngineTest::decode, new BatchEngine.Options(4, 64, true), "t")) {
      CountingWrite broken = new CountingWrite(m, new IllegalStateException("device lost"));
      AtomicInteger k = new AtomicInteger();
      BatchEngine.Handle running = e.submit(PROMPTS.get(1), sp, 1, (t, l) -> {
        if (k.incrementAndGet() == 2) {
          e.updateWeightsInPlace(broken, 2);
        }
      });
      java.util.concurrent.ExecutionException x = assertThrows(java.util.concurrent.ExecutionException.class,
          () -> running.result().get(60, TimeUnit.SECONDS));
      assertTrue(x.getCause().getMessage().contains("writing weights version 2"), x.getCause().getMessage());
      assertEquals("device lost", x.getCause().getCause().getMessage());
      assertEquals(1, broken.writes.get());
      assertEquals(1, broken.closes.get());
      assertThrows(IllegalStateException.class, () -> e.submit(PROMPTS.get(0), sp, 1, null));
      assertEquals(1, e.version(), "the version did not advance");
      CountingWrite late = new CountingWrite(m, null);
      assertThrows(IllegalStateException.class, () -> e.updateWeightsInPlace(late, 3));
      assertEquals(0, late.writes.get());
      assertEquals(1, late.closes.get(), "a write handed to a stopped engine is released");
    }
  }
}
