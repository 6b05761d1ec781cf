package io.r1cluster.core.reward;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** open-r1's structural rewards: {@code format}, {@code tag_count}, {@code reasoning_steps}. */
public final class FormatRewards {
  private FormatRewards() {}

  /** {@code ^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$} with DOTALL and MULTILINE. */
  static final Pattern FORMAT =
      Pattern.compile("^<think>\\n.*?\\n</think>\\n<answer>\\n.*?\\n</answer>$", Pattern.DOTALL | Pattern.MULTILINE);

  static final Pattern STEPS = Pattern.compile("(Step \\d+:|^\\d+\\.|\\n-|\\n\\*|First,|Second,|Next,|Finally,)", Pattern.MULTILINE);

  /** 1.0 iff the whole completion has the think/answer layout (Python {@code re.match} anchoring). */
  public static RewardFunction format() {
    return simple("format", c -> {
      Matcher m = FORMAT.matcher(c);
      // re.match anchors at the start; '$' with MULTILINE may match before a newline
      return m.lookingAt() ? 1f : 0f;
    });
  }

  /** +0.25 for each of {@code <think>\n}, {@code \n</think>\n}, {@code \n<answer>\n}, {@code \n</answer>} present exactly once. */
  public static RewardFunction tagCount() {
    return simple("tag_count", c -> {
      float s = 0;
      for (String tag : new String[] {"<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>"}) {
        if (count(c, tag) == 1) {
          s += 0.25f;
        }
      }
      return s;
    });
  }

  /** min(1, matches / 3) of step markers. */
  public static RewardFunction reasoningSteps() {
    return simple("reasoning_steps", c -> {
      Matcher m = STEPS.matcher(c);
      int n = 0;
      while (m.find()) {
        n++;
      }
      return Math.min(1f, n / 3f);
    });
  }

  static int count(String s, String sub) {
    int n = 0;
    for (int i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + sub.length())) {
      n++;
    }
    return n;
  }

  static RewardFunction simple(String name, java.util.function.ToDoubleFunction<String> f) {
    return new RewardFunction() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public float[] score(RewardInput in) {
        float[] out = new float[in.size()];
        for (int i = 0; i < out.length; i++) {
          out[i] = (float) f.applyAsDouble(in.completions().get(i));
        }
        return out;
      }
    };
  }
}
