package io.r1cluster.core.reward;

import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.ScoredGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs several reward functions with {@code reward_weights}. Never throws: a function that throws
 * (or returns the wrong number of scores) gives no score (NaN) for that batch, the error is counted
 * and logged once per function and exception type. Total = Σ w_f·r_f over the functions that
 * scored (NaN treated as 0, as TRL's nansum does); NaN when every function gave no score, so the
 * learner can exclude the completion from group statistics.
 */
public final class RewardScorer {
  private static final Logger LOG = LoggerFactory.getLogger(RewardScorer.class);

  private final List<RewardFunction> functions;
  private final float[] weights;
  private final AtomicLong errors = new AtomicLong();
  private final Set<String> logged = ConcurrentHashMap.newKeySet();

  public RewardScorer(List<RewardFunction> functions, List<Double> weights) {
    this.functions = List.copyOf(functions);
    this.weights = new float[functions.size()];
    if (weights != null && !weights.isEmpty() && weights.size() != functions.size()) {
      throw new IllegalArgumentException("reward_weights has " + weights.size() + " entries for "
          + functions.size() + " reward functions");
    }
    for (int i = 0; i < this.weights.length; i++) {
      this.weights[i] = weights == null || weights.isEmpty() ? 1f : weights.get(i).floatValue();
    }
  }

  public List<String> names() {
    return functions.stream().map(RewardFunction::name).toList();
  }

  /** Errors swallowed so far. */
  public long errors() {
    return errors.get();
  }

  /** Scores {@code [rows][functions]}. */
  public float[][] scoreMatrix(RewardInput in) {
    float[][] m = new float[in.size()][functions.size()];
    for (int f = 0; f < functions.size(); f++) {
      RewardFunction fn = functions.get(f);
      float[] col;
      try {
        col = fn.score(in);
        if (col == null || col.length != in.size()) {
          throw new IllegalStateException("returned " + (col == null ? "null" : col.length + " scores") + " for " + in.size() + " rows");
        }
      } catch (RuntimeException | StackOverflowError e) {
        errors.incrementAndGet();
        if (logged.add(fn.name() + ":" + e.getClass().getName())) {
          LOG.warn("reward function '{}' failed ({}); its cells get no score. Further errors of this kind are counted, not logged.",
              fn.name(), e.toString());
        }
        col = new float[in.size()];
        java.util.Arrays.fill(col, Float.NaN);
      }
      for (int r = 0; r < in.size(); r++) {
        m[r][f] = col[r];
      }
    }
    return m;
  }

  /** Weighted totals of a score matrix. */
  public float[] totals(float[][] m) {
    float[] t = new float[m.length];
    for (int r = 0; r < m.length; r++) {
      float s = 0;
      boolean any = false;
      for (int f = 0; f < weights.length; f++) {
        if (!Float.isNaN(m[r][f])) {
          s += weights[f] * m[r][f];
          any = true;
        }
      }
      t[r] = any ? s : Float.NaN;
    }
    return t;
  }

  /** Scores a sampled group (the prompt's solution and metadata are the row columns). */
  /**
   * The group with no score at all (every cell and total NaN): what a scoring that did not finish in
   * time gives, so the learner leaves the group out of its statistics and the stream goes on.
   */
  public ScoredGroup noScore(Group g) {
    float[][] m = new float[g.size()][names().size()];
    float[] t = new float[g.size()];
    for (float[] row : m) {
      java.util.Arrays.fill(row, Float.NaN);
    }
    java.util.Arrays.fill(t, Float.NaN);
    return new ScoredGroup(g, names(), m, t);
  }

  public ScoredGroup score(Group g) {
    List<String> texts = new ArrayList<>();
    List<int[]> ids = new ArrayList<>();
    for (Completion c : g.completions()) {
      texts.add(c.text());
      ids.add(c.tokenIds());
    }
    Map<String, List<Object>> cols = new java.util.HashMap<>();
    List<Object> sol = new ArrayList<>();
    for (int i = 0; i < g.size(); i++) {
      sol.add(g.prompt().solution());
    }
    cols.put("solution", sol);
    g.prompt().metadata().forEach((k, v) -> {
      List<Object> col = new ArrayList<>();
      for (int i = 0; i < g.size(); i++) {
        col.add(v);
      }
      cols.put(k, col);
    });
    float[][] m = scoreMatrix(new RewardInput(texts, ids, cols));
    return new ScoredGroup(g, names(), m, totals(m));
  }
}
