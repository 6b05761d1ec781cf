package io.r1cluster.core.tokenizer.jinja;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Python semantics for template values. Values are {@code null} (None), {@link Boolean},
 * {@link Long} (int), {@link Double} (float), {@link String}, {@link List} (list and tuple),
 * {@link Map} with string keys (dict, insertion order), {@link Undefined}, {@link Namespace},
 * {@link Callable}. Strings are indexed, sliced and measured in code points as Python does.
 */
final class Py {
  private Py() {}

  /** jinja2's default Undefined: prints as "", is falsy, iterates as empty; most other uses fail. */
  static final class Undefined {
    final String hint;

    Undefined(String hint) {
      this.hint = hint;
    }

    TemplateException error(int line) {
      return new TemplateException(line, hint + " is undefined");
    }
  }

  /** jinja2's {@code namespace(...)}: the one object whose attributes {@code set} may assign. */
  static final class Namespace {
    final LinkedHashMap<String, Object> attrs = new LinkedHashMap<>();
  }

  /** A Python tuple: a list that prints as {@code (a, b)} and is never equal to a list. */
  static final class Tuple extends ArrayList<Object> {
    Tuple(List<?> items) {
      super(items);
    }
  }

  /** A callable value: global function, bound method, macro, {@code loop.cycle}. */
  interface Callable {
    Object call(int line, List<Object> args, Map<String, Object> kwargs);
  }

  static String typeName(Object v) {
    if (v == null) {
      return "NoneType";
    }
    if (v instanceof Boolean) {
      return "bool";
    }
    if (v instanceof Long) {
      return "int";
    }
    if (v instanceof Double) {
      return "float";
    }
    if (v instanceof String) {
      return "str";
    }
    if (v instanceof Tuple) {
      return "tuple";
    }
    if (v instanceof List) {
      return "list";
    }
    if (v instanceof Map) {
      return "dict";
    }
    if (v instanceof Undefined) {
      return "Undefined";
    }
    if (v instanceof Namespace) {
      return "Namespace";
    }
    if (v instanceof Callable) {
      return "function";
    }
    return v.getClass().getSimpleName();
  }

  static boolean isSpace(char c) {
    return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085' || (c >= 0x1c && c <= 0x1f);
  }

  static boolean isNumber(Object v) {
    return v instanceof Long || v instanceof Double || v instanceof Boolean;
  }

  static boolean isInt(Object v) {
    return v instanceof Long || v instanceof Boolean;
  }

