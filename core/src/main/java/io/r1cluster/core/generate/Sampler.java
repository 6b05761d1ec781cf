package io.r1cluster.core.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.model.Qwen2Model;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Batched sampling from a {@link Qwen2Model} with a KV cache (or, for the benchmark baseline, by
 * recomputing the whole prefix every step).
 *
 * <p>Prompts are left-padded to a common length. Each step turns the last logits of every row into
 * a distribution: divide by temperature, keep the top-k, keep the smallest top-p nucleus, drop
 * tokens below min-p × the top probability, renormalise and draw with a per-call seeded RNG
 * (greedy argmax at temperature 0). The recorded log-prob of a sampled token is
 * log softmax(logits / temperature) — the temperature-scaled model distribution before the
 * truncation filters, which is what TRL's learner recomputes (it divides logits by the same
 * temperature). A row stops at an EOS id (included in the token ids) or when its decoded text ends
 * with a stop string (the stop string stays in the text); otherwise at {@code maxNewTokens}
 * (finish reason LENGTH).
 */
public final class Sampler {
  private final Qwen2Model model;
  private final Function<int[], String> decoder;

  public Sampler(Qwen2Model model, Function<int[], String> decoder) {
    this.model = model;
    this.decoder = decoder;
  }

  public List<Completion> generate(List<int[]> prompts, SamplingParams sp, long seed, long policyVersion) {
    return generate(prompts, sp, seed, policyVersion, true);
  }

  /** {@code useCache = false} recomputes the full prefix each step (benchmark baseline). */
  public List<Completion> generate(List<int[]> prompts, SamplingParams sp, long seed, long policyVersion, boolean useCache) {
    int b = prompts.size();
    int maxLen = prompts.stream().mapToInt(p -> p.length).max().orElse(0);
    long[][] ids = new long[b][maxLen];
    long[][] valid = new long[b][maxLen];
    long[][] pos = new long[b][maxLen];
    long[] nextPos = new long[b];
    for (int r = 0; r < b; r++) {
      int pad = maxLen - prompts.get(r).length;
      for (int j = 0; j < prompts.get(r).length; j++) {
        ids[r][pad + j] = prompts.get(r)[j];
        valid[r][pad + j] = 1;
        pos[r][pad + j] = j;
      }
      nextPos[r] = prompts.get(r).length;
    }
    // one stream per row, so a row's draws do not depend on the other rows of the batch
    SplittableRandom[] rngs = new SplittableRandom[b];
    for (int r = 0; r < b; r++) {
      rngs[r] = new SplittableRandom(rowSeed(seed, r));
    }
    List<List<Integer>> out = new ArrayList<>();
    List<List<Float>> lps = new ArrayList<>();
    FinishReason[] reason = new FinishReason[b];
    for (int r = 0; r < b; r++) {
      out.add(new ArrayList<>());
      lps.add(new ArrayList<>());
    }
    int vocab = model.config().vocabSize();
    try (NDManager base = Devices.manager(model.device()); Qwen2Model.KvCache cache = model.newCache()) {
      float[] last;
      try (NDManager s = base.newSubManager()) {
        last = lastLogits(useCache
            ? model.forwardCached(s, s.create(ids), s.create(valid), s.create(pos), cache, true) // head on the last position only
            : model.logits(s, s.create(ids), s.create(valid), s.create(pos)), b, vocab);
      }
      List<long[]> hist = new ArrayList<>(); // for the no-cache path: all tokens so far per step
      for (int step = 0; step < sp.maxNewTokens(); step++) {
        long[] next = new long[b];
        boolean allDone = true;
        for (int r = 0; r < b; r++) {
          if (reason[r] != null) {
            next[r] = out.get(r).isEmpty() ? 0 : out.get(r).get(out.get(r).size() - 1);
            continue;
          }
          float[] row = Arrays.copyOfRange(last, r * vocab, (r + 1) * vocab);
          int tok = pick(row, sp, rngs[r]);
          out.get(r).add(tok);
          lps.get(r).add((float) logProb(row, tok, sp.temperature()));
          next[r] = tok;
          if (sp.eosIds().contains(tok)) {
            reason[r] = FinishReason.STOP;
          } else if (!sp.stop().isEmpty()) {
            String text = decoder.apply(toInts(out.get(r)));
            for (String st : sp.stop()) {
              if (text.endsWith(st)) {
                reason[r] = FinishReason.STOP;
                break;
              }
            }
          }
          if (reason[r] == null) {
            allDone = false;
          }
        }
        if (allDone || step == sp.maxNewTokens() - 1) {
          break;
        }
        hist.add(next);
        try (NDManager s = base.newSubManager()) {
          long[][] one = new long[b][1];
          long[][] v1 = new long[b][1];
          long[][] p1 = new long[b][1];
          for (int r = 0; r < b; r++) {
            one[r][0] = next[r];
            v1[r][0] = 1;
            p1[r][0] = nextPos[r]++;
          }
          if (useCache) {
            last = lastLogits(model.forwardCached(s, s.create(one), s.create(v1), s.create(p1), cache), b, vocab);
          } else {
            int len = maxLen + hist.size();
            long[][] all = new long[b][len];
            long[][] va = new long[b][len];
            long[][] pa = new long[b][len];
            for (int r = 0; r < b; r++) {
              System.arraycopy(ids[r], 0, all[r], 0, maxLen);
              System.arraycopy(valid[r], 0, va[r], 0, maxLen);
              System.arraycopy(pos[r], 0, pa[r], 0, maxLen);
              for (int j = 0; j < hist.size(); j++) {
                all[r][maxLen + j] = hist.get(j)[r];
                va[r][maxLen + j] = 1;
                pa[r][maxLen + j] = prompts.get(r).length + j;
              }
            }
            last = lastLogits(model.logits(s, s.create(all), s.create(va), s.create(pa)), b, vocab);
          }
        }
      }
    }
    List<Completion> res = new ArrayList<>();
    for (int r = 0; r < b; r++) {
      int[] t = toInts(out.get(r));
      float[] lp = new float[t.length];
      for (int i = 0; i < lp.length; i++) {
        lp[i] = lps.get(r).get(i);
      }
      int textLen = reason[r] == FinishReason.STOP && t.length > 0 && sp.eosIds().contains(t[t.length - 1]) ? t.length - 1 : t.length;
      res.add(new Completion(t, lp, decoder.apply(Arrays.copyOf(t, textLen)),
          reason[r] == null ? FinishReason.LENGTH : reason[r], policyVersion));
    }
    return res;
  }

