package io.r1cluster.core.verify;

import java.util.ArrayList;
import java.util.List;

/** A bracketed answer: a set {@code \{…\}}, a tuple/interval {@code (…)}/{@code […]}, or a matrix. */
record Bracketed(Kind kind, String open, String close, List<String> items, int cols) {
  enum Kind { SET, TUPLE, INTERVAL, MATRIX }

  static Bracketed of(String s) {
    String t = s.trim();
    int mb = t.indexOf("\\begin{");
    if (mb == 0 && t.contains("matrix}")) {
      int start = t.indexOf('}', mb) + 1;
      int end = t.lastIndexOf("\\end{");
      if (end < start) {
        return null;
      }
      String body = t.substring(start, end);
      List<String> items = new ArrayList<>();
      int cols = -1;
      for (String row : body.split("\\\\\\\\")) {
        if (row.isBlank()) {
          continue;
        }
        String[] cells = row.split("&");
        if (cols >= 0 && cols != cells.length) {
          return null;
        }
        cols = cells.length;
        for (String c : cells) {
          items.add(c.trim());
        }
      }
      return new Bracketed(Kind.MATRIX, "", "", items, cols);
    }
    if (t.startsWith("\\{") && t.endsWith("\\}")) {
      return new Bracketed(Kind.SET, "{", "}", MathVerifier.splitTopAll(t.substring(2, t.length() - 2), ","), 0);
    }
    if (t.length() >= 2 && (t.charAt(0) == '(' || t.charAt(0) == '[')
        && (t.endsWith(")") || t.endsWith("]")) && closes(t)) {
      List<String> items = MathVerifier.splitTopAll(t.substring(1, t.length() - 1), ",");
      if (items.size() < 2) {
        return null; // "(5)" is a parenthesised scalar
      }
      String open = t.substring(0, 1);
      String close = t.substring(t.length() - 1);
      boolean interval = items.size() == 2 && (!open.equals("(") || !close.equals(")") || t.contains("\\infty"));
      return new Bracketed(interval ? Kind.INTERVAL : Kind.TUPLE, open, close, items, 0);
    }
    return null;
  }

  /** The first bracket closes at the end (not "(a)+(b)"). */
  private static boolean closes(String t) {
    int depth = 0;
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if (c == ')' || c == ']' || c == '}') {
        depth--;
        if (depth == 0 && i != t.length() - 1) {
          return false;
        }
      }
    }
    return depth == 0;
  }
}
