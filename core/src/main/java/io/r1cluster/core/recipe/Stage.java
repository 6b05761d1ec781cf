package io.r1cluster.core.recipe;

/**
 * One pipeline stage.
 *
 * @param name unique stage name
 * @param type stage type
 * @param from input model
 * @param settings the top-level settings with this stage's overrides merged in, typed for {@code type}
 * @param line line of the stage in the recipe
 */
public record Stage(String name, StageType type, From from, RecipeSettings settings, int line) {}
