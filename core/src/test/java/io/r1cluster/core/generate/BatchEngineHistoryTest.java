package io.r1cluster.core.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Device;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A group's completions do not depend on what the engine ran before it: a fresh engine and one whose
 * cache already grew for longer, wider batches give bit-identical tokens and log-probs. This is what
 * makes a resumed GRPO run (a new engine) repeat the uninterrupted one at {@code max_staleness: 0}.
 */
@Timeout(120)
class BatchEngineHistoryTest {
  static final Qwen2Config CFG = Qwen2Config.of(40, 64, 128, 2, 4, 2, 256, true);

  @Test
  void aGroupIsTheSameOnAFreshAndAWornEngine() throws Exception {
    SamplingParams sp = new SamplingParams(1.0, 1.0, 0, 0, 40, List.of(5), List.of());
    List<int[]> group = Collections.nCopies(8, new int[] {3, 9, 4, 17, 21, 2});
    try (Qwen2Model m = Qwen2Model.random(CFG, Device.cpu(), 11);
        BatchEngine fresh = new BatchEngine(m, false, 0, BatchEngineTest::decode, new BatchEngine.Options(64, 200, false), "f");
        BatchEngine worn = new BatchEngine(m, false, 0, BatchEngineTest::decode, new BatchEngine.Options(64, 200, false), "w")) {
      // wear: a wide batch of long sequences grows the worn engine's cache in rows and positions
      List<int[]> wide = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        wide.add(new int[] {1 + i % 30, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
      }
      BatchEngineTest.viaEngine(worn, wide, new SamplingParams(1.0, 1.0, 0, 0, 150, List.of(), List.of()), 99);
      for (long seed : new long[] {1, 2, 3}) {
        List<Completion> a = BatchEngineTest.viaEngine(fresh, group, sp, seed);
        List<Completion> b = BatchEngineTest.viaEngine(worn, group, sp, seed);
        for (int r = 0; r < a.size(); r++) {
          assertArrayEquals(a.get(r).tokenIds(), b.get(r).tokenIds(), "seed " + seed + " row " + r + ": tokens");
          assertArrayEquals(a.get(r).logProbs(), b.get(r).logProbs(), "seed " + seed + " row " + r + ": log-probs, bit for bit");
        }
      }
    }
  }
}
