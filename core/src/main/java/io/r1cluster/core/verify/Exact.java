package io.r1cluster.core.verify;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A literal number read exactly: an integer, a decimal ("float" in Math-Verify's terms), or a
 * fraction of integers ({@code a/b}, {@code \frac{a}{b}}), possibly a percentage. No rounding ever
 * happens here except in {@link #rounded}, which Math-Verify applies when one side is a float.
 *
 * <p>Integers and decimals compare by their canonical digit strings first (linear time, any size:
 * two 10<sup>6</sup>-digit integers that differ in the last digit are different). Arithmetic
 * (cross-multiplying fractions, rounding) is done with {@link BigInteger}/{@link BigDecimal} and
 * only below {@link #MAX_ARITH_DIGITS} digits; above it the comparison is out of budget.
 */
record Exact(boolean negative, String intDigits, String fracDigits, BigInteger den, boolean isFloat, boolean percent) {
  static final int MAX_ARITH_DIGITS = 20_000;

  private static final Pattern THOUSANDS = Pattern.compile("[+-]?\\d{1,3}(?:,\\d{3})+(?:\\.\\d+)?");
  private static final Pattern DECIMAL = Pattern.compile("([+-]?)(\\d*)(?:\\.(\\d*))?");
  private static final Pattern FRAC = Pattern.compile("([+-]?)\\\\frac\\{([+-]?\\d+)\\}\\{([+-]?\\d+)\\}");
  private static final Pattern SLASH = Pattern.compile("([+-]?\\d+)/([+-]?\\d+)");

  /**
   * True for a plain decimal numeral: optional sign, digits, optionally '.' and digits (spaces
   * around allowed). Linear and allocation-free, so numbers of any length take the exact path.
   */
  static boolean numeral(CharSequence s) {
    int n = s.length();
    int i = 0;
    while (i < n && Character.isWhitespace(s.charAt(i))) {
      i++;
    }
    while (n > i && Character.isWhitespace(s.charAt(n - 1))) {
      n--;
    }
    if (i < n && (s.charAt(i) == '-' || s.charAt(i) == '+')) {
      i++;
    }
    int digits = 0;
    boolean point = false;
    for (; i < n; i++) {
      char c = s.charAt(i);
      if (c >= '0' && c <= '9') {
        digits++;
      } else if (c == '.' && !point) {
        point = true;
      } else {
        return false;
      }
    }
    return digits > 0;
  }

  /** The literal number {@code tex} denotes, or null when it is not one. */
  static Exact of(String tex, boolean percent) {
    String t = tex.strip();
    if (t.startsWith("{") && t.endsWith("}") && t.indexOf('{', 1) < 0) {
      t = t.substring(1, t.length() - 1).strip();
    }
    if (t.isEmpty() || t.length() > 4_000_000) {
      return null;
    }
    if (THOUSANDS.matcher(t).matches()) {
      t = t.replace(",", "");
    }
    Matcher d = DECIMAL.matcher(t);
    if (d.matches() && (!d.group(2).isEmpty() || (d.group(3) != null && !d.group(3).isEmpty()))) {
      boolean neg = d.group(1).equals("-");
      String ip = stripLeadingZeros(d.group(2));
      String fp = d.group(3) == null ? null : stripTrailingZeros(d.group(3));
      boolean zero = ip.equals("0") && (fp == null || fp.isEmpty());
      return new Exact(neg && !zero, ip, fp == null ? "" : fp, BigInteger.ONE, d.group(3) != null, percent);
    }
    Matcher f = FRAC.matcher(t);
    Matcher s = SLASH.matcher(t);
    String num = null;
    String den = null;
    boolean neg = false;
    if (f.matches()) {
      neg = f.group(1).equals("-");
      num = f.group(2);
      den = f.group(3);
    } else if (s.matches()) {
      num = s.group(1);
      den = s.group(2);
    }
    if (num == null) {
      return null;
    }
    Budget.cap(num.length() + den.length() > MAX_ARITH_DIGITS, "number size");
    BigInteger n = new BigInteger(num);
    BigInteger m = new BigInteger(den);
    if (m.signum() == 0) {
      return null;
    }
    if (neg) {
      n = n.negate();
    }
    if (m.signum() < 0) {
      n = n.negate();
      m = m.negate();
    }
    BigInteger g = n.gcd(m);
    n = n.divide(g);
    m = m.divide(g);
    return new Exact(n.signum() < 0, n.abs().toString(), "", m, false, percent);
  }

  private static String stripLeadingZeros(String s) {
    int i = 0;
    while (i < s.length() - 1 && s.charAt(i) == '0') {
      i++;
    }
    return s.isEmpty() ? "0" : s.substring(i);
  }

  private static String stripTrailingZeros(String s) {
    int j = s.length();
    while (j > 0 && s.charAt(j - 1) == '0') {
      j--;
    }
    return s.substring(0, j);
  }

  /** True when the value is a whole number (and, as in SymPy, not written as a decimal). */
  boolean integerValued() {
    if (percent) {
      return !isFloat && den.equals(BigInteger.ONE) && fracDigits.isEmpty() && intDigits.length() <= MAX_ARITH_DIGITS
          && new BigInteger(intDigits).mod(BigInteger.valueOf(100)).signum() == 0;
    }
    return !isFloat && den.equals(BigInteger.ONE);
  }

  /** Exact equality of values. */
  boolean sameValue(Exact o) {
    if (!percent && !o.percent && den.equals(BigInteger.ONE) && o.den.equals(BigInteger.ONE)) {
      // canonical strings: linear time at any size
      return negative == o.negative && intDigits.equals(o.intDigits) && fracDigits.equals(o.fracDigits);
    }
    Budget.cap(digits() + o.digits() > MAX_ARITH_DIGITS, "number size");
    return scaledDen().multiply(o.scaledNum()).equals(o.scaledDen().multiply(scaledNum()));
  }

  /** The value rounded half-even to {@code places} decimals. */
  BigDecimal rounded(int places) {
    Budget.cap(digits() > MAX_ARITH_DIGITS, "number size");
    BigDecimal n = new BigDecimal(scaledNum());
    BigDecimal d = new BigDecimal(scaledDen());
    return n.divide(d, places, RoundingMode.HALF_EVEN);
  }

  private int digits() {
    return intDigits.length() + fracDigits.length() + den.bitLength() / 3;
  }

  /** Numerator of the value as an integer fraction (decimal point and percent folded in). */
  private BigInteger scaledNum() {
    BigInteger n = new BigInteger(intDigits + fracDigits);
    return negative ? n.negate() : n;
  }

  private BigInteger scaledDen() {
    BigInteger d = den.multiply(BigInteger.TEN.pow(fracDigits.length()));
    return percent ? d.multiply(BigInteger.valueOf(100)) : d;
  }
}
