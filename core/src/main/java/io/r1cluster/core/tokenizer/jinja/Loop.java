package io.r1cluster.core.tokenizer.jinja;

import java.util.List;

/** The {@code loop} variable of a {@code for} body. */
final class Loop {
  private final List<Object> items;
  int index0;

  Loop(List<Object> items) {
    this.items = items;
  }

  /** An attribute value, or null when {@code loop} has no such attribute. */
  Object attr(String name) {
    int n = items.size();
    return switch (name) {
      case "index0" -> (long) index0;
      case "index" -> (long) index0 + 1;
      case "revindex" -> (long) (n - index0);
      case "revindex0" -> (long) (n - index0 - 1);
      case "first" -> index0 == 0;
      case "last" -> index0 == n - 1;
      case "length" -> (long) n;
      case "depth" -> 1L;
      case "depth0" -> 0L;
      case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Py.Undefined("'loop.previtem'");
      case "nextitem" -> index0 < n - 1 ? items.get(index0 + 1) : new Py.Undefined("'loop.nextitem'");
      case "cycle" -> (Py.Callable) (line, a, kw) -> {
        if (a.isEmpty()) {
          throw new TemplateException(line, "loop.cycle() needs at least one item");
        }
        return a.get(index0 % a.size());
      };
      default -> null;
    };
  }
}
