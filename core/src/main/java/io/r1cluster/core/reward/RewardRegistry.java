package io.r1cluster.core.reward;

import io.r1cluster.core.InputException;
import io.r1cluster.core.recipe.RecipeKeys;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.verify.MathVerifier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Builds reward functions from recipe names ({@code reward_funcs}) and recipe keys (open-r1's
 * names: {@code cosine_min_value_wrong}, {@code repetition_n_grams}, {@code max_completion_len},
 * {@code soft_punish_cache}, …). Unknown names and bad parameters fail up front.
 */
public final class RewardRegistry {
  /** Names this build implements. */
  public static final List<String> NAMES = List.of(
      "accuracy", "format", "tag_count", "reasoning_steps", "length", "cosine", "repetition_penalty",
      "soft_overlong_punishment", "code", "binary_code", "code_format", "language_consistency");

  /**
   * open-r1's reward names this build does not implement (they need IOI / Codeforces judges): a
   * recipe that asks for one is an error at validation, not at the first training step.
   */
  public static final Map<String, String> NOT_IMPLEMENTED = Map.of(
      "ioi_code", "open-r1's IOI reward runs submissions on a Piston/Morph IOI judge, which r1-cluster does not provide",
      "cf_code", "open-r1's Codeforces reward runs submissions on a Piston/Morph Codeforces judge, which r1-cluster does not provide");

  /**
   * Why {@code name} cannot be used in {@code reward_funcs}, or null when it can: an open-r1 name
   * this build lacks, or an unknown name with the closest known one ("did you mean").
   */
  public static String problem(String name) {
    if (NAMES.contains(name)) {
      return null;
    }
    String why = NOT_IMPLEMENTED.get(name);
    if (why != null) {
      return "reward function '" + name + "' is not implemented: " + why + "; available: " + String.join(", ", NAMES);
    }
    String best = null;
    int bestD = Integer.MAX_VALUE;
    for (String k : NAMES) {
      int d = io.r1cluster.core.recipe.RecipeKeys.editDistance(name.toLowerCase(java.util.Locale.ROOT), k);
      if (d < bestD) {
        bestD = d;
        best = k;
      }
    }
    boolean close = best != null && (bestD <= Math.max(2, name.length() / 3) || best.startsWith(name) || name.startsWith(best));
    return "unknown reward function '" + name + "'" + (close ? " (did you mean '" + best + "'?)" : "")
        + "; known: " + String.join(", ", NAMES);
  }

  private RewardRegistry() {}

  public static List<RewardFunction> create(List<String> names, Map<String, Object> kw) {
    MathVerifier verifier = new MathVerifier(MathVerifier.DEFAULT_PRECISION,
        Duration.ofMillis((long) (num(kw, "verify_timeout_s", 5.0) * 1000)));
    List<RewardFunction> out = new ArrayList<>();
    for (String n : names) {
      try {
        out.add(switch (n) {
          case "accuracy" -> AccuracyRewards.accuracy(verifier);
          case "format" -> FormatRewards.format();
          case "tag_count" -> FormatRewards.tagCount();
          case "reasoning_steps" -> FormatRewards.reasoningSteps();
          case "length" -> AccuracyRewards.length(verifier);
          case "cosine" -> AccuracyRewards.cosine(verifier, new AccuracyRewards.CosineParams(
              num(kw, "cosine_min_value_wrong"), num(kw, "cosine_max_value_wrong"),
              num(kw, "cosine_min_value_correct"), num(kw, "cosine_max_value_correct"),
              (int) num(kw, "cosine_max_len")));
          case "repetition_penalty" -> LengthPenalties.repetition(
              (int) num(kw, "repetition_n_grams"), num(kw, "repetition_max_penalty"));
          case "soft_overlong_punishment" -> LengthPenalties.softOverlong(
              (int) num(kw, "max_completion_len"), (int) num(kw, "soft_punish_cache"));
          case "code", "binary_code" -> CodeRewards.code(new PythonSandbox(SandboxMode.parse(kw == null ? null : kw.get("code_sandbox"))),
              Duration.ofMillis((long) (num(kw, "code_timeout_s") * 1000)),
              (long) num(kw, "code_memory_mb") << 20, n.equals("binary_code"));
          case "code_format" -> CodeRewards.codeFormat(text(kw, "code_language"));
          case "language_consistency" -> LanguageConsistency.create(text(kw, "language"));
          default -> throw new InputException(null, 0, "reward_funcs", problem(n));
        });
      } catch (IllegalArgumentException e) {
        throw new InputException(null, 0, "reward_funcs", n + ": " + e.getMessage());
      }
    }
    return out;
  }

  /** A reward keyword's default: the recipe key's ({@link RecipeKeys#defaultFor}). */
  private static Object recipeDefault(String key) {
    return RecipeKeys.defaultFor(key, StageType.GRPO);
  }

  /** A reward keyword from {@code kw} as text, else the recipe key's default. */
  private static String text(Map<String, Object> kw, String key) {
    return String.valueOf(kw == null ? recipeDefault(key) : kw.getOrDefault(key, recipeDefault(key)));
  }

  /** A numeric reward keyword from {@code kw}, else the recipe key's default. */
  private static double num(Map<String, Object> kw, String key) {
    return num(kw, key, ((Number) recipeDefault(key)).doubleValue());
  }

  private static double num(Map<String, Object> kw, String key, double dflt) {
    Object v = kw == null ? null : kw.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Number x) {
      return x.doubleValue();
    }
    try {
      return Double.parseDouble(v.toString());
    } catch (NumberFormatException e) {
      throw new InputException(null, 0, key, "expected a number, got '" + v + "'");
    }
  }
}
