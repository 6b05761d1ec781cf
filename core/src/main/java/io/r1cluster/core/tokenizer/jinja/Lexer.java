package io.r1cluster.core.tokenizer.jinja;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits a template into text and tag tokens the way jinja2's lexer does with the settings
 * transformers uses ({@code trim_blocks}, {@code lstrip_blocks}, {@code keep_trailing_newline=False}):
 *
 * <ul>
 *   <li>{@code {%-}, {{-}, {#-} strip all whitespace before the tag; {@code -%}, -}}, -#}} all after;
 *   <li>trim_blocks: one newline right after a block or comment tag is dropped (not after {@code +%}});
 *   <li>lstrip_blocks: spaces and tabs between the start of a line and a block or comment tag are
 *       dropped (not for {@code {%+});
 *   <li>{@code \r\n} and {@code \r} become {@code \n}; one trailing newline of the source is dropped.
 * </ul>
 */
final class Lexer {
  enum Type { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

  record Token(Type type, String value, int line) {
    boolean is(Type t, String v) {
      return type == t && value.equals(v);
    }

    boolean isName(String v) {
      return is(Type.NAME, v);
    }

    boolean isOp(String v) {
      return is(Type.OP, v);
    }

    @Override
    public String toString() {
      return type == Type.EOF ? "end of template" : type == Type.TEXT ? "text" : "'" + value + "'";
    }
  }

  private static final String[] OPS = {"**", "//", "==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/", "%", "~",
      "|", "(", ")", "[", "]", "{", "}", ",", ".", ":", "="};

  private final String src;
  private final List<Token> out = new ArrayList<>();
  private int pos;
  private int line = 1;

  private Lexer(String source) {
    String s = source.replace("\r\n", "\n").replace('\r', '\n');
    if (s.endsWith("\n")) {
      s = s.substring(0, s.length() - 1);
    }
    this.src = s;
  }

  static List<Token> tokenize(String source) {
    Lexer l = new Lexer(source);
    l.run();
    return l.out;
  }

  private void run() {
    boolean lineStarting = true;
    while (pos < src.length()) {
      int idx = nextTag(pos);
      if (idx < 0) {
        text(src.substring(pos));
        pos = src.length();
        break;
      }
      String text = src.substring(pos, idx);
      char kind = src.charAt(idx + 1);
      char sign = idx + 2 < src.length() ? src.charAt(idx + 2) : 0;
      if (sign == '-') {
        text = Py.rstrip(text, null);
      } else if (sign != '+' && kind != '{') {
        int lpos = text.lastIndexOf('\n') + 1;
        if ((lpos > 0 || lineStarting) && lpos < text.length() && isBlank(text, lpos)) {
          text = text.substring(0, lpos);
        }
      }
      text(text);
      line += count(src, pos, idx);
      pos = idx + 2 + (sign == '-' || sign == '+' ? 1 : 0);
      if (kind == '#') {
        int end = src.indexOf("#}", pos);
        if (end < 0) {
          throw new TemplateException(line, "unclosed comment");
        }
        boolean strip = src.charAt(end - 1) == '-' && end - 1 >= pos;
        boolean keep = src.charAt(end - 1) == '+' && end - 1 >= pos;
        line += count(src, pos, end);
        pos = end + 2;
        lineStarting = afterTag(strip, !keep);
      } else {
        boolean block = kind == '%';
        out.add(new Token(block ? Type.BLOCK_BEGIN : Type.VAR_BEGIN, block ? "{%" : "{{", line));
        lineStarting = expression(block);
      }
    }
    out.add(new Token(Type.EOF, "", line));
  }

  /** Skips whitespace after a tag ({@code -}) or one newline (trim_blocks); whether a line now starts. */
  private boolean afterTag(boolean strip, boolean trimBlock) {
    int start = pos;
    if (strip) {
      while (pos < src.length() && Py.isSpace(src.charAt(pos))) {
        pos++;
      }
    } else if (trimBlock && pos < src.length() && src.charAt(pos) == '\n') {
      pos++;
    }
    line += count(src, start, pos);
    return pos > 0 && src.charAt(pos - 1) == '\n';
  }

  private boolean expression(boolean block) {
    int depth = 0;
    while (true) {
      while (pos < src.length() && Py.isSpace(src.charAt(pos))) {
        if (src.charAt(pos) == '\n') {
          line++;
        }
        pos++;
      }
      if (pos >= src.length()) {
        throw new TemplateException(line, "unclosed " + (block ? "'{%'" : "'{{'"));
      }
      String end = block ? "%}" : "}}";
      if (depth == 0) {
        for (String pre : new String[] {"-", "+", ""}) {
          if ((pre.equals("+") && !block) || !src.startsWith(pre + end, pos)) {
            continue;
          }
          pos += pre.length() + 2;
          out.add(new Token(block ? Type.BLOCK_END : Type.VAR_END, end, line));
          return afterTag(pre.equals("-"), block && !pre.equals("+"));
        }
      }
      char c = src.charAt(pos);
      if (Character.isLetter(c) || c == '_') {
        int s = pos;
        while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
          pos++;
        }
        out.add(new Token(Type.NAME, src.substring(s, pos), line));
      } else if (Character.isDigit(c)) {
        number();
      } else if (c == '\'' || c == '"') {
        string(c);
      } else {
        String op = null;
        for (String o : OPS) {
          if (src.startsWith(o, pos)) {
            op = o;
            break;
          }
        }
        if (op == null) {
          throw new TemplateException(line, "unexpected character '" + c + "'");
        }
        if (op.equals("{") || op.equals("[") || op.equals("(")) {
          depth++;
        } else if (op.equals("}") || op.equals("]") || op.equals(")")) {
          depth--;
        }
        pos += op.length();
        out.add(new Token(Type.OP, op, line));
      }
    }
  }

  private void number() {
    int s = pos;
    while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
      pos++;
    }
    boolean isFloat = false;
    if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
      isFloat = true;
      pos++;
      while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) {
        pos++;
      }
    }
    if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
      int save = pos;
      pos++;
      if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) {
        pos++;
      }
      if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
        isFloat = true;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) {
          pos++;
        }
      } else {
        pos = save;
      }
    }
    out.add(new Token(isFloat ? Type.FLOAT : Type.INT, src.substring(s, pos).replace("_", ""), line));
  }

  /** A quoted string with Python's escapes ({@code \n}, {@code \t}, {@code \\}, {@code \'}, {@code \xhh}, {@code \\uhhhh}, ...). */
  private void string(char q) {
    int startLine = line;
    StringBuilder sb = new StringBuilder();
    pos++;
    while (true) {
      if (pos >= src.length()) {
        throw new TemplateException(startLine, "unterminated string");
      }
      char c = src.charAt(pos++);
      if (c == q) {
        break;
      }
      if (c == '\n') {
        line++;
      }
      if (c != '\\') {
        sb.append(c);
        continue;
      }
      if (pos >= src.length()) {
        throw new TemplateException(startLine, "unterminated string");
      }
      char e = src.charAt(pos++);
      switch (e) {
        case '\n' -> line++;
        case '\\' -> sb.append('\\');
        case '\'' -> sb.append('\'');
        case '"' -> sb.append('"');
        case 'n' -> sb.append('\n');
        case 't' -> sb.append('\t');
        case 'r' -> sb.append('\r');
        case 'b' -> sb.append('\b');
        case 'f' -> sb.append('\f');
        case 'v' -> sb.append('\u000b');
        case 'a' -> sb.append('\u0007');
        case 'x' -> sb.appendCodePoint(hex(2, startLine));
        case 'u' -> sb.appendCodePoint(hex(4, startLine));
        case 'U' -> sb.appendCodePoint(hex(8, startLine));
        default -> {
          if (e >= '0' && e <= '7') {
            int v = e - '0';
            for (int k = 0; k < 2 && pos < src.length() && src.charAt(pos) >= '0' && src.charAt(pos) <= '7'; k++) {
              v = v * 8 + (src.charAt(pos++) - '0');
            }
            sb.append((char) v);
          } else {
            sb.append('\\').append(e); // Python keeps unknown escapes as written
          }
        }
      }
    }
    out.add(new Token(Type.STRING, sb.toString(), startLine));
  }

  private int hex(int n, int startLine) {
    if (pos + n > src.length()) {
      throw new TemplateException(startLine, "truncated \\x/\\u escape in string");
    }
    try {
      int v = Integer.parseInt(src.substring(pos, pos + n), 16);
      pos += n;
      return v;
    } catch (NumberFormatException e) {
      throw new TemplateException(startLine, "bad \\x/\\u escape in string");
    }
  }

  private void text(String t) {
    if (!t.isEmpty()) {
      out.add(new Token(Type.TEXT, t, line));
    }
  }

  private int nextTag(int from) {
    int i = from;
    while (true) {
      i = src.indexOf('{', i);
      if (i < 0 || i + 1 >= src.length()) {
        return -1;
      }
      char c = src.charAt(i + 1);
      if (c == '{' || c == '%' || c == '#') {
        return i;
      }
      i++;
    }
  }

  private static boolean isBlank(String s, int from) {
    for (int i = from; i < s.length(); i++) {
      if (!Py.isSpace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  private static int count(String s, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      if (s.charAt(i) == '\n') {
        n++;
      }
    }
    return n;
  }
}
