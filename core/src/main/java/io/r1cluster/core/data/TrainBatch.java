package io.r1cluster.core.data;

import java.util.List;

/**
 * Scored groups with their group-relative advantages, ready for the learner.
 *
 * @param groups the scored groups
 * @param advantages one array per group, {@code advantages.get(i).length == groups.get(i).group().size()}
 */
public record TrainBatch(List<ScoredGroup> groups, List<float[]> advantages) {
  public TrainBatch {
    groups = List.copyOf(groups);
    advantages = List.copyOf(advantages);
    if (groups.size() != advantages.size()) {
      throw new IllegalArgumentException("groups " + groups.size() + " != advantages " + advantages.size());
    }
  }
}
