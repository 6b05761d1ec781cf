package io.r1cluster.core.reward;

import java.lang.Character.UnicodeScript;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * DeepSeek-R1's language-consistency reward (seed 002, the RL stage after cold start): "the
 * proportion of target language words in the CoT", added to the accuracy reward to stop the
 * reasoning from mixing languages. Rule-based, no model:
 *
 * <pre>
 *   reasoning = the text inside the first {@code <think>…</think>} (to the end when unclosed),
 *               else the whole completion
 *   words     = what is left after dropping math ($…$, $$…$$, \(…\), \[…\]), fenced code (```…```),
 *               LaTeX commands (\frac), digits, punctuation and single Latin/Greek/Cyrillic
 *               letters (variables such as x, n): each Han, Hiragana, Katakana or Thai character
 *               is one word (these scripts do not put spaces between words), any other run of
 *               letters of one script is one word
 *   score     = words whose script belongs to the target language / all words   (0 when no words)
 * </pre>
 *
 * The target comes from the row's {@code language} column when the dataset has one, else from the
 * recipe key {@code language} (default {@code en}). Languages are told apart by script only, so
 * {@code en}, {@code fr} and {@code de} are all "Latin": the reward punishes switching scripts
 * (the mixing DeepSeek-R1 reports is Chinese/English), not switching between two Latin-script
 * languages.
 */
public final class LanguageConsistency {
  private LanguageConsistency() {}

  /** Language code → the scripts its words are written in. */
  static final Map<String, Set<UnicodeScript>> SCRIPTS = new TreeMap<>();

  static {
    for (String latin : List.of("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "no", "fi", "pl", "cs", "tr",
        "vi", "id", "ro", "hu")) {
      SCRIPTS.put(latin, EnumSet.of(UnicodeScript.LATIN));
    }
    SCRIPTS.put("zh", EnumSet.of(UnicodeScript.HAN));
    SCRIPTS.put("ja", EnumSet.of(UnicodeScript.HAN, UnicodeScript.HIRAGANA, UnicodeScript.KATAKANA));
    SCRIPTS.put("ko", EnumSet.of(UnicodeScript.HANGUL));
    for (String cyr : List.of("ru", "uk", "bg", "sr")) {
      SCRIPTS.put(cyr, EnumSet.of(UnicodeScript.CYRILLIC));
    }
    SCRIPTS.put("el", EnumSet.of(UnicodeScript.GREEK));
    SCRIPTS.put("ar", EnumSet.of(UnicodeScript.ARABIC));
    SCRIPTS.put("fa", EnumSet.of(UnicodeScript.ARABIC));
    SCRIPTS.put("he", EnumSet.of(UnicodeScript.HEBREW));
    SCRIPTS.put("hi", EnumSet.of(UnicodeScript.DEVANAGARI));
    SCRIPTS.put("th", EnumSet.of(UnicodeScript.THAI));
  }

  /** Scripts whose every character is a word. */
  private static final Set<UnicodeScript> PER_CHARACTER =
      EnumSet.of(UnicodeScript.HAN, UnicodeScript.HIRAGANA, UnicodeScript.KATAKANA, UnicodeScript.THAI);

  /** Scripts in which a lone letter is a variable name, not a word. */
  private static final Set<UnicodeScript> VARIABLE_LETTERS =
      EnumSet.of(UnicodeScript.LATIN, UnicodeScript.GREEK, UnicodeScript.CYRILLIC);

  /**
   * The reward function. {@code defaultLanguage} is the recipe's {@code language} (a code from
   * {@link #SCRIPTS}, case-insensitive, region suffix ignored: {@code zh-CN} is {@code zh}).
   *
   * @throws IllegalArgumentException for a language this reward cannot judge
   */
  public static RewardFunction create(String defaultLanguage) {
    Set<UnicodeScript> fallback = scripts(defaultLanguage);
    return new RewardFunction() {
      @Override
      public String name() {
        return "language_consistency";
      }

      @Override
      public float[] score(RewardInput in) {
        float[] out = new float[in.size()];
        for (int i = 0; i < out.length; i++) {
          Object lang = in.column("language", i);
          Set<UnicodeScript> target = fallback;
          if (lang != null && !lang.toString().isBlank()) {
            try {
              target = scripts(lang.toString());
            } catch (IllegalArgumentException e) {
              out[i] = Float.NaN; // a row in a language we cannot judge gets no score
              continue;
            }
          }
          out[i] = (float) share(reasoning(in.completions().get(i)), target);
        }
        return out;
      }
    };
  }

