package io.r1cluster.core.tokenizer.jinja;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * jinja2's built-in filters and tests that chat templates use, with jinja2's semantics; a filter or
 * test not listed here is an error naming it (never a silent pass-through).
 */
final class Builtins {
  private Builtins() {}

  interface Invoker {
    /** Applies a filter or test by name (for select/reject/map). */
    Object filter(int line, String name, Object value, List<Object> args, Map<String, Object> kw);

    boolean test(int line, String name, Object value, List<Object> args);
  }

  private static Object arg(List<Object> a, Map<String, Object> kw, int k, String name, Object dflt) {
    if (a.size() > k) {
      return a.get(k);
    }
    return kw.getOrDefault(name, dflt);
  }

  private static Object undefinedCheck(int line, Object v) {
    if (v instanceof Py.Undefined u) {
      throw u.error(line);
    }
    return v;
  }

  static Object filter(int line, String name, Object v, List<Object> a, Map<String, Object> kw, Invoker inv) {
    switch (name) {
      case "tojson": {
        Object indent = arg(a, kw, 0, "indent", null);
        Object seps = kw.get("separators");
        String is = null;
        String ks = null;
        if (seps instanceof List<?> l && l.size() == 2) {
          is = Py.str(l.get(0));
          ks = Py.str(l.get(1));
        }
        return Json.dumps(line, v, indent == null ? null : (int) Py.toLong(indent), is, ks,
            Py.truthy(kw.get("sort_keys")));
      }
      case "trim":
        return Py.strip(Py.str(v), a.isEmpty() ? null : (String) a.get(0));
      case "length":
      case "count":
        return (long) Py.len(line, v);
      case "string":
        return Py.str(v);
      case "lower":
        return Py.str(v).toLowerCase(java.util.Locale.ROOT);
      case "upper":
        return Py.str(v).toUpperCase(java.util.Locale.ROOT);
      case "capitalize": {
        String s = Py.str(v);
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(java.util.Locale.ROOT) + s.substring(1).toLowerCase(java.util.Locale.ROOT);
      }
      case "title":
        return Methods.title(Py.str(v));
      case "replace": {
        Py.Callable m = Methods.bind(Py.str(v), "replace");
        return m.call(line, a, Map.of());
      }
      case "default":
      case "d": {
        Object dflt = arg(a, kw, 0, "default_value", "");
        boolean bool = Py.truthy(arg(a, kw, 1, "boolean", false));
        return v instanceof Py.Undefined || (bool && !Py.truthy(v)) ? dflt : v;
      }
      case "first": {
        List<Object> l = Py.iterate(line, undefinedCheck(line, v));
        return l.isEmpty() ? new Py.Undefined("first of an empty sequence") : l.get(0);
      }
      case "last": {
        List<Object> l = Py.iterate(line, undefinedCheck(line, v));
        return l.isEmpty() ? new Py.Undefined("last of an empty sequence") : l.get(l.size() - 1);
      }
      case "join": {
        String sep = Py.str(arg(a, kw, 0, "d", ""));
        Object attr = arg(a, kw, 1, "attribute", null);
        StringBuilder sb = new StringBuilder();
        List<Object> items = Py.iterate(line, v);
        for (int k = 0; k < items.size(); k++) {
          Object x = attr == null ? items.get(k) : Py.getAttr(line, items.get(k), Py.str(attr));
          sb.append(k > 0 ? sep : "").append(Py.str(x));
        }
        return sb.toString();
      }
      case "list":
        return Py.iterate(line, v);
      case "items": {
        if (v instanceof Py.Undefined) {
          return new ArrayList<>();
        }
        if (!(v instanceof Map<?, ?>)) {
          throw new TemplateException(line, "items filter: expected a mapping, got " + Py.typeName(v));
        }
        return Methods.bind(v, "items").call(line, List.of(), Map.of());
      }
      case "int": {
        Object dflt = arg(a, kw, 0, "default", 0L);
        if (Py.isNumber(v)) {
          return (long) Py.toDouble(v);
        }
        try {
          return Long.parseLong(Py.str(v).strip());
        } catch (NumberFormatException e) {
          try {
            return (long) Double.parseDouble(Py.str(v).strip());
          } catch (NumberFormatException e2) {
            return dflt;
          }
        }
      }
      case "float": {
        Object dflt = arg(a, kw, 0, "default", 0.0);
        if (Py.isNumber(v)) {
          return Py.toDouble(v);
        }
        try {
          return Double.parseDouble(Py.str(v).strip());
        } catch (NumberFormatException e) {
          return dflt;
        }
      }
      case "abs":
        return v instanceof Double d ? (Object) Math.abs(d) : (Object) Math.abs(Py.toLong(v));
      case "round": {
        long prec = Py.toLong(arg(a, kw, 0, "precision", 0L));
        String method = Py.str(arg(a, kw, 1, "method", "common"));
        double x = Py.toDouble(v);
        double f = Math.pow(10, prec);
        double r = switch (method) {
          case "ceil" -> Math.ceil(x * f) / f;
          case "floor" -> Math.floor(x * f) / f;
          default -> new java.math.BigDecimal(x).setScale((int) prec, java.math.RoundingMode.HALF_EVEN).doubleValue();
        };
        return r;
      }
      case "reverse": {
        if (v instanceof String s) {
          return new StringBuilder(s).reverse().toString();
        }
        List<Object> l = Py.iterate(line, v);
        java.util.Collections.reverse(l);
        return l;
      }
      case "unique": {
        List<Object> out = new ArrayList<>();
        for (Object x : Py.iterate(line, v)) {
          if (out.stream().noneMatch(y -> Py.eq(x, y))) {
            out.add(x);
          }
        }
        return out;
      }
      case "sort": {
        boolean reverse = Py.truthy(arg(a, kw, 0, "reverse", false));
        Object attr = arg(a, kw, 2, "attribute", null);
        List<Object> l = Py.iterate(line, v);
        Comparator<Object> c = (x, y) -> Py.compare(line, attr == null ? x : Py.getAttr(line, x, Py.str(attr)),
            attr == null ? y : Py.getAttr(line, y, Py.str(attr)), "<");
        l.sort(reverse ? c.reversed() : c);
        return l;
      }
      case "dictsort": {
        if (!(v instanceof Map<?, ?> m)) {
          throw new TemplateException(line, "dictsort: expected a mapping, got " + Py.typeName(v));
        }
        @SuppressWarnings("unchecked")
        List<Object> items = (List<Object>) Methods.bind(m, "items").call(line, List.of(), Map.of());
        items.sort((x, y) -> Py.compare(line, ((List<?>) x).get(0), ((List<?>) y).get(0), "<"));
        return items;
      }
      case "sum": {
        Object total = arg(a, kw, 1, "start", 0L);
        Object attr = arg(a, kw, 0, "attribute", null);
        for (Object x : Py.iterate(line, v)) {
          Object y = attr == null ? x : Py.getAttr(line, x, Py.str(attr));
          total = Py.isInt(total) && Py.isInt(y) ? (Object) (Py.toLong(total) + Py.toLong(y))
              : (Object) (Py.toDouble(total) + Py.toDouble(y));
        }
        return total;
      }
      case "min":
      case "max": {
        List<Object> l = Py.iterate(line, v);
        if (l.isEmpty()) {
          return new Py.Undefined("No aggregated item, sequence was empty.");
        }
        Object best = l.get(0);
        for (Object x : l) {
          int c = Py.compare(line, x, best, "<");
          if (name.equals("min") ? c < 0 : c > 0) {
            best = x;
          }
        }
        return best;
      }
      case "select":
      case "reject":
      case "selectattr":
      case "rejectattr": {
        boolean attr = name.endsWith("attr");
        boolean keep = name.startsWith("select");
        int off = attr ? 1 : 0;
        String attrName = attr ? Py.str(a.get(0)) : null;
        String test = a.size() > off ? Py.str(a.get(off)) : null;
        List<Object> targs = a.size() > off + 1 ? a.subList(off + 1, a.size()) : List.of();
        List<Object> out = new ArrayList<>();
        for (Object x : Py.iterate(line, v)) {
          Object y = attr ? Py.getAttr(line, x, attrName) : x;
          boolean t = test == null ? Py.truthy(y) : inv.test(line, test, y, targs);
          if (t == keep) {
            out.add(x);
          }
        }
        return out;
      }
      case "map": {
        List<Object> out = new ArrayList<>();
        if (kw.containsKey("attribute")) {
          String attrName = Py.str(kw.get("attribute"));
          for (Object x : Py.iterate(line, v)) {
            Object y = Py.getAttr(line, x, attrName);
            out.add(y instanceof Py.Undefined && kw.containsKey("default") ? kw.get("default") : y);
          }
          return out;
        }
        if (a.isEmpty()) {
          throw new TemplateException(line, "map: give a filter name or attribute=");
        }
        String f = Py.str(a.get(0));
        for (Object x : Py.iterate(line, v)) {
          out.add(inv.filter(line, f, x, a.subList(1, a.size()), Map.of()));
        }
        return out;
      }
      case "safe":
        return v;
      case "e":
      case "escape": {
        String s = Py.str(v);
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&#34;")
            .replace("'", "&#39;");
      }
      case "indent": {
        Object w = arg(a, kw, 0, "width", 4L);
        boolean first = Py.truthy(arg(a, kw, 1, "first", false));
        boolean blank = Py.truthy(arg(a, kw, 2, "blank", false));
        String ind = w instanceof String s ? s : " ".repeat((int) Py.toLong(w));
        String s = Py.str(v);
        String[] lines = s.split("\n", -1);
        StringBuilder sb = new StringBuilder();
        for (int k = 0; k < lines.length; k++) {
          if (k > 0) {
            sb.append('\n');
          }
          boolean indentThis = (k > 0 || first) && (blank || !lines[k].isBlank());
          sb.append(indentThis ? ind : "").append(lines[k]);
        }
        return sb.toString();
      }
      case "wordcount":
        return (long) Methods.split(line, Py.str(v), null, -1, false).size();
      default:
        throw new TemplateException(line, "no filter named '" + name + "'");
    }
  }

