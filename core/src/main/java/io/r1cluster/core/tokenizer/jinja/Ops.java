package io.r1cluster.core.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;

/** Python's binary operators and comparisons on template values. */
final class Ops {
  private Ops() {}

  static Object binary(int line, String op, Object a, Object b) {
    if (op.equals("~")) {
      return Py.str(a) + Py.str(b);
    }
    if (a instanceof Py.Undefined u) {
      throw u.error(line);
    }
    if (b instanceof Py.Undefined u) {
      throw u.error(line);
    }
    boolean nums = Py.isNumber(a) && Py.isNumber(b);
    boolean ints = Py.isInt(a) && Py.isInt(b);
    switch (op) {
      case "+":
        if (nums) {
          return ints ? (Object) (Py.toLong(a) + Py.toLong(b)) : (Object) (Py.toDouble(a) + Py.toDouble(b));
        }
        if (a instanceof String x && b instanceof String y) {
          return x + y;
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
          List<Object> out = new ArrayList<>(x);
          out.addAll(y);
          return out;
        }
        if (a instanceof String) {
          throw new TemplateException(line, "can only concatenate str (not \"" + Py.typeName(b) + "\") to str");
        }
        break;
      case "-":
        if (nums) {
          return ints ? (Object) (Py.toLong(a) - Py.toLong(b)) : (Object) (Py.toDouble(a) - Py.toDouble(b));
        }
        break;
      case "*":
        if (nums) {
          return ints ? (Object) (Py.toLong(a) * Py.toLong(b)) : (Object) (Py.toDouble(a) * Py.toDouble(b));
        }
        if (a instanceof String s && Py.isInt(b)) {
          return s.repeat((int) Math.max(0, Py.toLong(b)));
        }
        if (b instanceof String s && Py.isInt(a)) {
          return s.repeat((int) Math.max(0, Py.toLong(a)));
        }
        if (a instanceof List<?> l && Py.isInt(b)) {
          List<Object> out = new ArrayList<>();
          for (long k = 0; k < Py.toLong(b); k++) {
            out.addAll(l);
          }
          return out;
        }
        break;
      case "/":
        if (nums) {
          if (Py.toDouble(b) == 0) {
            throw new TemplateException(line, "division by zero");
          }
          return Py.toDouble(a) / Py.toDouble(b);
        }
        break;
      case "//":
        if (nums) {
          if (Py.toDouble(b) == 0) {
            throw new TemplateException(line, "integer division or modulo by zero");
          }
          return ints ? (Object) Math.floorDiv(Py.toLong(a), Py.toLong(b))
              : (Object) Math.floor(Py.toDouble(a) / Py.toDouble(b));
        }
        break;
      case "%":
        if (nums) {
          if (Py.toDouble(b) == 0) {
            throw new TemplateException(line, "integer division or modulo by zero");
          }
          if (ints) {
            return Math.floorMod(Py.toLong(a), Py.toLong(b));
          }
          double x = Py.toDouble(a);
          double y = Py.toDouble(b);
          return x - y * Math.floor(x / y);
        }
        if (a instanceof String) {
          throw new TemplateException(line, "printf-style '%' string formatting is not supported by this template engine");
        }
        break;
      case "**":
        if (nums) {
          if (ints && Py.toLong(b) >= 0) {
            long r = 1;
            for (long k = 0; k < Py.toLong(b); k++) {
              r = Math.multiplyExact(r, Py.toLong(a));
            }
            return r;
          }
          return Math.pow(Py.toDouble(a), Py.toDouble(b));
        }
        break;
      default:
        break;
    }
    throw new TemplateException(line, "unsupported operand type(s) for " + op + ": '" + Py.typeName(a) + "' and '"
        + Py.typeName(b) + "'");
  }

  static boolean compare(int line, String op, Object a, Object b) {
    return switch (op) {
      case "==" -> Py.eq(a, b);
      case "!=" -> !Py.eq(a, b);
      case "<" -> Py.compare(line, a, b, op) < 0;
      case "<=" -> Py.compare(line, a, b, op) <= 0;
      case ">" -> Py.compare(line, a, b, op) > 0;
      case ">=" -> Py.compare(line, a, b, op) >= 0;
      case "in" -> Py.contains(line, b, a);
      case "notin" -> !Py.contains(line, b, a);
      default -> throw new TemplateException(line, "unknown comparison " + op);
    };
  }
}
