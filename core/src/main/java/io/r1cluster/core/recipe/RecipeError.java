package io.r1cluster.core.recipe;

import io.r1cluster.core.InputException;
import java.nio.file.Path;

/** One problem found in a recipe, formatted {@code file:line: key: message}. */
public record RecipeError(Path file, int line, String key, String message) {
  @Override
  public String toString() {
    return InputException.format(file, line, key, message);
  }
}
