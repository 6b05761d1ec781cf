package io.r1cluster.core.recipe;

import java.util.Map;

/**
 * One pipeline stage.
 *
 * @param name unique stage name
 * @param type stage type
 * @param from input model
 * @param settings the top-level settings with this stage's overrides merged in, typed for {@code type}
 * @param line line of the stage in the recipe
 * @param keys the keys written in the stage itself (overrides and {@code name}/{@code type}/{@code from}/
 *     {@code from_dataset}), with their lines
 */
public record Stage(String name, StageType type, From from, RecipeSettings settings, int line, Map<String, Value> keys) {
  public Stage {
    keys = Map.copyOf(keys);
  }

  public Stage(String name, StageType type, From from, RecipeSettings settings, int line) {
    this(name, type, from, settings, line, Map.of());
  }

  /** Whether the stage itself sets {@code key} (not only the recipe's top level). */
  public boolean sets(String key) {
    Value v = keys.get(key);
    return v != null && v.value() != null;
  }

  /** The earlier generate stage whose dataset this stage trains on ({@code from_dataset}), or null. */
  public String fromDataset() {
    Value v = keys.get("from_dataset");
    return v == null || v.value() == null ? null : v.value().toString();
  }

  /** The line of {@code key} in the stage, else the stage's line. */
  public int lineOf(String key) {
    Value v = keys.get(key);
    return v != null && v.line() > 0 ? v.line() : line;
  }
}
