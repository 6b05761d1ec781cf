package io.r1cluster.core.tokenizer.jinja;

/**
 * A template that cannot be parsed or rendered (syntax error, undefined value used, unsupported
 * construct, {@code raise_exception}); {@link #line()} is the template line, 0 when unknown.
 */
public class TemplateException extends RuntimeException {
  private final int line;
  private final boolean raised;

  public TemplateException(int line, String message) {
    this(line, message, false);
  }

  TemplateException(int line, String message, boolean raised) {
    super(message);
    this.line = line;
    this.raised = raised;
  }

  /** The template line (1-based), 0 when unknown. */
  public int line() {
    return line;
  }

  /** Whether the template itself called {@code raise_exception(message)}. */
  public boolean raised() {
    return raised;
  }
}
