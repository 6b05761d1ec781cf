package io.r1cluster.core.reward;

import java.util.List;
import java.util.Map;

/**
 * One batch handed to a reward function (open-r1's call shape: completions plus per-row columns).
 *
 * @param completions completion texts, one per row
 * @param completionIds completion token ids per row ({@code null} when unknown)
 * @param columns per-row dataset columns, e.g. {@code solution}; each list has one entry per row
 */
public record RewardInput(List<String> completions, List<int[]> completionIds, Map<String, List<Object>> columns) {
  public RewardInput {
    completions = List.copyOf(completions);
    columns = columns == null ? Map.of() : Map.copyOf(columns);
  }

  public int size() {
    return completions.size();
  }

  /** The value of a column for one row, or {@code null}. */
  public Object column(String name, int row) {
    List<Object> c = columns.get(name);
    return c == null ? null : c.get(row);
  }
}
