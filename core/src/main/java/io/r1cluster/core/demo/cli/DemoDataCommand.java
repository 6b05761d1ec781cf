package io.r1cluster.core.demo.cli;

import io.r1cluster.core.InputException;
import io.r1cluster.core.demo.DemoDataset;
import io.r1cluster.core.demo.DemoTask;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code r1 data demo}: writes the demo task's train/test splits with the teacher's traces. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Write the demo dataset (HF layout: train.jsonl, test.jsonl, dataset_info.json).",
        "Problems: column addition/subtraction, multiplication by one digit, linear equations;",
        "train rows carry R1-style traces from a programmatic teacher that slips on hard steps (--error-rate)."})
public final class DemoDataCommand implements Callable<Integer> {
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "output folder") Path out;
  @Option(names = "--train", defaultValue = "2000", description = "train rows (default ${DEFAULT-VALUE})") int train;
  @Option(names = "--test", defaultValue = "200", description = "test rows (default ${DEFAULT-VALUE})") int test;
  @Option(names = "--seed", defaultValue = "42", description = "seed (default ${DEFAULT-VALUE})") long seed;
  @Option(names = "--error-rate", defaultValue = "0.3",
      description = "the teacher's chance of a slip at each hard step: a carry, a borrow, a term moved across = (default ${DEFAULT-VALUE})") double errorRate;
  @Option(names = "--digits", defaultValue = "2", description = "largest operand size in digits, 1-6 (default ${DEFAULT-VALUE})")
  int digits;
  @Option(names = "--tasks", defaultValue = "add,sub,mul,linear", split = ",",
      description = "problem kinds (default ${DEFAULT-VALUE})") List<String> tasks;

  @Override
  public Integer call() {
    if (train < 0 || test < 0) {
      throw new InputException(null, 0, "--train/--test", "row counts must not be negative");
    }
    if (!(errorRate >= 0 && errorRate <= 1)) {
      throw new InputException(null, 0, "--error-rate", "must be in [0, 1], got " + errorRate);
    }
    if (digits < 1 || digits > 6) {
      throw new InputException(null, 0, "--digits", "must be in 1..6, got " + digits);
    }
    List<DemoTask> kinds = tasks.stream().map(DemoTask::parse).toList();
    DemoDataset.Summary s;
    try {
      s = DemoDataset.write(out, new DemoDataset.Options(train, test, seed, errorRate, digits, kinds));
    } catch (IllegalArgumentException e) {
      throw new InputException(null, 0, "--train/--test", e.getMessage());
    }
    System.out.printf("wrote %s (%d rows) and %s (%d rows); teacher accuracy on train %.3f, longest thinking %d chars%n",
        s.train(), train, s.test(), test, s.teacherAccuracy(), s.maxThinkingChars());
    return 0;
  }
}
