package io.r1cluster.core.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorBoardEventsTest {

  @Test
  void crc32cMatchesTheStandardCheckValue() {
    byte[] nine = "123456789".getBytes(StandardCharsets.US_ASCII);
    assertEquals(0xE3069283, TfEventReader.crc32c(nine, 0, 9)); // the CRC-32C catalogue check value
    assertEquals(TfEventReader.mask(0xE3069283), TensorBoardEvents.maskedCrc(nine, 0, 9));
  }

  @Test
  void scalarsReadBackRecordByRecordWithBothCrcs(@TempDir Path dir) throws Exception {
    Path file;
    try (TensorBoardEvents tb = new TensorBoardEvents(dir.resolve("runs/x"), 0)) {
      file = tb.file();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("loss", 2.5);
      m.put("learning_rate", 1.0e-5);
      m.put("grad_norm", 0.75f);
      m.put("num_tokens", 1234L);
      m.put("rewards/accuracy/mean", 0.125);
      m.put("note", "not a number"); // skipped
      m.put("epoch", 0.5);
      tb.log(1, m);
      tb.log(2, Map.of("eval_loss", 3.25));
      tb.log(300_000, Map.of("loss", Double.NaN));
    }
    assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."), file.toString());
    List<TfEventReader.Event> ev = TfEventReader.read(file);
    assertEquals(4, ev.size());
    assertEquals("brain.Event:2", ev.get(0).fileVersion());
    assertTrue(ev.get(0).wallTime() > 1.6e9, "wall_time in seconds: " + ev.get(0).wallTime());
    TfEventReader.Event one = ev.get(1);
    assertEquals(1, one.step());
    assertEquals(List.of("train/loss", "train/learning_rate", "train/grad_norm", "train/num_tokens",
        "train/rewards/accuracy/mean", "train/epoch"), List.copyOf(one.scalars().keySet()));
    assertEquals(2.5f, one.scalars().get("train/loss"));
    assertEquals(1.0e-5f, one.scalars().get("train/learning_rate"));
    assertEquals(0.75f, one.scalars().get("train/grad_norm"));
    assertEquals(1234f, one.scalars().get("train/num_tokens"));
    assertEquals(0.125f, one.scalars().get("train/rewards/accuracy/mean"));
    assertEquals(Map.of("eval/loss", 3.25f), ev.get(2).scalars());
    assertEquals(300_000, ev.get(3).step()); // a multi-byte varint
    assertTrue(Float.isNaN(ev.get(3).scalars().get("train/loss")));
  }

  @Test
  void aFlippedBitIsCaughtByTheReader(@TempDir Path dir) throws Exception {
    Path file;
    try (TensorBoardEvents tb = new TensorBoardEvents(dir, 0)) {
      file = tb.file();
      tb.log(1, Map.of("loss", 1.0));
    }
    byte[] b = Files.readAllBytes(file);
    b[b.length - 6] ^= 0x01; // inside the last record's data
    Files.write(file, b);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TfEventReader.read(file));
    assertEquals("record 1: data CRC mismatch", e.getMessage());
    b[b.length - 6] ^= 0x01;
    b[3] ^= 0x10; // the first record's length
    Files.write(file, b);
    e = assertThrows(IllegalStateException.class, () -> TfEventReader.read(file));
    assertEquals("record 0: length CRC mismatch", e.getMessage());
  }

  @Test
  void aResumedRunMarksTheOrphanedStepsForPurging(@TempDir Path dir) throws Exception {
    Path file;
    try (TensorBoardEvents tb = new TensorBoardEvents(dir, 5)) {
      file = tb.file();
      tb.log(5, Map.of("loss", 1.0));
    }
    List<TfEventReader.Event> ev = TfEventReader.read(file);
    assertEquals(4, ev.size());
    assertEquals(5, ev.get(1).step());
    assertEquals("brain.Event:2", ev.get(1).fileVersion());
    assertEquals(5, ev.get(2).step());
    assertEquals(1, ev.get(2).sessionStatus()); // SessionLog START
    assertNull(ev.get(3).sessionStatus());
  }

  @Test
  void transformersTagNames() {
    assertEquals("train/loss", TensorBoardEvents.tag("loss"));
    assertEquals("eval/mean_token_accuracy", TensorBoardEvents.tag("eval_mean_token_accuracy"));
    assertEquals("test/loss", TensorBoardEvents.tag("test_loss"));
    assertFalse(TensorBoardEvents.tag("kl").startsWith("eval"));
  }
}
