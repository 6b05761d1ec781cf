package io.r1cluster.core.data;

import java.util.List;

/**
 * A group with its rewards.
 *
 * @param group the sampled group
 * @param rewardNames reward function names, column order of {@code rewards}
 * @param rewards reward matrix {@code [G][F]}; {@code Float.NaN} where a function gave no score
 * @param total weighted total per completion ({@code reward_weights}); {@code Float.NaN} when every
 *     function gave no score for that completion (the learner excludes it from group statistics)
 */
public record ScoredGroup(Group group, List<String> rewardNames, float[][] rewards, float[] total) {
  public ScoredGroup {
    rewardNames = List.copyOf(rewardNames);
    if (rewards.length != group.size() || total.length != group.size()) {
      throw new IllegalArgumentException("reward rows " + rewards.length + " / totals " + total.length
          + " != group size " + group.size());
    }
  }
}
