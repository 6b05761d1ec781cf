package io.r1cluster.core.bench;

import java.io.PrintStream;
import java.util.Map;

/**
 * Options for one benchmark run.
 *
 * @param quick a shorter run (fewer repetitions / smaller sizes) for smoke checks
 * @param params free-form {@code --param key=value} pairs a benchmark may read
 * @param out where progress lines go
 */
public record BenchContext(boolean quick, Map<String, String> params, PrintStream out) {
  public BenchContext {
    params = Map.copyOf(params);
  }

  public String param(String key, String dflt) {
    return params.getOrDefault(key, dflt);
  }

  public int intParam(String key, int dflt) {
    String v = params.get(key);
    return v == null ? dflt : Integer.parseInt(v);
  }
}
