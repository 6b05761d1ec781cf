package io.r1cluster.core.recipe;

/**
 * A key the recipe sets that r1-cluster accepts but does not act on.
 *
 * @param key the key ({@code pipeline.STAGE.key} for a stage override)
 * @param line line in the recipe
 * @param source where the key comes from upstream
 */
public record IgnoredKey(String key, int line, String source) {
  @Override
  public String toString() {
    return key + " (line " + line + ", " + source + ")";
  }
}
