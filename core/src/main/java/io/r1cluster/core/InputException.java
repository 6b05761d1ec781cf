package io.r1cluster.core;

import java.nio.file.Path;

/**
 * Bad user input (a recipe, a dataset row, a checkpoint file, a CLI flag). The CLI prints
 * {@link #getMessage()} and exits with code 2; nothing has been written when it is thrown.
 *
 * <p>The message is formatted {@code file:line: key: message} with the parts that are known.
 */
public class InputException extends RuntimeException {
  private final transient Path file;
  private final int line;
  private final String key;
  private final String detail;

  public InputException(Path file, int line, String key, String detail) {
    this(file, line, key, detail, null);
  }

  public InputException(Path file, int line, String key, String detail, Throwable cause) {
    super(format(file, line, key, detail), cause);
    this.file = file;
    this.line = line;
    this.key = key;
    this.detail = detail;
  }

  public InputException(String detail) {
    this(null, 0, null, detail);
  }

  public static String format(Path file, int line, String key, String detail) {
    StringBuilder sb = new StringBuilder();
    if (file != null) {
      sb.append(file);
      if (line > 0) {
        sb.append(':').append(line);
      }
      sb.append(": ");
    }
    if (key != null) {
      sb.append(key).append(": ");
    }
    sb.append(detail);
    return sb.toString();
  }

  public Path file() {
    return file;
  }

  /** 1-based line (or row) number, 0 when unknown. */
  public int line() {
    return line;
  }

  public String key() {
    return key;
  }

  public String detail() {
    return detail;
  }
}
