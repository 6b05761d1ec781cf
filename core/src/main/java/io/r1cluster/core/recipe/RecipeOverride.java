package io.r1cluster.core.recipe;

import io.r1cluster.core.InputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One {@code --key value} given after the recipe on the command line, as TRL's {@code TrlParser}
 * takes them ({@code r1 sft recipe.yaml --learning_rate 1e-5 --max_steps 20}). It replaces (or adds)
 * the key in the recipe before validation, so it meets the same checks, "did you mean" included.
 *
 * <p>Keys are snake_case ({@code --learning-rate} is read as {@code --learning_rate}); a dotted key
 * reaches into a section: {@code --cluster.max_staleness 1}, or one pipeline stage:
 * {@code --pipeline.grpo.learning_rate 1e-6} (a plain key sets the top level, which every stage
 * inherits unless the stage sets the key itself). The value is read as YAML, so
 * {@code --reward_funcs "[accuracy, format]"} is a list and {@code --logging_steps 5} a number;
 * {@code --key=value} works too, and a key with no value ({@code --bf16}) means {@code true}.
 *
 * @param key the recipe key, possibly dotted ({@code cluster.max_staleness})
 * @param value the value text, parsed as YAML
 * @param arg how it was written, for messages ({@code --learning_rate 1e-5})
 */
public record RecipeOverride(String key, String value, String arg) {
  /** Where override errors and origins point (instead of {@code file:line}). */
  public static final String ORIGIN = "command line";

  /**
   * Reads {@code --key value} pairs.
   *
   * @throws InputException on a word that is not a {@code --key}, or an empty key
   */
  public static List<RecipeOverride> parse(List<String> args) {
    List<RecipeOverride> out = new ArrayList<>();
    if (args == null) {
      return out;
    }
    for (int i = 0; i < args.size(); i++) {
      String a = args.get(i);
      if (!a.startsWith("--") || a.length() == 2) {
        throw new InputException(null, 0, ORIGIN, "unexpected '" + a + "': after RECIPE come --key value overrides"
            + " (e.g. --learning_rate 1e-5)");
      }
      String body = a.substring(2);
      String key;
      String value;
      int eq = body.indexOf('=');
      if (eq >= 0) {
        key = body.substring(0, eq);
        value = body.substring(eq + 1);
      } else if (i + 1 < args.size() && !looksLikeKey(args.get(i + 1))) {
        key = body;
        value = args.get(++i);
      } else {
        key = body;
        value = "true";
      }
      key = normalise(key);
      if (key.isEmpty() || key.startsWith(".") || key.endsWith(".") || key.contains("..")) {
        throw new InputException(null, 0, ORIGIN, "'" + a + "' is not a recipe key");
      }
      out.add(new RecipeOverride(key, value, "--" + key + " " + value));
    }
    return out;
  }

  /** A following word is a value unless it is itself a {@code --key} (negative numbers are values). */
  private static boolean looksLikeKey(String s) {
    return s.startsWith("--") && s.length() > 2 && !Character.isDigit(s.charAt(2)) && s.charAt(2) != '.';
  }

  /** {@code learning-rate} → {@code learning_rate} in key names; stage names keep their spelling. */
  private static String normalise(String key) {
    String[] parts = key.split("\\.", -1);
    if (parts.length == 3 && parts[0].equals("pipeline")) {
      return "pipeline." + parts[1] + "." + parts[2].replace('-', '_').toLowerCase(Locale.ROOT);
    }
    return key.replace('-', '_').toLowerCase(Locale.ROOT);
  }

  /** The key path: {@code ["cluster", "max_staleness"]}. */
  String[] path() {
    return key.split("\\.");
  }
}
