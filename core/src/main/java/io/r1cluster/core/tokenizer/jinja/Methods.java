package io.r1cluster.core.tokenizer.jinja;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Python methods that chat templates call on values: {@code str} ({@code startswith},
 * {@code endswith}, {@code strip}/{@code lstrip}/{@code rstrip}, {@code split}/{@code rsplit},
 * {@code replace}, {@code upper}, {@code lower}, {@code title}, {@code capitalize}, {@code find},
 * {@code rfind}, {@code count}, {@code join}, {@code splitlines}, {@code is*}), {@code dict}
 * ({@code get}, {@code items}, {@code keys}, {@code values}) and {@code list} ({@code index},
 * {@code count}). Mutating methods ({@code append}, {@code update}, ...) are refused, as
 * transformers' immutable sandbox refuses them; any other method is an error, never ignored.
 */
final class Methods {
  private Methods() {}

  private static final Set<String> STR = Set.of("startswith", "endswith", "strip", "lstrip", "rstrip", "split",
      "rsplit", "replace", "upper", "lower", "title", "capitalize", "find", "rfind", "count", "join", "splitlines",
      "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "index", "format", "zfill", "center",
      "ljust", "rjust", "encode", "partition", "rpartition", "swapcase", "casefold", "expandtabs", "isnumeric",
      "isdecimal", "istitle", "isidentifier", "isprintable", "isascii", "translate", "maketrans", "removeprefix",
      "removesuffix", "rindex", "format_map");
  private static final Set<String> DICT = Set.of("get", "items", "keys", "values", "copy", "pop", "popitem",
      "update", "setdefault", "clear", "fromkeys");
  private static final Set<String> LIST = Set.of("index", "count", "append", "extend", "insert", "pop", "remove",
      "reverse", "sort", "clear", "copy");

  /** The bound method {@code obj.name}, or null when {@code obj} has no such Python method. */
  static Py.Callable bind(Object obj, String name) {
    if (obj instanceof String s && STR.contains(name)) {
      return (line, a, kw) -> str(line, s, name, a, kw);
    }
    if (obj instanceof Map<?, ?> m && DICT.contains(name)) {
      return (line, a, kw) -> dict(line, m, name, a);
    }
    if (obj instanceof List<?> l && LIST.contains(name)) {
      return (line, a, kw) -> list(line, l, name, a);
    }
    return null;
  }

  private static Object arg(List<Object> a, Map<String, Object> kw, int k, String name, Object dflt) {
    if (a.size() > k) {
      return a.get(k);
    }
    return kw.getOrDefault(name, dflt);
  }

