package io.r1cluster.core.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Python {@code str} methods that Hugging Face chat templates call on strings, for Jinjava (whose
 * strings are Java Strings): {@code startswith}, {@code endswith}, {@code strip}, {@code lstrip},
 * {@code rstrip} (whitespace or a character set), {@code split} (whitespace or a separator, optional
 * maxsplit), {@code replace}, {@code upper}, {@code lower}, {@code title}, {@code find}, {@code count}.
 * Other calls fall through to the next resolver.
 */
final class PyStringMethods extends ELResolver {
  @Override
  public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
    if (!(base instanceof String s) || method == null) {
      return null;
    }
    Object[] p = params == null ? new Object[0] : params;
    Object r = apply(s, method.toString(), p);
    if (r != NONE) {
      context.setPropertyResolved(true);
      return r;
    }
    return null;
  }

  private static final Object NONE = new Object();

  static Object apply(String s, String name, Object[] p) {
    switch (name) {
      case "startswith":
        return startsOrEnds(s, p[0], true);
      case "endswith":
        return startsOrEnds(s, p[0], false);
      case "strip":
        return rstrip(lstrip(s, arg(p)), arg(p));
      case "lstrip":
        return lstrip(s, arg(p));
      case "rstrip":
        return rstrip(s, arg(p));
      case "split":
        return split(s, arg(p), p.length > 1 ? ((Number) p[1]).intValue() : -1);
      case "replace":
        return s.replace(String.valueOf(p[0]), String.valueOf(p[1]));
      case "upper":
        return s.toUpperCase();
      case "lower":
        return s.toLowerCase();
      case "title":
        return title(s);
      case "find":
        return (long) s.indexOf(String.valueOf(p[0]));
      case "count":
        return (long) count(s, String.valueOf(p[0]));
      default:
        return NONE;
    }
  }

  private static String arg(Object[] p) {
    return p.length == 0 || p[0] == null ? null : String.valueOf(p[0]);
  }

  private static boolean startsOrEnds(String s, Object prefix, boolean start) {
    if (prefix instanceof List<?> l) {
      for (Object o : l) {
        if (start ? s.startsWith(String.valueOf(o)) : s.endsWith(String.valueOf(o))) {
          return true;
        }
      }
      return false;
    }
    return start ? s.startsWith(String.valueOf(prefix)) : s.endsWith(String.valueOf(prefix));
  }

  private static boolean strip(char c, String chars) {
    return chars == null ? Character.isWhitespace(c) : chars.indexOf(c) >= 0;
  }

  static String lstrip(String s, String chars) {
    int i = 0;
    while (i < s.length() && strip(s.charAt(i), chars)) {
      i++;
    }
    return s.substring(i);
  }

  static String rstrip(String s, String chars) {
    int j = s.length();
    while (j > 0 && strip(s.charAt(j - 1), chars)) {
      j--;
    }
    return s.substring(0, j);
  }

  static List<String> split(String s, String sep, int maxsplit) {
    List<String> out = new ArrayList<>();
    if (sep == null) {
      String t = s.strip();
      if (t.isEmpty()) {
        return out;
      }
      String[] parts = maxsplit < 0 ? t.split("\\s+") : t.split("\\s+", maxsplit + 1);
      out.addAll(Arrays.asList(parts));
      return out;
    }
    if (sep.isEmpty()) {
      throw new IllegalArgumentException("empty separator");
    }
    int from = 0;
    int n = 0;
    while (maxsplit < 0 || n < maxsplit) {
      int i = s.indexOf(sep, from);
      if (i < 0) {
        break;
      }
      out.add(s.substring(from, i));
      from = i + sep.length();
      n++;
    }
    out.add(s.substring(from));
    return out;
  }

  private static String title(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    boolean prevLetter = false;
    for (char c : s.toCharArray()) {
      sb.append(prevLetter ? Character.toLowerCase(c) : Character.toUpperCase(c));
      prevLetter = Character.isLetter(c);
    }
    return sb.toString();
  }

  private static int count(String s, String sub) {
    if (sub.isEmpty()) {
      return s.length() + 1;
    }
    int n = 0;
    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
      n++;
    }
    return n;
  }

  @Override
  public Object getValue(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public Class<?> getType(ELContext context, Object base, Object property) {
    return null;
  }

  @Override
  public void setValue(ELContext context, Object base, Object property, Object value) {}

  @Override
  public boolean isReadOnly(ELContext context, Object base, Object property) {
    return true;
  }

  @Override
  public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
    return null;
  }

  @Override
  public Class<?> getCommonPropertyType(ELContext context, Object base) {
    return null;
  }
}
