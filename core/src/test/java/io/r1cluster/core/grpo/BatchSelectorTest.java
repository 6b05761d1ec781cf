package io.r1cluster.core.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class BatchSelectorTest {
  static final float[] FLAT = {1, 1, 1, 1};
  static final float[] ZERO = {0, 0, 0, 0};
  static final float[] VARIED = {1, 0, 0, 1};

  @Test
  void dynamicSamplingFiltersFlatGroupsAndFillsTheBatchWithVariedOnes() {
    // arrival order: flat, varied, zero, varied, varied, flat, varied
    List<float[]> groups = List.of(FLAT, VARIED, ZERO, VARIED, VARIED, FLAT, VARIED);
    BatchSelector.Selection s = BatchSelector.select(groups, 3, true, 10);
    assertEquals(List.of(1, 3, 4), s.train());
    assertEquals(List.of(0, 2), s.filtered(), "only the flat groups before the batch filled are consumed");
    assertTrue(s.full());
  }

  @Test
  void notEnoughVariedGroupsMeansRefill() {
    BatchSelector.Selection s = BatchSelector.select(List.of(VARIED, FLAT, ZERO), 2, true, 10);
    assertEquals(List.of(0), s.train());
    assertEquals(List.of(1, 2), s.filtered());
    assertFalse(s.full(), "the caller generates more groups");
    // the refill: the filtered groups are gone, new ones arrive
    BatchSelector.Selection again = BatchSelector.select(List.of(VARIED, FLAT, VARIED), 2, true, 10 - 2);
    assertEquals(List.of(0, 2), again.train());
    assertTrue(again.full());
  }

  @Test
  void aSpentBudgetTrainsFlatGroupsSoTheStepEnds() {
    BatchSelector.Selection s = BatchSelector.select(List.of(FLAT, ZERO, FLAT, VARIED), 3, true, 1);
    assertEquals(List.of(0), s.filtered());
    assertEquals(List.of(1, 2, 3), s.train());
    assertTrue(s.full());
  }

  @Test
  void withoutDynamicSamplingTheFirstGroupsTrainWhateverTheirSpread() {
    BatchSelector.Selection s = BatchSelector.select(List.of(FLAT, VARIED, ZERO, VARIED), 3, false, 100);
    assertEquals(List.of(0, 1, 2), s.train());
    assertEquals(List.of(), s.filtered());
    assertTrue(s.full());
    assertFalse(BatchSelector.select(List.of(VARIED), 3, false, 0).full());
  }
}