  private static String strArg(int line, Object v, String method) {
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new TemplateException(line, "str." + method + "() argument must be str or None, not " + Py.typeName(v));
    }
    return s;
  }

  private static Object str(int line, String s, String name, List<Object> a, Map<String, Object> kw) {
    switch (name) {
      case "startswith", "endswith": {
        Object p = arg(a, kw, 0, "prefix", null);
        List<Object> options = p instanceof List<?> l ? new ArrayList<>(l) : List.of(p == null ? "" : p);
        for (Object o : options) {
          String x = strArg(line, o, name);
          if (x == null) {
            throw new TemplateException(line, name + " first arg must be str or a tuple of str, not NoneType");
          }
          if (name.equals("startswith") ? s.startsWith(x) : s.endsWith(x)) {
            return true;
          }
        }
        return false;
      }
      case "strip":
        return Py.strip(s, strArg(line, arg(a, kw, 0, "chars", null), name));
      case "lstrip":
        return Py.lstrip(s, strArg(line, arg(a, kw, 0, "chars", null), name));
      case "rstrip":
        return Py.rstrip(s, strArg(line, arg(a, kw, 0, "chars", null), name));
      case "split":
      case "rsplit": {
        String sep = strArg(line, arg(a, kw, 0, "sep", null), name);
        Object ms = arg(a, kw, 1, "maxsplit", -1L);
        long max = Py.toLong(ms);
        List<Object> out = new ArrayList<>(split(line, s, sep, max, name.equals("rsplit")));
        return out;
      }
      case "replace": {
        String old = strArg(line, a.get(0), name);
        String rep = strArg(line, a.get(1), name);
        long count = a.size() > 2 ? Py.toLong(a.get(2)) : -1;
        if (count < 0) {
          return s.replace(old, rep);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
          int k = s.indexOf(old, from);
          if (k < 0 || old.isEmpty()) {
            break;
          }
          sb.append(s, from, k).append(rep);
          from = k + old.length();
        }
        return sb.append(s.substring(from)).toString();
      }
      case "upper":
        return s.toUpperCase(java.util.Locale.ROOT);
      case "lower":
        return s.toLowerCase(java.util.Locale.ROOT);
      case "title":
        return title(s);
      case "capitalize":
        return s.isEmpty() ? s
            : s.substring(0, s.offsetByCodePoints(0, 1)).toUpperCase(java.util.Locale.ROOT)
                + s.substring(s.offsetByCodePoints(0, 1)).toLowerCase(java.util.Locale.ROOT);
      case "find":
      case "rfind": {
        String sub = strArg(line, a.get(0), name);
        int k = name.equals("find") ? s.indexOf(sub) : s.lastIndexOf(sub);
        return (long) (k < 0 ? -1 : s.codePointCount(0, k));
      }
      case "count": {
        String sub = strArg(line, a.get(0), name);
        if (sub.isEmpty()) {
          return (long) s.codePointCount(0, s.length()) + 1;
        }
        long n = 0;
        for (int k = s.indexOf(sub); k >= 0; k = s.indexOf(sub, k + sub.length())) {
          n++;
        }
        return n;
      }
      case "join": {
        StringBuilder sb = new StringBuilder();
        List<Object> items = Py.iterate(line, a.get(0));
        for (int k = 0; k < items.size(); k++) {
          if (!(items.get(k) instanceof String x)) {
            throw new TemplateException(line, "sequence item " + k + ": expected str instance, "
                + Py.typeName(items.get(k)) + " found");
          }
          sb.append(k > 0 ? s : "").append(x);
        }
        return sb.toString();
      }
      case "splitlines": {
        List<Object> out = new ArrayList<>();
        for (String x : s.split("\r\n|[\n\r\u000b\u000c\u001c\u001d\u001e\u0085\u2028\u2029]", -1)) {
          out.add(x);
        }
        if (!out.isEmpty() && out.get(out.size() - 1).equals("")) {
          out.remove(out.size() - 1);
        }
        return out;
      }
      case "isdigit":
        return !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
      case "isalpha":
        return !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
      case "isalnum":
        return !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
      case "isspace":
        return !s.isEmpty() && s.chars().allMatch(c -> Py.isSpace((char) c));
      case "isupper":
        return s.codePoints().anyMatch(Character::isUpperCase) && s.codePoints().noneMatch(Character::isLowerCase);
      case "islower":
        return s.codePoints().anyMatch(Character::isLowerCase) && s.codePoints().noneMatch(Character::isUpperCase);
      default:
        throw new TemplateException(line, "str." + name + "() is not supported by this template engine");
    }
  }

  /** Python str.split / str.rsplit. */
  static List<String> split(int line, String s, String sep, long maxsplit, boolean fromRight) {
    List<String> out = new ArrayList<>();
    if (sep == null) {
      List<int[]> words = new ArrayList<>();
      int k = 0;
      while (k < s.length()) {
        while (k < s.length() && Py.isSpace(s.charAt(k))) {
          k++;
        }
        if (k >= s.length()) {
          break;
        }
        int st = k;
        while (k < s.length() && !Py.isSpace(s.charAt(k))) {
          k++;
        }
        words.add(new int[] {st, k});
      }
      if (maxsplit < 0 || words.size() <= maxsplit + 1) {
        words.forEach(w -> out.add(s.substring(w[0], w[1])));
        return out;
      }
      int m = (int) maxsplit;
      if (!fromRight) {
        for (int w = 0; w < m; w++) {
          out.add(s.substring(words.get(w)[0], words.get(w)[1]));
        }
        out.add(Py.rstrip(s.substring(words.get(m)[0]), null));
      } else {
        int first = words.size() - m;
        out.add(Py.lstrip(s.substring(0, words.get(first - 1)[1]), null));
        for (int w = first; w < words.size(); w++) {
          out.add(s.substring(words.get(w)[0], words.get(w)[1]));
        }
      }
      return out;
    }
    if (sep.isEmpty()) {
      throw new TemplateException(line, "empty separator");
    }
    if (!fromRight) {
      int from = 0;
      long n = 0;
      while (maxsplit < 0 || n < maxsplit) {
        int k = s.indexOf(sep, from);
        if (k < 0) {
          break;
        }
        out.add(s.substring(from, k));
        from = k + sep.length();
        n++;
      }
      out.add(s.substring(from));
      return out;
    }
    int to = s.length();
    long n = 0;
    while (maxsplit < 0 || n < maxsplit) {
      int k = s.lastIndexOf(sep, to - sep.length());
      if (k < 0) {
        break;
      }
      out.add(0, s.substring(k + sep.length(), to));
      to = k;
      n++;
    }
    out.add(0, s.substring(0, to));
    return out;
  }

  /** Python str.title: a letter after a cased letter is lowered, any other letter is uppered. */
  static String title(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    boolean prevCased = false;
    for (int k = 0; k < s.length(); ) {
      int cp = s.codePointAt(k);
      sb.appendCodePoint(prevCased ? Character.toLowerCase(cp) : Character.toTitleCase(cp));
      prevCased = Character.isUpperCase(cp) || Character.isLowerCase(cp) || Character.isTitleCase(cp);
      k += Character.charCount(cp);
    }
    return sb.toString();
  }

  private static Object dict(int line, Map<?, ?> m, String name, List<Object> a) {
    switch (name) {
      case "get": {
        Object k = a.isEmpty() ? null : a.get(0);
        return k instanceof String && m.containsKey(k) ? m.get(k) : (a.size() > 1 ? a.get(1) : null);
      }
      case "items": {
        List<Object> out = new ArrayList<>();
        m.forEach((k, v) -> out.add(List.of(k, v == null ? NULL_SENTINEL : v)));
        return unsentinel(out);
      }
      case "keys":
        return new ArrayList<Object>(m.keySet());
      case "values":
        return new ArrayList<Object>(m.values());
      case "copy":
        return new LinkedHashMap<>(m);
      default:
        throw new TemplateException(line, "dict." + name + "() is refused: templates may not modify values");
    }
  }

  private static final Object NULL_SENTINEL = new Object();

  /** List.of refuses nulls; pairs are built with a sentinel and rebuilt as mutable lists. */
  private static List<Object> unsentinel(List<Object> pairs) {
    List<Object> out = new ArrayList<>();
    for (Object p : pairs) {
      List<?> l = (List<?>) p;
      List<Object> pair = new ArrayList<>(2);
      pair.add(l.get(0));
      pair.add(l.get(1) == NULL_SENTINEL ? null : l.get(1));
      out.add(new Py.Tuple(pair));
    }
    return out;
  }

  private static Object list(int line, List<?> l, String name, List<Object> a) {
    switch (name) {
      case "index":
        for (int k = 0; k < l.size(); k++) {
          if (Py.eq(l.get(k), a.get(0))) {
            return (long) k;
          }
        }
        throw new TemplateException(line, Py.repr(a.get(0)) + " is not in list");
      case "count":
        return l.stream().filter(x -> Py.eq(x, a.get(0))).count();
      case "copy":
        return new ArrayList<>(l);
      default:
        throw new TemplateException(line, "list." + name + "() is refused: templates may not modify values");
    }
  }
}
