package io.r1cluster.core.tokenizer.jinja;

import java.time.Clock;
import java.time.LocalDateTime;
import java.time.format.TextStyle;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A jinja2 template evaluated the way transformers renders chat templates
 * ({@code ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)} with the
 * {@code loopcontrols} extension, {@code tojson} = {@code json.dumps(ensure_ascii=False)},
 * {@code raise_exception}, {@code strftime_now}): Python values and operators, jinja2 scoping
 * ({@code set} inside a {@code for} body stays in the loop; {@code namespace()} attributes are how
 * state leaves it), the default {@code Undefined} (prints empty, falsy; attribute access on it fails).
 *
 * <p>Anything this engine does not implement (a tag, filter, test or method) is a
 * {@link TemplateException} naming it and the template line: a template never renders differently
 * from Python without saying so.
 */
public final class Template {
  private final List<Node> body;

  private Template(List<Node> body) {
    this.body = body;
  }

  /** Parses a template; syntax errors are {@link TemplateException}s with the line. */
  public static Template parse(String source) {
    return new Template(Parser.parse(source));
  }

  /** Renders with the given variables (Java maps, lists, strings, numbers, booleans, null). */
  public String render(Map<String, ?> vars) {
    return render(vars, Clock.systemDefaultZone());
  }

  /** As {@link #render(Map)}, with {@code strftime_now} reading {@code clock}. */
  public String render(Map<String, ?> vars, Clock clock) {
    Scope root = new Scope(null);
    root.vars.put("range", (Py.Callable) (line, a, kw) -> Builtins.range(line, a));
    root.vars.put("dict", (Py.Callable) (line, a, kw) -> Builtins.dict(kw));
    root.vars.put("namespace", (Py.Callable) (line, a, kw) -> {
      Py.Namespace ns = new Py.Namespace();
      for (Object o : a) {
        if (o instanceof Map<?, ?> m) {
          m.forEach((k, v) -> ns.attrs.put(String.valueOf(k), v));
        }
      }
      ns.attrs.putAll(kw);
      return ns;
    });
    root.vars.put("raise_exception", (Py.Callable) (line, a, kw) -> {
      throw new TemplateException(line, a.isEmpty() ? "" : Py.str(a.get(0)), true);
    });
    root.vars.put("strftime_now", (Py.Callable) (line, a, kw) -> strftime(Py.str(a.get(0)), LocalDateTime.now(clock)));
    Scope scope = new Scope(root);
    vars.forEach((k, v) -> scope.vars.put(k, Py.fromJava(v)));
    StringBuilder out = new StringBuilder();
    exec(body, scope, out);
    return out.toString();
  }

  private static final class Scope {
    final Map<String, Object> vars = new HashMap<>();
    final Scope parent;

    Scope(Scope parent) {
      this.parent = parent;
    }

    Object lookup(String name) {
      for (Scope s = this; s != null; s = s.parent) {
        if (s.vars.containsKey(name)) {
          return s.vars.get(name);
        }
      }
      return new Py.Undefined("'" + name + "'");
    }
  }

  private static final class LoopSignal extends RuntimeException {
    final boolean isBreak;

    LoopSignal(boolean isBreak) {
      super(null, null, false, false);
      this.isBreak = isBreak;
    }
  }

  private static final LoopSignal BREAK = new LoopSignal(true);
  private static final LoopSignal CONTINUE = new LoopSignal(false);

  private void exec(List<Node> nodes, Scope scope, StringBuilder out) {
    for (Node n : nodes) {
      exec(n, scope, out);
    }
  }

