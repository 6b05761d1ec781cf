package io.r1cluster.core.serve;

/**
 * The log-probs the OpenAI API reports: log-softmax of one position's raw logits [V] (the model's
 * distribution, before temperature or truncation, as vLLM reports by default) and the ids of the k
 * most likely tokens.
 */
public final class TopLogprobs {
  private TopLogprobs() {}

  /** log softmax(x), computed in double. */
  public static float[] logSoftmax(float[] x) {
    double max = Double.NEGATIVE_INFINITY;
    for (float v : x) {
      max = Math.max(max, v);
    }
    double z = 0;
    for (float v : x) {
      z += Math.exp(v - max);
    }
    double lz = max + Math.log(z);
    float[] out = new float[x.length];
    for (int i = 0; i < x.length; i++) {
      out[i] = (float) (x[i] - lz);
    }
    return out;
  }

  /** Indices of the k largest values, largest first (ties: lower index first); O(V·k). */
  public static int[] topK(float[] x, int k) {
    k = Math.min(k, x.length);
    int[] best = new int[Math.max(0, k)];
    int n = 0;
    for (int i = 0; i < x.length && k > 0; i++) {
      if (n < k) {
        n++;
      } else if (x[i] <= x[best[k - 1]]) {
        continue;
      }
      int j = n - 1;
      while (j > 0 && x[best[j - 1]] < x[i]) {
        best[j] = best[j - 1];
        j--;
      }
      best[j] = i;
    }
    return best;
  }
}