  static long toLong(Object v) {
    return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).longValue();
  }

  static double toDouble(Object v) {
    return v instanceof Boolean b ? (b ? 1 : 0) : ((Number) v).doubleValue();
  }

  static boolean truthy(Object v) {
    if (v == null || v instanceof Undefined) {
      return false;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    if (v instanceof Long l) {
      return l != 0;
    }
    if (v instanceof Double d) {
      return d != 0;
    }
    if (v instanceof String s) {
      return !s.isEmpty();
    }
    if (v instanceof List<?> l) {
      return !l.isEmpty();
    }
    if (v instanceof Map<?, ?> m) {
      return !m.isEmpty();
    }
    return true;
  }

  /** Python {@code str(v)} ({@code ""} for Undefined). */
  static String str(Object v) {
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof Undefined) {
      return "";
    }
    return repr(v);
  }

  static String repr(Object v) {
    if (v == null) {
      return "None";
    }
    if (v instanceof Boolean b) {
      return b ? "True" : "False";
    }
    if (v instanceof Long) {
      return v.toString();
    }
    if (v instanceof Double d) {
      return floatRepr(d);
    }
    if (v instanceof String s) {
      return strRepr(s);
    }
    if (v instanceof List<?> l) {
      boolean tuple = v instanceof Tuple;
      StringBuilder sb = new StringBuilder(tuple ? "(" : "[");
      for (int k = 0; k < l.size(); k++) {
        sb.append(k > 0 ? ", " : "").append(repr(l.get(k)));
      }
      return sb.append(tuple ? (l.size() == 1 ? ",)" : ")") : "]").toString();
    }
    if (v instanceof Map<?, ?> m) {
      StringBuilder sb = new StringBuilder("{");
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
        first = false;
      }
      return sb.append('}').toString();
    }
    if (v instanceof Undefined) {
      return "Undefined";
    }
    if (v instanceof Namespace n) {
      return "<Namespace " + repr(n.attrs) + ">";
    }
    return String.valueOf(v);
  }

  private static String strRepr(String s) {
    char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
    StringBuilder sb = new StringBuilder().append(q);
    for (int k = 0; k < s.length(); k++) {
      char c = s.charAt(k);
      if (c == q || c == '\\') {
        sb.append('\\').append(c);
      } else if (c == '\n') {
        sb.append("\\n");
      } else if (c == '\r') {
        sb.append("\\r");
      } else if (c == '\t') {
        sb.append("\\t");
      } else if (c < 0x20 || c == 0x7f) {
        sb.append(String.format("\\x%02x", (int) c));
      } else {
        sb.append(c);
      }
    }
    return sb.append(q).toString();
  }

  /** Python's {@code repr(float)}: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
  static String floatRepr(double d) {
    if (Double.isNaN(d)) {
      return "nan";
    }
    if (Double.isInfinite(d)) {
      return d > 0 ? "inf" : "-inf";
    }
    if (d == 0) {
      return (1 / d < 0) ? "-0.0" : "0.0";
    }
    String sign = d < 0 ? "-" : "";
    BigDecimal bd = new BigDecimal(Double.toString(Math.abs(d))).stripTrailingZeros();
    String digits = bd.unscaledValue().toString();
    int exp = digits.length() - 1 - bd.scale();
    String body;
    if (exp < -4 || exp >= 16) {
      String mant = digits.length() > 1 ? digits.charAt(0) + "." + digits.substring(1) : digits;
      body = mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
    } else if (exp >= digits.length() - 1) {
      body = digits + "0".repeat(exp - digits.length() + 1) + ".0";
    } else if (exp >= 0) {
      body = digits.substring(0, exp + 1) + "." + digits.substring(exp + 1);
    } else {
      body = "0." + "0".repeat(-exp - 1) + digits;
    }
    return sign + body;
  }

  static boolean eq(Object a, Object b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    if (isNumber(a) && isNumber(b)) {
      if (isInt(a) && isInt(b)) {
        return toLong(a) == toLong(b);
      }
      return toDouble(a) == toDouble(b);
    }
    if (a instanceof String && b instanceof String) {
      return a.equals(b);
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      if (x.size() != y.size() || (a instanceof Tuple) != (b instanceof Tuple)) {
        return false;
      }
      for (int k = 0; k < x.size(); k++) {
        if (!eq(x.get(k), y.get(k))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
      if (x.size() != y.size()) {
        return false;
      }
      for (Map.Entry<?, ?> e : x.entrySet()) {
        if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
    if (a instanceof Undefined && b instanceof Undefined) {
      return true;
    }
    return false;
  }

  /** Python ordering for {@code < <= > >=}; other type pairs are an error as in Python. */
  static int compare(int line, Object a, Object b, String op) {
    if (isNumber(a) && isNumber(b)) {
      if (isInt(a) && isInt(b)) {
        return Long.compare(toLong(a), toLong(b));
      }
      return Double.compare(toDouble(a), toDouble(b));
    }
    if (a instanceof String x && b instanceof String y) {
      return compareCodePoints(x, y);
    }
    if (a instanceof List<?> x && b instanceof List<?> y) {
      for (int k = 0; k < Math.min(x.size(), y.size()); k++) {
        if (!eq(x.get(k), y.get(k))) {
          return compare(line, x.get(k), y.get(k), op);
        }
      }
      return Integer.compare(x.size(), y.size());
    }
    if (a instanceof Undefined u) {
      throw u.error(line);
    }
    if (b instanceof Undefined u) {
      throw u.error(line);
    }
    throw new TemplateException(line, "'" + op + "' not supported between instances of '" + typeName(a) + "' and '"
        + typeName(b) + "'");
  }

  private static int compareCodePoints(String x, String y) {
    int i = 0;
    int j = 0;
    while (i < x.length() && j < y.length()) {
      int a = x.codePointAt(i);
      int b = y.codePointAt(j);
      if (a != b) {
        return Integer.compare(a, b);
      }
      i += Character.charCount(a);
      j += Character.charCount(b);
    }
    return Boolean.compare(i < x.length(), j < y.length());
  }

  static boolean contains(int line, Object container, Object item) {
    if (container instanceof String s) {
      if (!(item instanceof String sub)) {
        throw new TemplateException(line, "'in <string>' requires string as left operand, not " + typeName(item));
      }
      return s.contains(sub);
    }
    if (container instanceof Map<?, ?> m) {
      return item instanceof String && m.containsKey(item);
    }
    if (container instanceof List<?> l) {
      for (Object o : l) {
        if (eq(o, item)) {
          return true;
        }
      }
      return false;
    }
    if (container instanceof Undefined) {
      return false;
    }
    throw new TemplateException(line, "argument of type '" + typeName(container) + "' is not iterable");
  }

  static int len(int line, Object v) {
    if (v instanceof String s) {
      return s.codePointCount(0, s.length());
    }
    if (v instanceof List<?> l) {
      return l.size();
    }
    if (v instanceof Map<?, ?> m) {
      return m.size();
    }
    if (v instanceof Undefined) {
      return 0;
    }
    throw new TemplateException(line, "object of type '" + typeName(v) + "' has no len()");
  }

  /** The elements a {@code for} loop visits: list items, dict keys, string characters. */
  static List<Object> iterate(int line, Object v) {
    if (v instanceof List<?> l) {
      return new ArrayList<>(l);
    }
    if (v instanceof Map<?, ?> m) {
      return new ArrayList<>(m.keySet());
    }
    if (v instanceof String s) {
      return new ArrayList<>(chars(s));
    }
    if (v instanceof Undefined) {
      return new ArrayList<>();
    }
    throw new TemplateException(line, "'" + typeName(v) + "' object is not iterable");
  }

  static List<String> chars(String s) {
    List<String> out = new ArrayList<>();
    s.codePoints().forEach(cp -> out.add(new String(Character.toChars(cp))));
    return out;
  }

  /** Python {@code obj[start:stop:step]} for lists and strings. */
  static Object slice(int line, Object obj, Object start, Object stop, Object step) {
    List<Object> seq;
    boolean isStr = obj instanceof String;
    if (obj instanceof String s) {
      seq = new ArrayList<>(chars(s));
    } else if (obj instanceof List<?> l) {
      seq = new ArrayList<>(l);
    } else if (obj instanceof Undefined u) {
      throw u.error(line);
    } else {
      throw new TemplateException(line, "'" + typeName(obj) + "' object is not subscriptable");
    }
    int n = seq.size();
    long st = step == null ? 1 : index(line, step);
    if (st == 0) {
      throw new TemplateException(line, "slice step cannot be zero");
    }
    long lo;
    long hi;
    if (st > 0) {
      lo = start == null ? 0 : clampIndex(index(line, start), n, 0, n);
      hi = stop == null ? n : clampIndex(index(line, stop), n, 0, n);
    } else {
      lo = start == null ? n - 1 : clampIndex(index(line, start), n, -1, n - 1);
      hi = stop == null ? -1 : clampIndex(index(line, stop), n, -1, n - 1);
    }
    List<Object> out = new ArrayList<>();
    for (long k = lo; st > 0 ? k < hi : k > hi; k += st) {
      out.add(seq.get((int) k));
    }
    if (isStr) {
      StringBuilder sb = new StringBuilder();
      out.forEach(c -> sb.append((String) c));
      return sb.toString();
    }
    return out;
  }

  private static long clampIndex(long i, int n, long min, long max) {
    if (i < 0) {
      i += n;
    }
    return Math.max(min, Math.min(max, i));
  }

  private static long index(int line, Object v) {
    if (v == null) {
      return 0;
    }
    if (!isInt(v)) {
      throw new TemplateException(line, "slice indices must be integers or None, not " + typeName(v));
    }
    return toLong(v);
  }

  /** jinja2's subscript: {@code obj[key]}, falling back to the attribute; missing is Undefined. */
  static Object getItem(int line, Object obj, Object key) {
    if (obj instanceof Undefined u) {
      throw u.error(line);
    }
    if (obj instanceof Map<?, ?> m) {
      if (key instanceof String k && m.containsKey(k)) {
        return m.get(k);
      }
    } else if (obj instanceof List<?> l && isInt(key)) {
      long k = toLong(key);
      if (k < 0) {
        k += l.size();
      }
      if (k >= 0 && k < l.size()) {
        return l.get((int) k);
      }
      return new Undefined(describe(obj) + " has no element " + toLong(key) + ";");
    } else if (obj instanceof String s && isInt(key)) {
      List<String> cs = chars(s);
      long k = toLong(key);
      if (k < 0) {
        k += cs.size();
      }
      if (k >= 0 && k < cs.size()) {
        return cs.get((int) k);
      }
      return new Undefined("string index " + toLong(key) + " (out of range)");
    } else if (obj instanceof Namespace ns && key instanceof String k && ns.attrs.containsKey(k)) {
      return ns.attrs.get(k);
    }
    if (key instanceof String k) {
      return getAttr(line, obj, k);
    }
    return new Undefined(describe(obj) + " has no element " + repr(key) + ";");
  }

  /** jinja2's attribute access: Python attribute (methods) first, then the item; missing is Undefined. */
  static Object getAttr(int line, Object obj, String name) {
    if (obj instanceof Undefined u) {
      throw u.error(line);
    }
    Callable m = Methods.bind(obj, name);
    if (m != null) {
      return m;
    }
    if (obj instanceof Map<?, ?> map && map.containsKey(name)) {
      return map.get(name);
    }
    if (obj instanceof Namespace ns && ns.attrs.containsKey(name)) {
      return ns.attrs.get(name);
    }
    if (obj instanceof Loop loop) {
      Object v = loop.attr(name);
      if (v != null) {
        return v;
      }
    }
    return new Undefined("'" + describe(obj) + "' has no attribute '" + name + "'; it");
  }

  private static String describe(Object obj) {
    return obj == null ? "None" : typeName(obj) + " object";
  }

  /** Converts Java values (Integer, Float, arrays, Jackson nodes via Map/List) to template values. */
  static Object fromJava(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double
        || v instanceof Undefined || v instanceof Namespace || v instanceof Callable) {
      return v;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float f) {
      return Double.parseDouble(Float.toString(f));
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof Map<?, ?> m) {
      LinkedHashMap<String, Object> out = new LinkedHashMap<>();
      m.forEach((k, x) -> out.put(String.valueOf(k), fromJava(x)));
      return out;
    }
    if (v instanceof Iterable<?> it) {
      List<Object> out = new ArrayList<>();
      for (Iterator<?> i = it.iterator(); i.hasNext(); ) {
        out.add(fromJava(i.next()));
      }
      return out;
    }
    if (v instanceof Object[] a) {
      return fromJava(List.of(a));
    }
    if (v instanceof CharSequence cs) {
      return cs.toString();
    }
    throw new IllegalArgumentException("cannot pass a " + v.getClass().getName() + " to a template");
  }

  // ---- Python str helpers (whitespace as str.isspace)

  static String lstrip(String s, String chars) {
    int k = 0;
    while (k < s.length() && stripChar(s.charAt(k), chars)) {
      k++;
    }
    return s.substring(k);
  }

  static String rstrip(String s, String chars) {
    int j = s.length();
    while (j > 0 && stripChar(s.charAt(j - 1), chars)) {
      j--;
    }
    return s.substring(0, j);
  }

  static String strip(String s, String chars) {
    return rstrip(lstrip(s, chars), chars);
  }

  private static boolean stripChar(char c, String chars) {
    return chars == null ? isSpace(c) : chars.indexOf(c) >= 0;
  }
}
