package io.r1cluster.core.recipe;

/** The YAML value shapes a recipe key accepts (mirroring the Python annotations of the source dataclass). */
public enum ValueType {
  /** An integer ({@code int}). */
  INT("an integer"),
  /** A number; integers are widened ({@code float}). */
  FLOAT("a number"),
  /** {@code true} / {@code false}. */
  BOOL("a boolean"),
  /** Any scalar, kept as its text. */
  STRING("a string"),
  /** A list of scalars (a single scalar is accepted as a one-element list). */
  STRING_LIST("a list of strings"),
  /** A list of numbers. */
  FLOAT_LIST("a list of numbers"),
  /** Any list. */
  LIST("a list"),
  /** A mapping. */
  DICT("a mapping"),
  /** A mapping or a string (JSON text or a file name in transformers). */
  DICT_OR_STRING("a mapping or a string"),
  /** A string or a list of strings. */
  STRING_OR_LIST("a string or a list of strings"),
  /** A boolean or a string. */
  BOOL_OR_STRING("a boolean or a string"),
  /** One of a fixed set of strings (case-insensitive). */
  ENUM("one of"),
  /** One of a fixed set of strings, or a boolean that maps to one of them. */
  ENUM_OR_BOOL("a boolean or one of");

  private final String description;

  ValueType(String description) {
    this.description = description;
  }

  /** Human phrase used in error messages ("expected an integer"). */
  public String description() {
    return description;
  }
}
