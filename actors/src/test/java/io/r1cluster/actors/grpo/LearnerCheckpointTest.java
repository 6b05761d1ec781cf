package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.train.EpochOrder;
import io.r1cluster.core.train.RunFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LearnerCheckpointTest {
  @TempDir Path tmp;

  @Test
  void stateHoldsTheConsumedKeysAndReadsBackOnlyForTheSameRun() throws Exception {
    LearnerCheckpoint c = new LearnerCheckpoint(null);
    c.consumed(new long[] {4, 1}, new long[0]);
    c.consumed(new long[] {7}, new long[] {2});
    ObjectNode st = c.state(2, 5, 2, 5, 2, 9, true);
    assertEquals(0.8, st.get("epoch").asDouble(), 1e-9);
    assertEquals("[3,1]", st.get("ledger").get("consumed_per_epoch").toString());
    Files.writeString(tmp.resolve(RunFolder.STATE_FILE), st.toString());

    LearnerCheckpoint.Resume r = LearnerCheckpoint.read(tmp, 5, 2, 9, true, 1);
    assertEquals(2, r.step());
    assertEquals(2, r.version());
    assertArrayEquals(new long[] {1, 4, 7}, r.trainedKeys());
    assertArrayEquals(new long[] {2}, r.filteredKeys());

    InputException e = assertThrows(InputException.class, () -> LearnerCheckpoint.read(tmp, 6, 2, 9, true, 1));
    assertTrue(e.getMessage().contains("ledger.prompts") && e.getMessage().contains(RunFolder.STATE_FILE), e.getMessage());
    e = assertThrows(InputException.class, () -> LearnerCheckpoint.read(tmp, 5, 2, 10, true, 1));
    assertTrue(e.getMessage().contains("ledger.seed"), e.getMessage());
    Files.writeString(tmp.resolve(RunFolder.STATE_FILE), "{\"epoch\": 2}");
    e = assertThrows(InputException.class, () -> LearnerCheckpoint.read(tmp, 5, 2, 9, true, 1));
    assertTrue(e.getMessage().contains("not a GRPO checkpoint") && e.getMessage().contains("ledger"), e.getMessage());
  }

  @Test
  void aCheckpointOfTheInProcessTrainerResumesAtItsPosition() throws Exception {
    // GrpoTrainer: step 3 of 2 prompts per step over 4 prompts = epoch 0 whole, then 2 of epoch 1
    Files.writeString(tmp.resolve(RunFolder.STATE_FILE), "{\"global_step\": 3, \"max_steps\": 4, \"policy_version\": 3}");
    LearnerCheckpoint.Resume r = LearnerCheckpoint.read(tmp, 4, 2, 11, true, 2);
    assertEquals(3, r.step());
    assertEquals(3, r.version());
    int[] e0 = EpochOrder.permutation(4, 11);
    int[] e1 = EpochOrder.permutation(4, 12);
    assertArrayEquals(new long[] {e0[0], e0[1], e0[2], e0[3], 4 + e1[0], 4 + e1[1]}, r.trainedKeys());
    assertEquals(0, r.filteredKeys().length);
  }

  @Test
  void nonFiniteWeightsAreRefusedNamingTheTensor() {
    TensorData ok = TensorData.ofFloats("a", new long[] {2}, new float[] {1f, -2f});
    LearnerCheckpoint.requireFinite(List.of(ok), 3);
    for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
      TensorData t = TensorData.ofFloats("model.norm.weight", new long[] {3}, new float[] {1f, bad, 0f});
      IllegalStateException e = assertThrows(IllegalStateException.class,
          () -> LearnerCheckpoint.requireFinite(List.of(ok, t), 3));
      assertTrue(e.getMessage().contains("model.norm.weight") && e.getMessage().contains("element 1"), e.getMessage());
    }
  }
}