  private void exec(Node n, Scope scope, StringBuilder out) {
    if (n instanceof Node.Text t) {
      out.append(t.text());
    } else if (n instanceof Node.Output o) {
      out.append(Py.str(eval(o.expr(), scope)));
    } else if (n instanceof Node.If f) {
      for (int k = 0; k < f.conds().size(); k++) {
        if (Py.truthy(eval(f.conds().get(k), scope))) {
          exec(f.bodies().get(k), scope, out);
          return;
        }
      }
      exec(f.orElse(), scope, out);
    } else if (n instanceof Node.For f) {
      execFor(f, scope, out);
    } else if (n instanceof Node.Set s) {
      Object v = eval(s.value(), scope);
      if (s.attr() != null) {
        Object target = scope.lookup(s.names().get(0));
        if (!(target instanceof Py.Namespace ns)) {
          throw new TemplateException(s.line(), "cannot assign attribute on non-namespace object '"
              + s.names().get(0) + "' (" + Py.typeName(target) + ")");
        }
        ns.attrs.put(s.attr(), v);
      } else {
        assign(s.line(), s.names(), v, scope);
      }
    } else if (n instanceof Node.SetBlock s) {
      StringBuilder sb = new StringBuilder();
      exec(s.body(), scope, sb);
      scope.vars.put(s.name(), sb.toString());
    } else if (n instanceof Node.Macro m) {
      scope.vars.put(m.name(), macro(m, scope));
    } else if (n instanceof Node.Break) {
      throw BREAK;
    } else if (n instanceof Node.Continue) {
      throw CONTINUE;
    } else if (n instanceof Node.Block b) {
      exec(b.body(), scope, out);
    } else {
      throw new TemplateException(n.line(), "cannot execute " + n.getClass().getSimpleName());
    }
  }

  private void assign(int line, List<String> names, Object v, Scope scope) {
    if (names.size() == 1) {
      scope.vars.put(names.get(0), v);
      return;
    }
    List<Object> items = Py.iterate(line, v);
    if (items.size() != names.size()) {
      throw new TemplateException(line, "cannot unpack " + items.size() + " values into " + names.size() + " names");
    }
    for (int k = 0; k < names.size(); k++) {
      scope.vars.put(names.get(k), items.get(k));
    }
  }

  private void execFor(Node.For f, Scope scope, StringBuilder out) {
    Object it = eval(f.iter(), scope);
    if (it == null) {
      throw new TemplateException(f.line(), "'NoneType' object is not iterable");
    }
    List<Object> items = Py.iterate(f.line(), it);
    Scope inner = new Scope(scope);
    if (f.filter() != null) {
      List<Object> kept = new ArrayList<>();
      for (Object x : items) {
        assign(f.line(), f.targets(), x, inner);
        if (Py.truthy(eval(f.filter(), inner))) {
          kept.add(x);
        }
      }
      items = kept;
    }
    if (items.isEmpty()) {
      exec(f.orElse(), scope, out);
      return;
    }
    Loop loop = new Loop(items);
    inner.vars.put("loop", loop);
    for (int k = 0; k < items.size(); k++) {
      loop.index0 = k;
      assign(f.line(), f.targets(), items.get(k), inner);
      try {
        exec(f.body(), inner, out);
      } catch (LoopSignal s) {
        if (s.isBreak) {
          break;
        }
      }
    }
  }

  private Py.Callable macro(Node.Macro m, Scope defining) {
    return (line, args, kw) -> {
      if (args.size() > m.params().size()) {
        throw new TemplateException(line, "macro '" + m.name() + "' takes not more than " + m.params().size()
            + " argument(s)");
      }
      Scope s = new Scope(defining);
      for (int k = 0; k < m.params().size(); k++) {
        String p = m.params().get(k);
        Object v;
        if (k < args.size()) {
          v = args.get(k);
        } else if (kw.containsKey(p)) {
          v = kw.get(p);
        } else if (m.defaults().get(k) != null) {
          v = eval(m.defaults().get(k), s);
        } else {
          v = new Py.Undefined("'" + p + "'");
        }
        s.vars.put(p, v);
      }
      for (String k : kw.keySet()) {
        if (!m.params().contains(k)) {
          throw new TemplateException(line, "macro '" + m.name() + "' has no argument '" + k + "'");
        }
      }
      StringBuilder sb = new StringBuilder();
      exec(m.body(), s, sb);
      return sb.toString();
    };
  }