  static Set<UnicodeScript> scripts(String language) {
    String code = language.strip().toLowerCase(Locale.ROOT);
    int dash = code.indexOf('-') >= 0 ? code.indexOf('-') : code.indexOf('_');
    if (dash > 0) {
      code = code.substring(0, dash);
    }
    Set<UnicodeScript> s = SCRIPTS.get(code);
    if (s == null) {
      throw new IllegalArgumentException("language '" + language + "' is not one the language_consistency reward can judge; known: "
          + String.join(", ", SCRIPTS.keySet()));
    }
    return s;
  }

  /** The chain of thought: inside the first {@code <think>…</think>}, else the whole text. */
  static String reasoning(String completion) {
    int open = completion.indexOf("<think>");
    if (open < 0) {
      int close = completion.indexOf("</think>");
      // a chat template that opens <think> in the prompt leaves only the closing tag
      return close >= 0 ? completion.substring(0, close) : completion;
    }
    int from = open + "<think>".length();
    int close = completion.indexOf("</think>", from);
    return completion.substring(from, close < 0 ? completion.length() : close);
  }

  /** Share of words written in {@code target}'s scripts; 0 when there are no words. */
  static double share(String text, Set<UnicodeScript> target) {
    String t = stripMathAndCode(text);
    int words = 0;
    int inTarget = 0;
    int i = 0;
    int n = t.length();
    while (i < n) {
      int cp = t.codePointAt(i);
      if (cp == '\\' && i + 1 < n && Character.isLetter(t.charAt(i + 1))) {
        i++;
        while (i < n && Character.isLetter(t.charAt(i))) {
          i++; // a LaTeX command outside math delimiters
        }
        continue;
      }
      if (!Character.isLetter(cp)) {
        i += Character.charCount(cp);
        continue;
      }
      UnicodeScript script = UnicodeScript.of(cp);
      if (PER_CHARACTER.contains(script)) {
        words++;
        inTarget += target.contains(script) ? 1 : 0;
        i += Character.charCount(cp);
        continue;
      }
      int start = i;
      int letters = 0;
      while (i < n) {
        int c = t.codePointAt(i);
        boolean joiner = (c == '\'' || c == '’' || c == '-') && letters > 0 && i + 1 < n && Character.isLetter(t.codePointAt(i + 1));
        if (!(joiner || (Character.isLetter(c) || Character.getType(c) == Character.NON_SPACING_MARK
            || Character.getType(c) == Character.COMBINING_SPACING_MARK) && sameScript(c, script))) {
          break;
        }
        letters += Character.isLetter(c) ? 1 : 0;
        i += Character.charCount(c);
      }
      if (letters == 1 && VARIABLE_LETTERS.contains(script) && !isWordLetter(t, start)) {
        continue; // x, n, α: a variable
      }
      words++;
      inTarget += target.contains(script) ? 1 : 0;
    }
    return words == 0 ? 0.0 : inTarget / (double) words;
  }

  /** English "a" and "I" are words, not variables. */
  private static boolean isWordLetter(String t, int at) {
    char c = t.charAt(at);
    return c == 'a' || c == 'I' || c == 'A';
  }

  private static boolean sameScript(int cp, UnicodeScript script) {
    UnicodeScript s = UnicodeScript.of(cp);
    return s == script || s == UnicodeScript.INHERITED || s == UnicodeScript.COMMON;
  }

  /** Drops $…$, $$…$$, \(…\), \[…\] and ```…``` (unclosed ones run to the end of the line or text). */
  static String stripMathAndCode(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    int i = 0;
    int n = s.length();
    while (i < n) {
      String close = null;
      int skip = 0;
      if (s.startsWith("```", i)) {
        close = "```";
        skip = 3;
      } else if (s.startsWith("$$", i)) {
        close = "$$";
        skip = 2;
      } else if (s.charAt(i) == '$' && (i == 0 || s.charAt(i - 1) != '\\')) {
        close = "$";
        skip = 1;
      } else if (s.startsWith("\\(", i)) {
        close = "\\)";
        skip = 2;
      } else if (s.startsWith("\\[", i)) {
        close = "\\]";
        skip = 2;
      }
      if (close == null) {
        sb.append(s.charAt(i++));
        continue;
      }
      int end = s.indexOf(close, i + skip);
      if (close.equals("$") && end >= 0 && s.lastIndexOf('\n', end) >= i) {
        end = -1; // inline math stays on one line
      }
      if (end < 0) {
        // an unclosed inline '$' is usually a currency sign: keep the text after it
        if (close.equals("$")) {
          sb.append(' ');
          i += 1;
          continue;
        }
        end = n;
      }
      sb.append(' ');
      i = Math.min(n, end + close.length());
    }
    return sb.toString();
  }
}
