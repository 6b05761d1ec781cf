package io.r1cluster.core.tokenizer.jinja;

import java.util.List;

/** The syntax tree of a template: statements and expressions, each with its template line. */
interface Node {
  int line();

  // ---- statements
  record Text(int line, String text) implements Node {}

  record Output(int line, Node expr) implements Node {}

  record If(int line, List<Node> conds, List<List<Node>> bodies, List<Node> orElse) implements Node {}

  record For(int line, List<String> targets, Node iter, Node filter, List<Node> body, List<Node> orElse)
      implements Node {}

  /** {@code set a = e}, {@code set a, b = e} (names) or {@code set ns.attr = e} (attr non-null). */
  record Set(int line, List<String> names, String attr, Node value) implements Node {}

  record SetBlock(int line, String name, List<Node> body) implements Node {}

  record Macro(int line, String name, List<String> params, List<Node> defaults, List<Node> body) implements Node {}

  record Break(int line) implements Node {}

  record Continue(int line) implements Node {}

  /** A body rendered as is ({@code generation} of transformers' AssistantTracker). */
  record Block(int line, List<Node> body) implements Node {}

  // ---- expressions
  record Const(int line, Object value) implements Node {}

  record Name(int line, String name) implements Node {}

  record Attr(int line, Node obj, String name) implements Node {}

  record Item(int line, Node obj, Node key) implements Node {}

  record Slice(int line, Node obj, Node start, Node stop, Node step) implements Node {}

  record Call(int line, Node fn, List<Node> args, List<String> kwNames, List<Node> kwValues) implements Node {}

  record Filter(int line, Node value, String name, List<Node> args, List<String> kwNames, List<Node> kwValues)
      implements Node {}

  record Test(int line, Node value, String name, List<Node> args, boolean negated) implements Node {}

  record Unary(int line, String op, Node operand) implements Node {}

  record Binary(int line, String op, Node left, Node right) implements Node {}

  record Compare(int line, Node first, List<String> ops, List<Node> rest) implements Node {}

  record Cond(int line, Node cond, Node then, Node orElse) implements Node {}

  /** A list literal, or a tuple ({@code tuple}: printed with parentheses, unequal to lists). */
  record ListLit(int line, List<Node> items, boolean tuple) implements Node {}

  record DictLit(int line, List<Node> keys, List<Node> values) implements Node {}
}
