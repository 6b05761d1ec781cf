package io.r1cluster.core.verify;

import io.r1cluster.core.verify.Answer.Interval;
import io.r1cluster.core.verify.Answer.Items;
import io.r1cluster.core.verify.Answer.Matrix;
import io.r1cluster.core.verify.Answer.Relation;
import io.r1cluster.core.verify.Answer.Scalar;
import io.r1cluster.core.verify.Answer.Union;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Math-Verify's non-strict mode: variables matter only by position, so {@code f(x)} = {@code f(y)}.
 * Each single-letter variable is renamed by order of first appearance (the first becomes
 * {@code \alpha}, the second {@code \beta}, …) in both answers before they are compared.
 */
final class Variables {
  private Variables() {}

  private static final String[] NAMES = {"\\alpha", "\\beta", "\\gamma", "\\delta", "\\theta", "\\lambda", "\\mu", "\\nu"};

  static Answer positional(Answer a) {
    Map<Character, String> names = new LinkedHashMap<>();
    return map(a, names);
  }

  private static Answer map(Answer a, Map<Character, String> names) {
    if (a instanceof Scalar s) {
      String t = rename(s.tex(), names);
      return new Scalar(t, s.percent(), t);
    }
    if (a instanceof Items it) {
      return new Items(it.ordered(), all(it.items(), names), rename(it.source(), names));
    }
    if (a instanceof Relation r) {
      return new Relation(all(r.operands(), names), r.ops(), rename(r.source(), names));
    }
    if (a instanceof Interval i) {
      return new Interval(i.leftOpen(), map(i.lo(), names), map(i.hi(), names), i.rightOpen(), rename(i.source(), names));
    }
    if (a instanceof Union u) {
      return new Union(all(u.parts(), names), rename(u.source(), names));
    }
    Matrix m = (Matrix) a;
    return new Matrix(m.rows(), m.cols(), all(m.cells(), names), rename(m.source(), names));
  }

  private static List<Answer> all(List<Answer> xs, Map<Character, String> names) {
    List<Answer> out = new ArrayList<>();
    for (Answer x : xs) {
      out.add(map(x, names));
    }
    return out;
  }

  /** Renames letters outside command names; the function name of {@code f(x)} counts as a variable too. */
  private static String rename(String t, Map<Character, String> names) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < t.length(); i++) {
      char c = t.charAt(i);
      if (c == '\\') {
        int j = i + 1;
        while (j < t.length() && Character.isLetter(t.charAt(j))) {
          j++;
        }
        j = Math.max(j, Math.min(i + 2, t.length()));
        sb.append(t, i, j);
        i = j - 1;
        continue;
      }
      if (Character.isLetter(c) && !(i + 1 < t.length() && t.charAt(i + 1) == '(')) {
        char k = Character.toLowerCase(c);
        String n = names.computeIfAbsent(k, x -> names.size() < NAMES.length ? NAMES[names.size()] : String.valueOf(x));
        sb.append(n).append(' ');
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }
}
