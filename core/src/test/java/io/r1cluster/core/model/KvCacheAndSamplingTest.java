package io.r1cluster.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.generate.Sampler;
import io.r1cluster.core.generate.SamplingParams;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class KvCacheAndSamplingTest {
  static final Qwen2Config CFG = Qwen2Config.of(40, 32, 64, 2, 4, 2, 64, true);

  /** Incremental decoding (prefill + one token at a time, left padding) gives the full forward's logits. */
  @Test
  void kvCacheMatchesFullForward() {
    long[][] ids = {{0, 0, 3, 9, 4, 7, 1, 5}, {2, 8, 6, 6, 3, 1, 9, 4}};
    long[][] valid = {{0, 0, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 1, 1, 1}};
    long[][] pos = {{0, 0, 0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5, 6, 7}};
    int prefill = 5;
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 5); NDManager s = NDManager.newBaseManager();
        Qwen2Model.KvCache cache = m.newCache()) {
      NDArray full = m.logits(s, s.create(ids), s.create(valid), s.create(pos)); // [2,8,V]
      NDArray first = m.forwardCached(s, s.create(cut(ids, 0, prefill)), s.create(cut(valid, 0, prefill)),
          s.create(cut(pos, 0, prefill)), cache);
      double max = first.sub(full.get(":, 0:" + prefill + ", :")).mul(s.create(cut(valid, 0, prefill)).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).expandDims(-1)).abs().max().getFloat();
      for (int t = prefill; t < 8; t++) {
        NDArray step = m.forwardCached(s, s.create(cut(ids, t, t + 1)), s.create(cut(valid, t, t + 1)), s.create(cut(pos, t, t + 1)), cache);
        max = Math.max(max, step.sub(full.get(":, " + t + ":" + (t + 1) + ", :")).abs().max().getFloat());
      }
      assertEquals(8, cache.length());
      assertTrue(max <= 1e-5, "cache vs full max |diff| " + max);
    }
  }

  /** A prefill with {@code lastOnly} gives the last position's logits of a full prefill, [B,1,V], and the same cache. */
  @Test
  void lastOnlyPrefillGivesTheLastPositionsLogits() {
    long[][] ids = {{0, 0, 3, 9, 4}, {2, 8, 6, 6, 3}};
    long[][] valid = {{0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}};
    long[][] pos = {{0, 0, 0, 1, 2}, {0, 1, 2, 3, 4}};
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 5); NDManager s = NDManager.newBaseManager();
        Qwen2Model.KvCache a = m.newCache(); Qwen2Model.KvCache b = m.newCache()) {
      NDArray all = m.forwardCached(s, s.create(ids), s.create(valid), s.create(pos), a);
      NDArray last = m.forwardCached(s, s.create(ids), s.create(valid), s.create(pos), b, true);
      assertEquals(new ai.djl.ndarray.types.Shape(2, 1, CFG.vocabSize()), last.getShape());
      assertTrue(last.sub(all.get(":, 4:5, :")).abs().max().getFloat() <= 1e-6f);
      long[][] next = {{7}, {1}};
      long[][] one = {{1}, {1}};
      long[][] p5 = {{3}, {5}};
      NDArray sa = m.forwardCached(s, s.create(next), s.create(one), s.create(p5), a);
      NDArray sb = m.forwardCached(s, s.create(next), s.create(one), s.create(p5), b);
      assertTrue(sa.sub(sb).abs().max().getFloat() <= 1e-6f, "the cache after a last-only prefill differs");
    }
  }

  static long[][] cut(long[][] a, int from, int to) {
    return Arrays.stream(a).map(r -> Arrays.copyOfRange(r, from, to)).toArray(long[][]::new);
  }

  static String decode(int[] ids) {
    StringBuilder sb = new StringBuilder();
    for (int i : ids) {
      sb.append((char) ('a' + i % 26));
    }
    return sb.toString();
  }

  @Test
  void greedyIsArgmaxAndMatchesNoCachePath() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 9); NDManager s = NDManager.newBaseManager()) {
      Sampler sampler = new Sampler(m, KvCacheAndSamplingTest::decode);
      int[] prompt = {3, 9, 4};
      Completion c = sampler.generate(List.of(prompt), SamplingParams.greedy(6, List.of()), 1, 0).get(0);
      assertEquals(6, c.tokenIds().length);
      assertEquals(FinishReason.LENGTH, c.finishReason());
      // each greedy token is the argmax of the full forward over prompt + tokens so far
      long[] seq = new long[prompt.length + c.tokenIds().length];
      for (int i = 0; i < prompt.length; i++) {
        seq[i] = prompt[i];
      }
      for (int i = 0; i < c.tokenIds().length; i++) {
        seq[prompt.length + i] = c.tokenIds()[i];
      }
      long[] p = new long[seq.length];
      long[] v = new long[seq.length];
      for (int i = 0; i < seq.length; i++) {
        p[i] = i;
        v[i] = 1;
      }
      NDArray logits = m.logits(s, s.create(new long[][] {seq}), s.create(new long[][] {v}), s.create(new long[][] {p}));
      for (int i = 0; i < c.tokenIds().length; i++) {
        long argmax = logits.get("0, " + (prompt.length - 1 + i) + ", :").argMax().getLong();
        assertEquals(argmax, c.tokenIds()[i], "token " + i);
      }
      Completion noCache = sampler.generate(List.of(prompt), SamplingParams.greedy(6, List.of()), 1, 0, false).get(0);
      assertArrayEquals(c.tokenIds(), noCache.tokenIds());
      assertEquals(decode(c.tokenIds()), c.text());
    }
  }

  @Test
  void seededSamplingIsReproducibleAndStopsAtEos() {
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 9)) {
      Sampler sampler = new Sampler(m, KvCacheAndSamplingTest::decode);
      SamplingParams sp = new SamplingParams(1.0, 0.95, 20, 0.01, 12, List.of(), List.of());
      List<int[]> prompts = List.of(new int[] {1, 2, 3}, new int[] {7}, new int[] {5, 5});
      List<Completion> a = sampler.generate(prompts, sp, 123, 4);
      List<Completion> b = sampler.generate(prompts, sp, 123, 4);
      List<Completion> c = sampler.generate(prompts, sp, 124, 4);
      for (int i = 0; i < 3; i++) {
        assertArrayEquals(a.get(i).tokenIds(), b.get(i).tokenIds());
        assertArrayEquals(a.get(i).logProbs(), b.get(i).logProbs());
        assertEquals(4, a.get(i).policyVersion());
        for (float lp : a.get(i).logProbs()) {
          assertTrue(lp <= 0 && Float.isFinite(lp));
        }
      }
      assertNotEquals(Arrays.toString(a.get(0).tokenIds()) + Arrays.toString(a.get(1).tokenIds()),
          Arrays.toString(c.get(0).tokenIds()) + Arrays.toString(c.get(1).tokenIds()));
      int eos = a.get(0).tokenIds()[2];
      Completion stopped = sampler.generate(List.of(prompts.get(0)), new SamplingParams(1.0, 0.95, 20, 0.01, 12, List.of(eos), List.of()), 123, 4).get(0);
      assertEquals(FinishReason.STOP, stopped.finishReason());
      assertEquals(eos, stopped.tokenIds()[stopped.tokenIds().length - 1]);
      assertTrue(stopped.tokenIds().length <= 3);
    }
  }
}