  static boolean test(int line, String name, Object v, List<Object> a) {
    switch (name) {
      case "defined":
        return !(v instanceof Py.Undefined);
      case "undefined":
        return v instanceof Py.Undefined;
      case "none":
        return v == null;
      case "string":
        return v instanceof String;
      case "number":
        return Py.isNumber(v);
      case "integer":
        return v instanceof Long;
      case "float":
        return v instanceof Double;
      case "boolean":
        return v instanceof Boolean;
      case "true":
        return Boolean.TRUE.equals(v);
      case "false":
        return Boolean.FALSE.equals(v);
      case "mapping":
        return v instanceof Map;
      case "iterable":
        return v instanceof String || v instanceof List || v instanceof Map || v instanceof Py.Undefined;
      case "sequence":
        return v instanceof String || v instanceof List || v instanceof Map;
      case "callable":
        return v instanceof Py.Callable;
      case "odd":
        return Math.floorMod(Py.toLong(v), 2) == 1;
      case "even":
        return Math.floorMod(Py.toLong(v), 2) == 0;
      case "divisibleby":
        return Math.floorMod(Py.toLong(v), Py.toLong(a.get(0))) == 0;
      case "lower":
        return v instanceof String s && s.equals(s.toLowerCase(java.util.Locale.ROOT));
      case "upper":
        return v instanceof String s && s.equals(s.toUpperCase(java.util.Locale.ROOT));
      case "eq":
      case "equalto":
      case "==":
        return Py.eq(v, a.get(0));
      case "ne":
      case "!=":
        return !Py.eq(v, a.get(0));
      case "lt":
      case "lessthan":
        return Py.compare(line, v, a.get(0), "<") < 0;
      case "le":
        return Py.compare(line, v, a.get(0), "<=") <= 0;
      case "gt":
      case "greaterthan":
        return Py.compare(line, v, a.get(0), ">") > 0;
      case "ge":
        return Py.compare(line, v, a.get(0), ">=") >= 0;
      case "in":
        return Py.contains(line, a.get(0), v);
      case "sameas":
        return v == a.get(0) || (v != null && (v instanceof Boolean || v == null) && v.equals(a.get(0)));
      default:
        throw new TemplateException(line, "no test named '" + name + "'");
    }
  }

  /** {@code range(stop)}, {@code range(start, stop[, step])}. */
  static List<Object> range(int line, List<Object> a) {
    long start = 0;
    long stop;
    long step = 1;
    if (a.size() == 1) {
      stop = Py.toLong(a.get(0));
    } else if (a.size() >= 2) {
      start = Py.toLong(a.get(0));
      stop = Py.toLong(a.get(1));
      if (a.size() > 2) {
        step = Py.toLong(a.get(2));
      }
    } else {
      throw new TemplateException(line, "range expected at least 1 argument");
    }
    if (step == 0) {
      throw new TemplateException(line, "range() arg 3 must not be zero");
    }
    List<Object> out = new ArrayList<>();
    for (long k = start; step > 0 ? k < stop : k > stop; k += step) {
      if (out.size() > 100_000) {
        throw new TemplateException(line, "range too big");
      }
      out.add(k);
    }
    return out;
  }

  static Map<String, Object> dict(Map<String, Object> kw) {
    return new LinkedHashMap<>(kw);
  }
}
