package io.r1cluster.core.reward;

import io.r1cluster.core.InputException;
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
              num(kw, "cosine_min_value_wrong", -1.0), num(kw, "cosine_max_value_wrong", -0.5),
              num(kw, "cosine_min_value_correct", 0.5), num(kw, "cosine_max_value_correct", 1.0),
              (int) num(kw, "cosine_max_len", 1000)));
          case "repetition_penalty" -> LengthPenalties.repetition(
              (int) num(kw, "repetition_n_grams", 3), num(kw, "repetition_max_penalty", -1.0));
          case "soft_overlong_punishment" -> LengthPenalties.softOverlong(
              (int) num(kw, "max_completion_len", 16384), (int) num(kw, "soft_punish_cache", 4096));
          case "code", "binary_code" -> CodeRewards.code(new PythonSandbox(SandboxMode.parse(kw == null ? null : kw.get("code_sandbox"))),
              Duration.ofMillis((long) (num(kw, "code_timeout_s", 10.0) * 1000)),
              (long) num(kw, "code_memory_mb", 1024) << 20, n.equals("binary_code"));
          case "code_format" -> CodeRewards.codeFormat(String.valueOf(kw == null ? "python" : kw.getOrDefault("code_language", "python")));
          case "language_consistency" -> LanguageConsistency.create(
              String.valueOf(kw == null ? "en" : kw.getOrDefault("language", "en")));
          default -> throw new InputException(null, 0, "reward_funcs", problem(n));
        });
      } catch (IllegalArgumentException e) {
        throw new InputException(null, 0, "reward_funcs", n + ": " + e.getMessage());
      }
    }
    return out;
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
