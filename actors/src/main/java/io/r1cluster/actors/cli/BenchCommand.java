package io.r1cluster.actors.cli;

import io.r1cluster.core.InputException;
import io.r1cluster.core.bench.BenchContext;
import io.r1cluster.core.bench.BenchReport;
import io.r1cluster.core.bench.Benchmark;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code r1 bench NAME [--json FILE] [--quick] [--param k=v]…}: runs a benchmark, prints its table. */
@Command(name = "bench", mixinStandardHelpOptions = true, description = "Run a benchmark and print its table.")
public final class BenchCommand implements Callable<Integer> {

  @Parameters(index = "0", arity = "0..1", paramLabel = "NAME", description = "benchmark to run (omit to list)")
  String name;

  @Option(names = "--json", paramLabel = "FILE", description = "also write the figures as JSON")
  Path json;

  @Option(names = "--quick", description = "a shorter run for smoke checks")
  boolean quick;

  @Option(names = "--param", paramLabel = "KEY=VALUE", description = "benchmark-specific parameter")
  Map<String, String> params = new LinkedHashMap<>();

  @Option(names = "--model", paramLabel = "DIR", description = "a checkpoint folder to measure (same as --param model=DIR)")
  Path model;

  static Map<String, Benchmark> all() {
    Map<String, Benchmark> m = new TreeMap<>();
    for (Benchmark b : ServiceLoader.load(Benchmark.class)) {
      m.put(b.name(), b);
    }
    return m;
  }

  @Override
  public Integer call() throws Exception {
    Map<String, Benchmark> all = all();
    if (name == null) {
      System.out.println("benchmarks:");
      all.forEach((k, b) -> System.out.printf("  %-12s %s%n", k, b.description()));
      return 0;
    }
    Benchmark b = all.get(name);
    if (b == null) {
      throw new InputException(null, 0, "bench", "unknown benchmark '" + name + "'; known: " + all.keySet());
    }
    if (model != null) {
      params.put("model", model.toString());
    }
    BenchReport r = b.run(new BenchContext(quick, params, System.out));
    System.out.println();
    System.out.println("## bench " + r.name());
    System.out.println(r.table());
    if (json != null) {
      r.writeJson(json);
      System.out.println("figures written to " + json);
    }
    return 0;
  }
}
