package io.r1cluster.core.recipe;

import java.util.List;

/**
 * open-r1's {@code dataset_mixture}.
 *
 * @param datasets the datasets mixed (in order)
 * @param seed shuffle seed (0)
 * @param testSplitSize fraction held out as test split, or null for none
 */
public record DatasetMixture(List<Entry> datasets, long seed, Double testSplitSize) {
  public DatasetMixture {
    datasets = List.copyOf(datasets);
  }

  /**
   * One dataset of a mixture.
   *
   * @param id hub id or local path
   * @param config dataset config (subset), or null
   * @param split split to read ("train")
   * @param columns columns to keep (null = all)
   * @param weight fraction of its rows to keep, in (0, 1] (null = 1)
   */
  public record Entry(String id, String config, String split, List<String> columns, Double weight) {
    public Entry {
      columns = columns == null ? null : List.copyOf(columns);
    }
  }
}