  /**
   * The seed of row {@code row}'s random stream in a generation seeded with {@code seed}: a
   * {@link BatchEngine} request seeded with it draws exactly what that row draws here.
   */
  public static long rowSeed(long seed, int row) {
    return new SplittableRandom(seed + 0x9E3779B97F4A7C15L * (row + 1L)).nextLong();
  }

  private static float[] lastLogits(NDArray logits, int b, int vocab) {
    long t = logits.getShape().get(1);
    return logits.get(":, " + (t - 1) + ", :").toFloatArray(); // [B,V]
  }

  static int[] toInts(List<Integer> l) {
    return l.stream().mapToInt(Integer::intValue).toArray();
  }

  static double logProb(float[] logits, int tok, double temperature) {
    double t = temperature <= 0 ? 1.0 : temperature;
    double max = Double.NEGATIVE_INFINITY;
    for (float x : logits) {
      max = Math.max(max, x / t);
    }
    double z = 0;
    for (float x : logits) {
      z += Math.exp(x / t - max);
    }
    return logits[tok] / t - max - Math.log(z);
  }

  /** Draws one token id from a row of logits. */
  static int pick(float[] logits, SamplingParams sp, SplittableRandom rng) {
    int v = logits.length;
    if (sp.temperature() == 0) {
      int best = 0;
      for (int i = 1; i < v; i++) {
        if (logits[i] > logits[best]) {
          best = i;
        }
      }
      return best;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (float x : logits) {
      max = Math.max(max, x / sp.temperature());
    }
    double[] p = new double[v];
    double z = 0;
    for (int i = 0; i < v; i++) {
      p[i] = Math.exp(logits[i] / sp.temperature() - max);
      z += p[i];
    }
    Integer[] order = new Integer[v];
    for (int i = 0; i < v; i++) {
      order[i] = i;
      p[i] /= z;
    }
    Arrays.sort(order, (a, c) -> Double.compare(p[c], p[a]));
    int keep = v;
    if (sp.topK() > 0) {
      keep = Math.min(keep, sp.topK());
    }
    if (sp.topP() < 1) {
      double cum = 0;
      for (int i = 0; i < keep; i++) {
        cum += p[order[i]];
        if (cum >= sp.topP()) {
          keep = i + 1;
          break;
        }
      }
    }
    if (sp.minP() > 0) {
      double floor = sp.minP() * p[order[0]];
      int k = 1;
      while (k < keep && p[order[k]] >= floor) {
        k++;
      }
      keep = k;
    }
    double mass = 0;
    for (int i = 0; i < keep; i++) {
      mass += p[order[i]];
    }
    double u = rng.nextDouble() * mass;
    for (int i = 0; i < keep; i++) {
      u -= p[order[i]];
      if (u <= 0) {
        return order[i];
      }
    }
    return order[keep - 1];
  }
}
