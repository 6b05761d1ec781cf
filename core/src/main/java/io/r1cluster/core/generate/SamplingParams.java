package io.r1cluster.core.generate;

import java.util.List;

/**
 * Sampling settings (vLLM/TRL names). {@code temperature == 0} is greedy. {@code topK <= 0},
 * {@code topP >= 1} and {@code minP <= 0} disable those filters.
 */
public record SamplingParams(
    double temperature, double topP, int topK, double minP, int maxNewTokens, List<Integer> eosIds, List<String> stop) {
  public SamplingParams {
    eosIds = List.copyOf(eosIds);
    stop = List.copyOf(stop);
    if (temperature < 0 || topP <= 0 || topP > 1 || minP < 0 || minP >= 1 || maxNewTokens < 1) {
      throw new IllegalArgumentException("invalid sampling params: " + temperature + ", " + topP + ", " + minP + ", " + maxNewTokens);
    }
  }

  public static SamplingParams greedy(int maxNewTokens, List<Integer> eosIds) {
    return new SamplingParams(0, 1, 0, 0, maxNewTokens, eosIds, List.of());
  }
}
