package io.r1cluster.core.recipe;

import io.r1cluster.core.InputException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A recipe that does not validate. {@link #getMessage()} lists every error, one per line, each
 * {@code file:line: key: message}; the first error also fills {@link InputException}'s fields.
 */
public final class RecipeException extends InputException {
  private final List<RecipeError> errors;

  public RecipeException(List<RecipeError> errors) {
    super(errors.get(0).file(), errors.get(0).line(), errors.get(0).key(), errors.get(0).message());
    this.errors = List.copyOf(errors);
  }

  /** All errors, in file order. */
  public List<RecipeError> errors() {
    return errors;
  }

  @Override
  public String getMessage() {
    return errors.stream().map(RecipeError::toString).collect(Collectors.joining("\n"));
  }
}
