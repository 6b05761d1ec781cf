package io.r1cluster.core.demo;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Seeded generator of short verifiable problems with integer answers. {@code digits} sets the
 * difficulty: operands have at most that many digits (the multiplier of MUL and the coefficient of
 * LINEAR are always one digit). Problems are unique within one {@link #generate} call, so splits
 * drawn from one call are disjoint.
 */
public final class DemoGenerator {
  private final List<DemoTask> tasks;
  private final int digits;

  /**
   * @param tasks kinds to draw from (uniformly)
   * @param digits largest operand size in digits, 1–6
   */
  public DemoGenerator(List<DemoTask> tasks, int digits) {
    if (tasks.isEmpty()) {
      throw new IllegalArgumentException("no demo tasks");
    }
    if (digits < 1 || digits > 6) {
      throw new IllegalArgumentException("digits must be in 1..6, got " + digits);
    }
    this.tasks = List.copyOf(tasks);
    this.digits = digits;
  }

  /** All four tasks with operands of up to two digits (the first level). */
  public static DemoGenerator defaults() {
    return new DemoGenerator(List.of(DemoTask.values()), 2);
  }

  /**
   * {@code counts[i]} distinct problems for each split name {@code splits[i]}, all distinct across splits.
   *
   * @throws IllegalArgumentException when the problem space is too small for the counts asked
   */
  public List<List<DemoProblem>> generate(long seed, List<String> splits, int... counts) {
    Random rnd = new Random(seed);
    Set<String> seen = new HashSet<>();
    List<List<DemoProblem>> out = new ArrayList<>();
    for (int s = 0; s < splits.size(); s++) {
      List<DemoProblem> split = new ArrayList<>();
      int attempts = 0;
      while (split.size() < counts[s]) {
        if (++attempts > 50 * (counts[s] + 100)) {
          throw new IllegalArgumentException("too few distinct problems for " + counts[s] + " rows at digits=" + digits);
        }
        DemoProblem p = draw(rnd, splits.get(s) + "-" + split.size());
        if (seen.add(p.problem())) {
          split.add(p);
        }
      }
      out.add(List.copyOf(split));
    }
    return out;
  }

  /**
   * {@code count} problems drawn with repetition, as a teacher asked again about the same problem
   * would be, none of them in {@code exclude} (problem texts, e.g. a held-out split). Every task
   * keeps its share of the rows however few distinct problems it has.
   *
   * @throws IllegalArgumentException when {@code exclude} leaves nothing to draw
   */
  public List<DemoProblem> sample(long seed, String split, int count, Set<String> exclude) {
    Random rnd = new Random(seed);
    List<DemoProblem> out = new ArrayList<>(count);
    int attempts = 0;
    while (out.size() < count) {
      // the task first, then a problem of it that is not excluded: every task keeps its share
      DemoTask t = tasks.get(rnd.nextInt(tasks.size()));
      DemoProblem p;
      do {
        if (++attempts > 50 * (count + 100)) {
          throw new IllegalArgumentException("too few " + t + " problems outside the excluded ones at digits=" + digits);
        }
        p = draw(rnd, t, split + "-" + out.size());
      } while (exclude.contains(p.problem()));
      out.add(p);
    }
    return out;
  }

  private int number(Random rnd) {
    int max = (int) Math.pow(10, digits);
    return rnd.nextInt(max);
  }

  private DemoProblem draw(Random rnd, String id) {
    return draw(rnd, tasks.get(rnd.nextInt(tasks.size())), id);
  }

  private DemoProblem draw(Random rnd, DemoTask t, String id) {
    switch (t) {
      case ADD -> {
        int a = number(rnd);
        int b = number(rnd);
        return new DemoProblem(id, t, a, b, 0, "What is " + a + " + " + b + "?", Integer.toString(a + b));
      }
      case SUB -> {
        int a = number(rnd);
        int b = number(rnd);
        int hi = Math.max(a, b);
        int lo = Math.min(a, b);
        return new DemoProblem(id, t, hi, lo, 0, "What is " + hi + " - " + lo + "?", Integer.toString(hi - lo));
      }
      case MUL -> {
        int a = number(rnd);
        int b = 2 + rnd.nextInt(8);
        return new DemoProblem(id, t, a, b, 0, "What is " + a + " * " + b + "?", Integer.toString(a * b));
      }
      case LINEAR -> {
        int a = 2 + rnd.nextInt(8);
        int x = rnd.nextInt(Math.min(20, (int) Math.pow(10, digits)));
        int bound = Math.min(30, (int) Math.pow(10, digits));
        int b = rnd.nextInt(2 * bound + 1) - bound;
        if (b == 0) {
          b = 1;
        }
        int c = a * x + b;
        String lhs = a + "x " + (b < 0 ? "- " + (-b) : "+ " + b);
        return new DemoProblem(id, t, a, b, c, "Solve " + lhs + " = " + c, Integer.toString(x));
      }
      default -> throw new IllegalStateException(t.toString());
    }
  }
}
