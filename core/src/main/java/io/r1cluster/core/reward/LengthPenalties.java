package io.r1cluster.core.reward;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** {@code repetition_penalty} and {@code soft_overlong_punishment}. */
public final class LengthPenalties {
  private LengthPenalties() {}

  /**
   * (1 − unique n-grams / total n-grams) × max_penalty over lower-cased whitespace-separated words;
   * empty or shorter than n words → 0.
   */
  public static RewardFunction repetition(int n, double maxPenalty) {
    if (maxPenalty > 0) {
      throw new IllegalArgumentException("repetition_max_penalty " + maxPenalty + " must not be positive");
    }
    if (n < 1) {
      throw new IllegalArgumentException("repetition_n_grams must be >= 1, got " + n);
    }
    return new AccuracyRewards.Named("repetition_penalty", in -> {
      float[] out = new float[in.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = (float) repetition(in.completions().get(i), n, maxPenalty);
      }
      return out;
    });
  }

  static double repetition(String text, int n, double maxPenalty) {
    if (text.isEmpty()) {
      return 0;
    }
    List<String> words = List.of(text.toLowerCase(Locale.ROOT).trim().split("\\s+"));
    if (text.isBlank() || words.size() < n) {
      return 0;
    }
    Set<List<String>> unique = new HashSet<>();
    int total = 0;
    for (int i = 0; i + n <= words.size(); i++) {
      unique.add(words.subList(i, i + n));
      total++;
    }
    if (unique.size() == total) {
      return 0; // no repetition (avoids a -0.0)
    }
    return (1.0 - unique.size() / (double) total) * maxPenalty;
  }

  /**
   * DAPO eq. 13 on completion token counts L with L_max = max_completion_len and cache L_c:
   * 0 if L ≤ L_max − L_c; (L_max − L_c − L)/L_c if L_max − L_c < L ≤ L_max; −1 beyond.
   * Needs completion ids; rows without them get no score.
   */
  public static RewardFunction softOverlong(int maxCompletionLen, int softPunishCache) {
    if (softPunishCache <= 0 || softPunishCache > maxCompletionLen) {
      throw new IllegalArgumentException("soft_punish_cache must be in (0, max_completion_len]");
    }
    return new AccuracyRewards.Named("soft_overlong_punishment", in -> {
      float[] out = new float[in.size()];
      for (int i = 0; i < out.length; i++) {
        if (in.completionIds() == null || in.completionIds().get(i) == null) {
          out[i] = Float.NaN;
          continue;
        }
        int len = in.completionIds().get(i).length;
        if (len <= maxCompletionLen - softPunishCache) {
          out[i] = 0f;
        } else if (len <= maxCompletionLen) {
          out[i] = (float) ((maxCompletionLen - softPunishCache - len) / (double) softPunishCache);
        } else {
          out[i] = -1f;
        }
      }
      return out;
    });
  }
}