  private final Builtins.Invoker invoker = new Builtins.Invoker() {
    @Override
    public Object filter(int line, String name, Object value, List<Object> args, Map<String, Object> kw) {
      return Builtins.filter(line, name, value, args, kw, this);
    }

    @Override
    public boolean test(int line, String name, Object value, List<Object> args) {
      return Builtins.test(line, name, value, args);
    }
  };

  private Object eval(Node n, Scope scope) {
    if (n instanceof Node.Const c) {
      return c.value();
    }
    if (n instanceof Node.Name nm) {
      return scope.lookup(nm.name());
    }
    if (n instanceof Node.Attr a) {
      return Py.getAttr(a.line(), eval(a.obj(), scope), a.name());
    }
    if (n instanceof Node.Item it) {
      return Py.getItem(it.line(), eval(it.obj(), scope), eval(it.key(), scope));
    }
    if (n instanceof Node.Slice s) {
      return Py.slice(s.line(), eval(s.obj(), scope), opt(s.start(), scope), opt(s.stop(), scope),
          opt(s.step(), scope));
    }
    if (n instanceof Node.Call c) {
      Object fn = eval(c.fn(), scope);
      if (fn instanceof Py.Undefined u) {
        throw u.error(c.line());
      }
      if (!(fn instanceof Py.Callable f)) {
        throw new TemplateException(c.line(), "'" + Py.typeName(fn) + "' object is not callable");
      }
      return f.call(c.line(), evalAll(c.args(), scope), evalKw(c.kwNames(), c.kwValues(), scope));
    }
    if (n instanceof Node.Filter f) {
      return Builtins.filter(f.line(), f.name(), eval(f.value(), scope), evalAll(f.args(), scope),
          evalKw(f.kwNames(), f.kwValues(), scope), invoker);
    }
    if (n instanceof Node.Test t) {
      boolean r = Builtins.test(t.line(), t.name(), eval(t.value(), scope), evalAll(t.args(), scope));
      return r != t.negated();
    }
    if (n instanceof Node.Unary u) {
      Object v = eval(u.operand(), scope);
      if (u.op().equals("not")) {
        return !Py.truthy(v);
      }
      if (v instanceof Py.Undefined un) {
        throw un.error(u.line());
      }
      if (!Py.isNumber(v)) {
        throw new TemplateException(u.line(), "bad operand type for unary " + u.op() + ": '" + Py.typeName(v) + "'");
      }
      if (u.op().equals("+")) {
        return v instanceof Boolean ? (Object) Py.toLong(v) : v;
      }
      return v instanceof Double d ? (Object) (-d) : (Object) (-Py.toLong(v));
    }
    if (n instanceof Node.Binary b) {
      if (b.op().equals("and")) {
        Object l = eval(b.left(), scope);
        return Py.truthy(l) ? eval(b.right(), scope) : l;
      }
      if (b.op().equals("or")) {
        Object l = eval(b.left(), scope);
        return Py.truthy(l) ? l : eval(b.right(), scope);
      }
      return Ops.binary(b.line(), b.op(), eval(b.left(), scope), eval(b.right(), scope));
    }
    if (n instanceof Node.Compare c) {
      Object left = eval(c.first(), scope);
      for (int k = 0; k < c.ops().size(); k++) {
        Object right = eval(c.rest().get(k), scope);
        if (!Ops.compare(c.line(), c.ops().get(k), left, right)) {
          return false;
        }
        left = right;
      }
      return true;
    }
    if (n instanceof Node.Cond c) {
      if (Py.truthy(eval(c.cond(), scope))) {
        return eval(c.then(), scope);
      }
      return c.orElse() == null ? new Py.Undefined("the else branch of an inline if") : eval(c.orElse(), scope);
    }
    if (n instanceof Node.ListLit l) {
      List<Object> items = evalAll(l.items(), scope);
      return l.tuple() ? new Py.Tuple(items) : items;
    }
    if (n instanceof Node.DictLit d) {
      LinkedHashMap<String, Object> m = new LinkedHashMap<>();
      for (int k = 0; k < d.keys().size(); k++) {
        Object key = eval(d.keys().get(k), scope);
        if (!(key instanceof String ks)) {
          throw new TemplateException(d.line(), "dict keys must be strings in this engine, got " + Py.typeName(key));
        }
        m.put(ks, eval(d.values().get(k), scope));
      }
      return m;
    }
    throw new TemplateException(n.line(), "cannot evaluate " + n.getClass().getSimpleName());
  }

