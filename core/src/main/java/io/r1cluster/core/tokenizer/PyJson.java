package io.r1cluster.core.tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * Python {@code json.dumps(x, ensure_ascii=False, indent=indent)} formatting: separators
 * {@code ", "} and {@code ": "} without indent, {@code ","} and newlines with it; key order kept.
 */
final class PyJson {
  private PyJson() {}

  static String dumps(JsonNode n, Integer indent) {
    StringBuilder sb = new StringBuilder();
    write(sb, n, indent, 0);
    return sb.toString();
  }

  private static void write(StringBuilder sb, JsonNode n, Integer indent, int level) {
    if (n == null || n.isNull() || n.isMissingNode()) {
      sb.append("null");
    } else if (n.isTextual()) {
      quote(sb, n.asText());
    } else if (n.isBoolean()) {
      sb.append(n.asBoolean() ? "true" : "false");
    } else if (n.isNumber()) {
      sb.append(n.isIntegralNumber() ? n.asText() : Double.toString(n.asDouble()));
    } else if (n.isArray()) {
      if (n.size() == 0) {
        sb.append("[]");
        return;
      }
      sb.append('[');
      for (int i = 0; i < n.size(); i++) {
        if (i > 0) {
          sb.append(indent == null ? ", " : ",");
        }
        newline(sb, indent, level + 1);
        write(sb, n.get(i), indent, level + 1);
      }
      newline(sb, indent, level);
      sb.append(']');
    } else if (n.isObject()) {
      if (n.size() == 0) {
        sb.append("{}");
        return;
      }
      sb.append('{');
      boolean first = true;
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!first) {
          sb.append(indent == null ? ", " : ",");
        }
        first = false;
        newline(sb, indent, level + 1);
        quote(sb, e.getKey());
        sb.append(": ");
        write(sb, e.getValue(), indent, level + 1);
      }
      newline(sb, indent, level);
      sb.append('}');
    } else {
      quote(sb, n.asText());
    }
  }

  private static void newline(StringBuilder sb, Integer indent, int level) {
    if (indent != null) {
      sb.append('\n').append(" ".repeat(indent * level));
    }
  }

  private static void quote(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
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
