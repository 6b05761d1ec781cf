package io.r1cluster.core.optim;

import io.r1cluster.core.InputException;
import java.util.Map;

/**
 * Learning-rate schedules with transformers' semantics ({@code get_scheduler}): the factor at step
 * s (0-based, the step about to be taken) with W warmup and N total steps is
 * <ul>
 *   <li>warmup (s &lt; W): s / W (all schedules but {@code constant});
 *   <li>{@code constant}: 1; {@code constant_with_warmup}: 1 after warmup;
 *   <li>{@code linear}: max(0, (N − s) / (N − W));
 *   <li>{@code cosine}: 0.5·(1 + cos(π·p)), p = (s − W)/(N − W);
 *   <li>{@code cosine_with_min_lr}: min_lr_rate + (1 − min_lr_rate)·0.5·(1 + cos(π·p)).
 * </ul>
 */
public record LrSchedule(String type, double baseLr, int totalSteps, int warmupSteps, double minLrRate) {

  public static LrSchedule of(String type, double baseLr, int totalSteps, int warmupSteps, Map<String, Object> kwargs) {
    double minRate = 0;
    if (kwargs != null && kwargs.get("min_lr_rate") != null) {
      minRate = ((Number) kwargs.get("min_lr_rate")).doubleValue();
    } else if (kwargs != null && kwargs.get("min_lr") != null) {
      minRate = ((Number) kwargs.get("min_lr")).doubleValue() / baseLr;
    }
    switch (type) {
      case "constant", "constant_with_warmup", "linear", "cosine", "cosine_with_min_lr" -> {}
      default -> throw new InputException(null, 0, "lr_scheduler_type",
          "unsupported '" + type + "' (constant, constant_with_warmup, linear, cosine, cosine_with_min_lr)");
    }
    return new LrSchedule(type, baseLr, totalSteps, warmupSteps, minRate);
  }

  /** Warmup steps from {@code warmup_ratio} as transformers computes them: ceil(ratio · N). */
  public static int warmupSteps(double warmupRatio, int totalSteps) {
    return (int) Math.ceil(warmupRatio * totalSteps);
  }

  public double lr(int step) {
    return baseLr * factor(step);
  }

  double factor(int s) {
    if (type.equals("constant")) {
      return 1;
    }
    if (s < warmupSteps) {
      return s / (double) Math.max(1, warmupSteps);
    }
    double span = Math.max(1, totalSteps - warmupSteps);
    double p = (s - warmupSteps) / span;
    return switch (type) {
      case "constant_with_warmup" -> 1;
      case "linear" -> Math.max(0, (totalSteps - s) / span);
      case "cosine" -> Math.max(0, 0.5 * (1 + Math.cos(Math.PI * p)));
      case "cosine_with_min_lr" -> minLrRate + (1 - minLrRate) * Math.max(0, 0.5 * (1 + Math.cos(Math.PI * p)));
      default -> throw new IllegalStateException(type);
    };
  }
}