  private Object opt(Node n, Scope scope) {
    return n == null ? null : eval(n, scope);
  }

  private List<Object> evalAll(List<Node> nodes, Scope scope) {
    List<Object> out = new ArrayList<>(nodes.size());
    for (Node x : nodes) {
      out.add(eval(x, scope));
    }
    return out;
  }

  private Map<String, Object> evalKw(List<String> names, List<Node> values, Scope scope) {
    if (names.isEmpty()) {
      return Map.of();
    }
    Map<String, Object> out = new LinkedHashMap<>();
    for (int k = 0; k < names.size(); k++) {
      out.put(names.get(k), eval(values.get(k), scope));
    }
    return out;
  }

  /** Python's {@code datetime.strftime} for the C locale (glibc's {@code %-d} no-padding flag included). */
  static String strftime(String fmt, LocalDateTime t) {
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < fmt.length(); k++) {
      char c = fmt.charAt(k);
      if (c != '%' || k + 1 >= fmt.length()) {
        sb.append(c);
        continue;
      }
      char d = fmt.charAt(++k);
      boolean noPad = false;
      if (d == '-' && k + 1 < fmt.length()) {
        noPad = true;
        d = fmt.charAt(++k);
      }
      String v = switch (d) {
        case 'd' -> pad(t.getDayOfMonth(), 2, noPad);
        case 'm' -> pad(t.getMonthValue(), 2, noPad);
        case 'Y' -> String.valueOf(t.getYear());
        case 'y' -> pad(t.getYear() % 100, 2, noPad);
        case 'H' -> pad(t.getHour(), 2, noPad);
        case 'I' -> pad(t.getHour() % 12 == 0 ? 12 : t.getHour() % 12, 2, noPad);
        case 'M' -> pad(t.getMinute(), 2, noPad);
        case 'S' -> pad(t.getSecond(), 2, noPad);
        case 'f' -> pad(t.getNano() / 1000, 6, false);
        case 'j' -> pad(t.getDayOfYear(), 3, noPad);
        case 'p' -> t.getHour() < 12 ? "AM" : "PM";
        case 'a' -> t.getDayOfWeek().getDisplayName(TextStyle.SHORT, Locale.US);
        case 'A' -> t.getDayOfWeek().getDisplayName(TextStyle.FULL, Locale.US);
        case 'w' -> String.valueOf(t.getDayOfWeek().getValue() % 7);
        case 'b', 'h' -> t.getMonth().getDisplayName(TextStyle.SHORT, Locale.US);
        case 'B' -> t.getMonth().getDisplayName(TextStyle.FULL, Locale.US);
        case 'z', 'Z' -> "";
        case '%' -> "%";
        default -> throw new TemplateException(0, "strftime_now: unsupported directive %" + d);
      };
      sb.append(v);
    }
    return sb.toString();
  }

  private static String pad(int v, int width, boolean noPad) {
    String s = String.valueOf(v);
    return noPad ? s : "0".repeat(Math.max(0, width - s.length())) + s;
  }
}
