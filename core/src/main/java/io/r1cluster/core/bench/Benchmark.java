package io.r1cluster.core.bench;

/**
 * A benchmark run by {@code ./r1 bench NAME}. Implementations have a public no-arg constructor and
 * are listed in {@code META-INF/services/io.r1cluster.core.bench.Benchmark}.
 *
 * <p>Speed claims are ratios against a baseline measured in the same run; a benchmark reports its
 * baseline beside its figures.
 */
public interface Benchmark {
  /** The name used on the command line, e.g. {@code generate}. */
  String name();

  /** One line for {@code ./r1 bench --help}. */
  String description();

  /** Runs the benchmark; progress goes to {@code ctx.out()}. */
  BenchReport run(BenchContext ctx) throws Exception;
}
