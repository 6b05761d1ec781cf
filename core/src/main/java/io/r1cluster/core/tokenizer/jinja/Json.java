package io.r1cluster.core.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps(value, ensure_ascii=False, indent=..., separators=..., sort_keys=...)},
 * which transformers installs as the {@code tojson} filter: default separators {@code ", "} and
 * {@code ": "} ({@code ","} between items when indented), key order kept, floats as Python's repr,
 * only {@code "}, {@code \} and control characters escaped.
 */
final class Json {
  private Json() {}

  static String dumps(int line, Object v, Integer indent, String itemSep, String keySep, boolean sortKeys) {
    String is = itemSep != null ? itemSep : indent == null ? ", " : ",";
    String ks = keySep != null ? keySep : ": ";
    StringBuilder sb = new StringBuilder();
    write(line, sb, v, indent, is, ks, sortKeys, 0);
    return sb.toString();
  }

  private static void write(int line, StringBuilder sb, Object v, Integer indent, String is, String ks,
      boolean sort, int level) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof Boolean b) {
      sb.append(b ? "true" : "false");
    } else if (v instanceof Long) {
      sb.append(v);
    } else if (v instanceof Double d) {
      sb.append(d.isNaN() ? "NaN" : d.isInfinite() ? (d > 0 ? "Infinity" : "-Infinity") : Py.floatRepr(d));
    } else if (v instanceof String s) {
      quote(sb, s);
    } else if (v instanceof List<?> l) {
      if (l.isEmpty()) {
        sb.append("[]");
        return;
      }
      sb.append('[');
      for (int k = 0; k < l.size(); k++) {
        if (k > 0) {
          sb.append(is);
        }
        newline(sb, indent, level + 1);
        write(line, sb, l.get(k), indent, is, ks, sort, level + 1);
      }
      newline(sb, indent, level);
      sb.append(']');
    } else if (v instanceof Map<?, ?> m) {
      if (m.isEmpty()) {
        sb.append("{}");
        return;
      }
      List<Object> keys = new ArrayList<>(m.keySet());
      if (sort) {
        keys.sort((a, b) -> Py.compare(line, a, b, "<"));
      }
      sb.append('{');
      boolean first = true;
      for (Object k : keys) {
        if (!first) {
          sb.append(is);
        }
        first = false;
        newline(sb, indent, level + 1);
        quote(sb, String.valueOf(k));
        sb.append(ks);
        write(line, sb, m.get(k), indent, is, ks, sort, level + 1);
      }
      newline(sb, indent, level);
      sb.append('}');
    } else if (v instanceof Py.Namespace) {
      throw new TemplateException(line, "Object of type Namespace is not JSON serializable");
    } else if (v instanceof Py.Undefined u) {
      throw new TemplateException(line, "tojson: " + u.hint + " is undefined (Object of type Undefined is not JSON serializable)");
    } else {
      throw new TemplateException(line, "Object of type " + Py.typeName(v) + " is not JSON serializable");
    }
  }

  private static void newline(StringBuilder sb, Integer indent, int level) {
    if (indent != null) {
      sb.append('\n').append(" ".repeat(indent * level));
    }
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
