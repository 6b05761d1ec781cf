package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.data.Prompt;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PromptLedgerTest {
  private static List<Prompt> prompts(int n) {
    List<Prompt> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(Prompt.ofProblem("p" + i, "q" + i, "a"));
    }
    return out;
  }

  @Test
  void budgetBoundsKeysInFlightPlusBuffered() {
    PromptLedger l = new PromptLedger(prompts(10), 1, 1, true, 4);
    List<PromptLedger.Dispatch> d = new ArrayList<>();
    while (l.canDispatch()) {
      d.add(l.next(Long.MAX_VALUE));
    }
    assertEquals(4, d.size());
    l.complete(d.get(0).dispatchId());
    assertFalse(l.canDispatch(), "a buffered group still counts against the budget");
    l.trained(d.get(0).key());
    assertTrue(l.canDispatch(), "trained: the budget frees");
  }

  @Test
  void timeoutRedispatchesAndTheLateReplyIsADuplicate() {
    PromptLedger l = new PromptLedger(prompts(2), 1, 1, false, 2);
    PromptLedger.Dispatch first = l.next(100);
    List<PromptLedger.Dispatch> again = l.expired(200, 1_000);
    assertEquals(1, again.size());
    assertEquals(first.key(), again.get(0).key());
    assertEquals(first.key(), l.complete(again.get(0).dispatchId()));
    assertEquals(-1, l.complete(first.dispatchId()), "late reply of the first attempt ignored");
    PromptLedger.Counters c = l.counters();
    assertEquals(1, c.retried());
    assertEquals(1, c.duplicateIgnored());
    assertEquals(1, c.completed());
    assertEquals(2, c.dispatched());
  }

  @Test
  void aRenewedAttemptOutlivesItsFirstDeadlineAndLapsesWhenReportsStop() {
    PromptLedger l = new PromptLedger(prompts(2), 1, 1, false, 2);
    PromptLedger.Dispatch d = l.next(100);
    assertTrue(l.renew(d.dispatchId(), 300), "its entity still holds it");
    assertTrue(l.renew(d.dispatchId(), 250), "an older report moves nothing back");
    assertTrue(l.expired(200, 1_000).isEmpty(), "renewed: not due at 200");
    assertTrue(l.lapsed(200).isEmpty());
    List<PromptLedger.Dispatch> again = l.expired(300, 1_000);
    assertEquals(1, again.size(), "no report since: due at 300");
    assertEquals(List.of(d.dispatchId()), l.lapsed(300), "the given-up attempt lapses, the new one does not");
    assertFalse(l.renew(d.dispatchId() + 100, 5_000), "an unknown attempt");
    assertEquals(d.key(), l.complete(again.get(0).dispatchId()));
    assertFalse(l.renew(d.dispatchId(), 5_000), "completed: nothing left to renew");
    assertTrue(l.lapsed(10_000).isEmpty());
  }

  @Test
  void theFirstReplyOfAnyAttemptWins() {
    PromptLedger l = new PromptLedger(prompts(1), 1, 1, false, 1);
    PromptLedger.Dispatch first = l.next(100);
    PromptLedger.Dispatch second = l.expired(200, 1_000).get(0);
    assertEquals(first.key(), l.complete(first.dispatchId()));
    assertEquals(-1, l.complete(second.dispatchId()));
  }

  @Test
  void failureRedispatchesOnlyWhenNoOtherAttemptIsLive() {
    PromptLedger l = new PromptLedger(prompts(1), 1, 1, false, 1);
    PromptLedger.Dispatch first = l.next(100);
    PromptLedger.Dispatch second = l.expired(200, 1_000).get(0);
    assertNull(l.failed(first.dispatchId(), 2_000), "second attempt still live");
    PromptLedger.Dispatch third = l.failed(second.dispatchId(), 2_000);
    assertEquals(first.key(), third.key());
    assertEquals(2, l.counters().retried());
  }

  @Test
  void staleGroupsGoBackToTheFrontAndEveryKeyIsTrainedOnce() {
    PromptLedger l = new PromptLedger(prompts(3), 2, 5, true, 2);
    Set<Long> seen = new HashSet<>();
    boolean dropped = false;
    while (!l.finished()) {
      PromptLedger.Dispatch d = l.next(Long.MAX_VALUE);
      long key = l.complete(d.dispatchId());
      if (!dropped) {
        l.dropStale(key);
        dropped = true;
        PromptLedger.Dispatch again = l.next(Long.MAX_VALUE);
        assertEquals(key, again.key(), "a dropped key is dispatched first");
        key = l.complete(again.dispatchId());
      }
      l.trained(key);
      assertTrue(seen.add(key));
    }
    assertEquals(6, seen.size());
    PromptLedger.Counters c = l.counters();
    assertEquals(1, c.droppedStale());
    assertEquals(6, c.trained());
    assertEquals(0, c.trainedTwice());
    assertEquals(7, c.completed());
    assertThrows(IllegalStateException.class, () -> l.trained(0));
  }

  @Test
  void epochsAreShuffledIndependentlyAndCoverEveryPrompt() {
    PromptLedger l = new PromptLedger(prompts(20), 2, 9, true, 40);
    List<Integer> first = new ArrayList<>();
    List<Integer> second = new ArrayList<>();
    while (l.canDispatch()) {
      PromptLedger.Dispatch d = l.next(Long.MAX_VALUE);
      (d.epoch() == 0 ? first : second).add((int) (d.key() % 20));
    }
    assertEquals(20, new HashSet<>(first).size());
    assertEquals(20, new HashSet<>(second).size());
    assertFalse(first.equals(second), "each epoch has its own order");
  }

  @Test
  void aRestoredLedgerDispatchesOnlyTheKeysNotYetConsumedInTheSameOrder() {
    PromptLedger fresh = new PromptLedger(prompts(5), 2, 7, true, 100);
    List<Long> order = new ArrayList<>();
    while (fresh.canDispatch()) {
      order.add(fresh.next(Long.MAX_VALUE).key());
    }
    PromptLedger l = new PromptLedger(prompts(5), 2, 7, true, 100);
    long[] trained = {order.get(0), order.get(1), order.get(5)};
    long[] filtered = {order.get(2)};
    l.restore(trained, filtered);
    List<Long> rest = new ArrayList<>();
    while (l.canDispatch()) {
      PromptLedger.Dispatch d = l.next(Long.MAX_VALUE);
      rest.add(d.key());
      l.complete(d.dispatchId());
      l.trained(d.key());
    }
    List<Long> expected = new ArrayList<>(order);
    expected.removeAll(List.of(order.get(0), order.get(1), order.get(5), order.get(2)));
    assertEquals(expected, rest, "the rest, in the fresh run's order");
    assertTrue(l.finished());
    assertEquals(9, l.counters().trained());
    assertEquals(1, l.counters().filtered());
    assertEquals(0, l.counters().trainedTwice());
    for (int n : l.trainedCounts()) {
      assertEquals(1, n);
    }
    assertThrows(IllegalArgumentException.class, () -> new PromptLedger(prompts(5), 2, 7, true, 100)
        .restore(new long[] {3, 3}, new long[0]), "a key restored twice");
    assertThrows(IllegalArgumentException.class, () -> new PromptLedger(prompts(5), 2, 7, true, 100)
        .restore(new long[] {10}, new long[0]), "a key outside the run");
  }
}
