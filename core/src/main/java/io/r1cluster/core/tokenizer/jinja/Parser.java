package io.r1cluster.core.tokenizer.jinja;

import io.r1cluster.core.tokenizer.jinja.Lexer.Token;
import io.r1cluster.core.tokenizer.jinja.Lexer.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Recursive-descent parser with jinja2's grammar and operator precedence (lowest first):
 * {@code a if c else b}, {@code or}, {@code and}, {@code not}, comparisons and {@code in},
 * {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary {@code - +}, then primaries with
 * postfix {@code .attr}, {@code [i]}, {@code [a:b:c]}, calls, filters {@code |f(...)} and tests
 * {@code is [not] t(...)}.
 *
 * <p>Statements: {@code if/elif/else}, {@code for ... in ... [if ...]} with {@code else},
 * {@code set} (names, tuples, {@code ns.attr}, block form), {@code macro}, {@code break},
 * {@code continue} (loopcontrols) and {@code generation} (transformers). Anything else is an
 * error naming the tag and line.
 */
final class Parser {
  private final List<Token> tokens;
  private int i;

  private Parser(List<Token> tokens) {
    this.tokens = tokens;
  }

  static List<Node> parse(String source) {
    Parser p = new Parser(Lexer.tokenize(source));
    List<Node> body = p.subparse(Set.of());
    if (p.cur().type() != Type.EOF) {
      Token t = p.cur();
      throw new TemplateException(t.line(), "unexpected '" + t.value() + "' (no block is open)");
    }
    return body;
  }

  private Token cur() {
    return tokens.get(i);
  }

  private Token next() {
    return tokens.get(i++);
  }

  private boolean skipOp(String op) {
    if (cur().isOp(op)) {
      i++;
      return true;
    }
    return false;
  }

  private boolean skipName(String n) {
    if (cur().isName(n)) {
      i++;
      return true;
    }
    return false;
  }

  private Token expect(Type t, String value, String what) {
    Token c = cur();
    if (c.type() != t || (value != null && !c.value().equals(value))) {
      throw new TemplateException(c.line(), "expected " + what + ", got " + c);
    }
    return next();
  }

  private String expectName() {
    return expect(Type.NAME, null, "a name").value();
  }

  private void endBlock() {
    expect(Type.BLOCK_END, null, "'%}'");
  }

  /** Statements until EOF or a block tag named in {@code ends} (left as the current token). */
  private List<Node> subparse(Set<String> ends) {
    List<Node> body = new ArrayList<>();
    while (true) {
      Token t = cur();
      switch (t.type()) {
        case EOF -> {
          if (!ends.isEmpty()) {
            throw new TemplateException(t.line(), "missing end tag, expected one of " + ends);
          }
          return body;
        }
        case TEXT -> {
          next();
          body.add(new Node.Text(t.line(), t.value()));
        }
        case VAR_BEGIN -> {
          next();
          Node e = tuple(true);
          expect(Type.VAR_END, null, "'}}'");
          body.add(new Node.Output(t.line(), e));
        }
        case BLOCK_BEGIN -> {
          next();
          Token name = cur();
          if (name.type() == Type.NAME && ends.contains(name.value())) {
            return body;
          }
          body.add(statement());
        }
        default -> throw new TemplateException(t.line(), "unexpected " + t);
      }
    }
  }

  private Node statement() {
    Token t = expect(Type.NAME, null, "a tag name");
    int line = t.line();
    switch (t.value()) {
      case "if": {
        List<Node> conds = new ArrayList<>();
        List<List<Node>> bodies = new ArrayList<>();
        List<Node> orElse = List.of();
        conds.add(tuple(true));
        endBlock();
        while (true) {
          bodies.add(subparse(Set.of("elif", "else", "endif")));
          String tag = next().value();
          if (tag.equals("elif")) {
            conds.add(tuple(true));
            endBlock();
          } else if (tag.equals("else")) {
            endBlock();
            orElse = subparse(Set.of("endif"));
            next();
            endBlock();
            break;
          } else {
            endBlock();
            break;
          }
        }
        return new Node.If(line, conds, bodies, orElse);
      }
      case "for": {
        List<String> targets = targets();
        expect(Type.NAME, "in", "'in'");
        Node iter = tupleNoCond();
        Node filter = null;
        if (skipName("if")) {
          filter = tuple(true);
        }
        if (cur().isName("recursive")) {
          throw new TemplateException(line, "recursive loops are not supported");
        }
        endBlock();
        List<Node> body = subparse(Set.of("endfor", "else"));
        List<Node> orElse = List.of();
        if (next().value().equals("else")) {
          endBlock();
          orElse = subparse(Set.of("endfor"));
          next();
        }
        endBlock();
        return new Node.For(line, targets, iter, filter, body, orElse);
      }
      case "set": {
        String first = expectName();
        if (skipOp(".")) {
          String attr = expectName();
          expect(Type.OP, "=", "'='");
          Node v = tuple(true);
          endBlock();
          return new Node.Set(line, List.of(first), attr, v);
        }
        List<String> names = new ArrayList<>(List.of(first));
        while (skipOp(",")) {
          if (cur().type() != Type.NAME) {
            break;
          }
          names.add(expectName());
        }
        if (skipOp("=")) {
          Node v = tuple(true);
          endBlock();
          return new Node.Set(line, names, null, v);
        }
        if (names.size() != 1) {
          throw new TemplateException(line, "a block set assigns one name");
        }
        endBlock();
        List<Node> body = subparse(Set.of("endset"));
        next();
        endBlock();
        return new Node.SetBlock(line, first, body);
      }
      case "macro": {
        String name = expectName();
        expect(Type.OP, "(", "'('");
        List<String> params = new ArrayList<>();
        List<Node> defaults = new ArrayList<>();
        while (!skipOp(")")) {
          if (!params.isEmpty()) {
            expect(Type.OP, ",", "','");
            if (skipOp(")")) {
              break;
            }
          }
          params.add(expectName());
          defaults.add(skipOp("=") ? expression(true) : null);
        }
        endBlock();
        List<Node> body = subparse(Set.of("endmacro"));
        next();
        endBlock();
        return new Node.Macro(line, name, params, defaults, body);
      }
      case "break":
        endBlock();
        return new Node.Break(line);
      case "continue":
        endBlock();
        return new Node.Continue(line);
      case "generation": {
        endBlock();
        List<Node> body = subparse(Set.of("endgeneration"));
        next();
        endBlock();
        return new Node.Block(line, body);
      }
      default:
        throw new TemplateException(line, "unsupported tag '" + t.value() + "'");
    }
  }

  private List<String> targets() {
    boolean paren = skipOp("(");
    List<String> names = new ArrayList<>();
    names.add(expectName());
    while (skipOp(",")) {
      if (cur().type() != Type.NAME) {
        break;
      }
      names.add(expectName());
    }
    if (paren) {
      expect(Type.OP, ")", "')'");
    }
    return names;
  }

  /** An expression or a comma-separated tuple of them (a list at run time). */
  private Node tuple(boolean condexpr) {
    int line = cur().line();
    Node first = expression(condexpr);
    if (!cur().isOp(",")) {
      return first;
    }
    List<Node> items = new ArrayList<>(List.of(first));
    while (skipOp(",")) {
      if (!startsExpression()) {
        break;
      }
      items.add(expression(condexpr));
    }
    return new Node.ListLit(line, items, true);
  }

  private Node tupleNoCond() {
    return tuple(false);
  }

  private boolean startsExpression() {
    Token t = cur();
    return switch (t.type()) {
      case NAME, STRING, INT, FLOAT -> true;
      case OP -> t.value().equals("(") || t.value().equals("[") || t.value().equals("{") || t.value().equals("-")
          || t.value().equals("+");
      default -> false;
    };
  }

  Node expression(boolean condexpr) {
    Node e = or();
    if (!condexpr) {
      return e;
    }
    while (cur().isName("if")) {
      int line = next().line();
      Node cond = or();
      Node orElse = skipName("else") ? expression(true) : null;
      e = new Node.Cond(line, cond, e, orElse);
    }
    return e;
  }

  private Node or() {
    Node l = and();
    while (cur().isName("or")) {
      int line = next().line();
      l = new Node.Binary(line, "or", l, and());
    }
    return l;
  }

  private Node and() {
    Node l = not();
    while (cur().isName("and")) {
      int line = next().line();
      l = new Node.Binary(line, "and", l, not());
    }
    return l;
  }

  private Node not() {
    if (cur().isName("not")) {
      int line = next().line();
      return new Node.Unary(line, "not", not());
    }
    return compare();
  }

  private static final Set<String> CMP = Set.of("==", "!=", "<", ">", "<=", ">=");

  private Node compare() {
    int line = cur().line();
    Node first = math1();
    List<String> ops = new ArrayList<>();
    List<Node> rest = new ArrayList<>();
    while (true) {
      Token t = cur();
      if (t.type() == Type.OP && CMP.contains(t.value())) {
        next();
        ops.add(t.value());
      } else if (t.isName("in")) {
        next();
        ops.add("in");
      } else if (t.isName("not") && tokens.get(i + 1).isName("in")) {
        i += 2;
        ops.add("notin");
      } else {
        break;
      }
      rest.add(math1());
    }
    return ops.isEmpty() ? first : new Node.Compare(line, first, ops, rest);
  }

  private Node math1() {
    Node l = concat();
    while (cur().isOp("+") || cur().isOp("-")) {
      Token t = next();
      l = new Node.Binary(t.line(), t.value(), l, concat());
    }
    return l;
  }

  private Node concat() {
    Node l = math2();
    while (cur().isOp("~")) {
      Token t = next();
      l = new Node.Binary(t.line(), "~", l, math2());
    }
    return l;
  }

  private Node math2() {
    Node l = pow();
    while (cur().isOp("*") || cur().isOp("/") || cur().isOp("//") || cur().isOp("%")) {
      Token t = next();
      l = new Node.Binary(t.line(), t.value(), l, pow());
    }
    return l;
  }

  private Node pow() {
    Node l = unary(true);
    while (cur().isOp("**")) {
      Token t = next();
      l = new Node.Binary(t.line(), "**", l, unary(true));
    }
    return l;
  }

  private Node unary(boolean withFilter) {
    Token t = cur();
    Node n;
    if (t.isOp("-") || t.isOp("+")) {
      next();
      n = new Node.Unary(t.line(), t.value(), unary(false));
    } else {
      n = postfix(primary());
    }
    return withFilter ? filterExpr(n) : n;
  }

  private Node primary() {
    Token t = next();
    switch (t.type()) {
      case NAME:
        return switch (t.value()) {
          case "true", "True" -> new Node.Const(t.line(), Boolean.TRUE);
          case "false", "False" -> new Node.Const(t.line(), Boolean.FALSE);
          case "none", "None" -> new Node.Const(t.line(), null);
          default -> new Node.Name(t.line(), t.value());
        };
      case STRING: {
        StringBuilder sb = new StringBuilder(t.value());
        while (cur().type() == Type.STRING) {
          sb.append(next().value());
        }
        return new Node.Const(t.line(), sb.toString());
      }
      case INT:
        try {
          return new Node.Const(t.line(), Long.parseLong(t.value()));
        } catch (NumberFormatException e) {
          throw new TemplateException(t.line(), "integer literal out of range: " + t.value());
        }
      case FLOAT:
        return new Node.Const(t.line(), Double.parseDouble(t.value()));
      case OP:
        switch (t.value()) {
          case "(": {
            if (skipOp(")")) {
              return new Node.ListLit(t.line(), List.of(), true);
            }
            Node e = expression(true);
            if (cur().isOp(",")) {
              List<Node> items = new ArrayList<>(List.of(e));
              while (skipOp(",")) {
                if (cur().isOp(")")) {
                  break;
                }
                items.add(expression(true));
              }
              e = new Node.ListLit(t.line(), items, true);
            }
            expect(Type.OP, ")", "')'");
            return e;
          }
          case "[": {
            List<Node> items = new ArrayList<>();
            while (!skipOp("]")) {
              if (!items.isEmpty()) {
                expect(Type.OP, ",", "','");
                if (skipOp("]")) {
                  break;
                }
              }
              items.add(expression(true));
            }
            return new Node.ListLit(t.line(), items, false);
          }
          case "{": {
            List<Node> keys = new ArrayList<>();
            List<Node> values = new ArrayList<>();
            while (!skipOp("}")) {
              if (!keys.isEmpty()) {
                expect(Type.OP, ",", "','");
                if (skipOp("}")) {
                  break;
                }
              }
              keys.add(expression(true));
              expect(Type.OP, ":", "':'");
              values.add(expression(true));
            }
            return new Node.DictLit(t.line(), keys, values);
          }
          default:
            break;
        }
        break;
      default:
        break;
    }
    throw new TemplateException(t.line(), "unexpected " + t);
  }

  private Node postfix(Node n) {
    while (true) {
      Token t = cur();
      if (t.isOp(".")) {
        next();
        Token a = next();
        if (a.type() == Type.NAME) {
          n = new Node.Attr(t.line(), n, a.value());
        } else if (a.type() == Type.INT) {
          n = new Node.Item(t.line(), n, new Node.Const(a.line(), Long.parseLong(a.value())));
        } else {
          throw new TemplateException(a.line(), "expected an attribute name after '.', got " + a);
        }
      } else if (t.isOp("[")) {
        next();
        n = subscript(n, t.line());
      } else if (t.isOp("(")) {
        n = call(n);
      } else {
        return n;
      }
    }
  }

  private Node subscript(Node obj, int line) {
    Node start = null;
    if (!cur().isOp(":")) {
      start = expression(true);
      if (skipOp("]")) {
        return new Node.Item(line, obj, start);
      }
    }
    expect(Type.OP, ":", "':' or ']'");
    Node stop = cur().isOp(":") || cur().isOp("]") ? null : expression(true);
    Node step = null;
    if (skipOp(":")) {
      step = cur().isOp("]") ? null : expression(true);
    }
    expect(Type.OP, "]", "']'");
    return new Node.Slice(line, obj, start, stop, step);
  }

  private record Args(List<Node> args, List<String> kwNames, List<Node> kwValues) {}

  private Args args() {
    expect(Type.OP, "(", "'('");
    List<Node> args = new ArrayList<>();
    List<String> kwNames = new ArrayList<>();
    List<Node> kwValues = new ArrayList<>();
    boolean first = true;
    while (!skipOp(")")) {
      if (!first) {
        expect(Type.OP, ",", "','");
        if (skipOp(")")) {
          break;
        }
      }
      first = false;
      if (cur().isOp("*") || cur().isOp("**")) {
        throw new TemplateException(cur().line(), "*args / **kwargs in calls are not supported");
      }
      if (cur().type() == Type.NAME && tokens.get(i + 1).isOp("=")) {
        kwNames.add(next().value());
        next();
        kwValues.add(expression(true));
      } else {
        if (!kwNames.isEmpty()) {
          throw new TemplateException(cur().line(), "positional argument after keyword argument");
        }
        args.add(expression(true));
      }
    }
    return new Args(args, kwNames, kwValues);
  }

  private Node call(Node fn) {
    int line = cur().line();
    Args a = args();
    return new Node.Call(line, fn, a.args(), a.kwNames(), a.kwValues());
  }

  private Node filterExpr(Node n) {
    while (true) {
      Token t = cur();
      if (t.isOp("|")) {
        next();
        String name = dottedName();
        if (cur().isOp("(")) {
          Args a = args();
          n = new Node.Filter(t.line(), n, name, a.args(), a.kwNames(), a.kwValues());
        } else {
          n = new Node.Filter(t.line(), n, name, List.of(), List.of(), List.of());
        }
      } else if (t.isName("is")) {
        next();
        boolean neg = skipName("not");
        String name = dottedName();
        List<Node> args = List.of();
        if (cur().isOp("(")) {
          Args a = args();
          if (!a.kwNames().isEmpty()) {
            throw new TemplateException(t.line(), "keyword arguments to tests are not supported");
          }
          args = a.args();
        } else if (startsTestArg()) {
          args = List.of(postfix(primary()));
        }
        n = new Node.Test(t.line(), n, name, args, neg);
      } else if (t.isOp("(")) {
        n = call(n);
      } else {
        return n;
      }
    }
  }

  private boolean startsTestArg() {
    Token t = cur();
    if (t.type() == Type.NAME) {
      return !(t.value().equals("else") || t.value().equals("or") || t.value().equals("and"));
    }
    return t.type() == Type.STRING || t.type() == Type.INT || t.type() == Type.FLOAT || t.isOp("[") || t.isOp("{");
  }

  private String dottedName() {
    StringBuilder sb = new StringBuilder(expectName());
    while (cur().isOp(".") && tokens.get(i + 1).type() == Type.NAME) {
      next();
      sb.append('.').append(next().value());
    }
    return sb.toString();
  }
}
