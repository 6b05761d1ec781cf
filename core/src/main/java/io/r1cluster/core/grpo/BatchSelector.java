package io.r1cluster.core.grpo;

import java.util.ArrayList;
import java.util.List;

/**
 * Which scored groups make a training batch, with DAPO's dynamic sampling: walking the groups in
 * arrival order, a group whose rewards all agree (zero spread: no advantage, no gradient) is
 * <em>filtered</em> — consumed without training — while the filter budget lasts; every other group
 * joins the batch until it holds {@code size}. Once the budget is spent, flat groups train like the
 * others, so a step never waits forever on a task the policy always solves (or never does). Pure: the
 * caller removes the filtered groups, and trains the batch when it is {@link Selection#full()} (or
 * when no more groups can come).
 */
public final class BatchSelector {
  private BatchSelector() {}

  /**
   * Indices into the candidates.
   *
   * @param train the batch, in arrival order (at most {@code size})
   * @param filtered flat groups consumed without training, in arrival order
   * @param full whether {@code train} holds {@code size} groups
   */
  public record Selection(List<Integer> train, List<Integer> filtered, boolean full) {
    public Selection {
      train = List.copyOf(train);
      filtered = List.copyOf(filtered);
    }
  }

  /**
   * @param totals each candidate group's total rewards [G], in arrival order
   * @param size groups per batch
   * @param dynamicSampling whether flat groups are filtered at all
   * @param filterBudget how many more groups may be filtered for this batch
   */
  public static Selection select(List<float[]> totals, int size, boolean dynamicSampling, int filterBudget) {
    List<Integer> train = new ArrayList<>();
    List<Integer> filtered = new ArrayList<>();
    int budget = dynamicSampling ? Math.max(0, filterBudget) : 0;
    for (int i = 0; i < totals.size() && train.size() < size; i++) {
      if (budget > 0 && Advantages.zeroStd(totals.get(i))) {
        filtered.add(i);
        budget--;
      } else {
        train.add(i);
      }
    }
    return new Selection(train, filtered, train.size() == size);
  }
}
