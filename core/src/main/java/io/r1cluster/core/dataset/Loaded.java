package io.r1cluster.core.dataset;

import java.util.List;

/**
 * Rows mapped from a dataset split.
 *
 * @param items the mapped rows, in dataset order (or shuffled order when the recipe shuffles)
 * @param skipped rows skipped as malformed ({@code skip_bad_rows: true}); 0 otherwise
 * @param firstSkipped the message of the first skipped row, or null
 */
public record Loaded<T>(List<T> items, int skipped, String firstSkipped) {
  public Loaded {
    items = List.copyOf(items);
  }
}
