package io.r1cluster.core.grpo;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.model.LogProbs;
import io.r1cluster.core.model.Nd;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.optim.AdamW;
import io.r1cluster.core.optim.LrSchedule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One GRPO optimizer step over a {@link TrainBatch}: μ = {@code num_iterations} passes, each split
 * into micro-batches of {@code microBatch} sequences whose gradients accumulate, then global-norm
 * clipping and one AdamW update. The policy's "old" log-probs are those of the weights at the start
 * of the step (detached); the behaviour log-probs recorded by the sampler give the truncated
 * importance weight min(exp(old − behaviour), {@code off_policy_is_cap}) that corrects stale
 * (async) groups, as TRL's vLLM importance-sampling correction does.
 *
 * <p>Normalisation over micro-batches: GRPO weighs each micro-batch's mean-of-sequence-means by its
 * share of sequences, BNPO averages the micro-batch token means, DR_GRPO and DAPO divide the summed
 * token loss by B·max_completion_length and by the step's completion-token count — so the step's
 * loss is the same whatever the micro-batch size (TRL's BNPO depends on it; we do not).
 *
 * <p>A non-finite loss or gradient skips the update: the weights stay as they were, the version
 * does not advance, and {@code skipped_nonfinite} is 1 in the metrics.
 */
public final class GrpoLearner implements AutoCloseable {
  private final Qwen2Model policy;
  private final Qwen2Model reference;
  private final GrpoConfig cfg;
  private final LrSchedule schedule;
  private final AdamW opt;
  private int steps;
  private long skipped;
  private boolean syncRef;
  private double mixupAlpha = 0.6;
  private int refSyncSteps = 512;

  public GrpoLearner(Qwen2Model policy, GrpoConfig cfg, LrSchedule schedule) {
    this.policy = policy;
    this.cfg = cfg;
    this.schedule = schedule;
    this.opt = new AdamW(policy.parameters(),
        new AdamW.Config(cfg.adamBeta1(), cfg.adamBeta2(), cfg.adamEpsilon(), cfg.weightDecay()));
    Map<String, TensorData> snap = new LinkedHashMap<>();
    if (cfg.beta() > 0) {
      for (TensorData t : policy.toTensors(DType.F32)) {
        snap.put(t.name(), t);
      }
      this.reference = Qwen2Model.fromTensors(policy.config(), snap, policy.device());
    } else {
      this.reference = null;
    }
  }

  /**
   * TRL's {@code sync_ref_model}: every {@code ref_model_sync_steps} optimizer steps the reference
   * becomes α·policy + (1 − α)·reference with α = {@code ref_model_mixup_alpha} (TRL defaults 0.6 and
   * 512). Needs beta &gt; 0 (otherwise there is no reference model).
   */
  public void syncReference(boolean enabled, double alpha, int everySteps) {
    if (enabled && reference == null) {
      throw new IllegalArgumentException("sync_ref_model needs beta > 0 (no reference model is kept when beta = 0)");
    }
    this.syncRef = enabled;
    this.mixupAlpha = alpha;
    this.refSyncSteps = Math.max(1, everySteps);
  }

  private void maybeSyncReference() {
    if (!syncRef || steps % refSyncSteps != 0) {
      return;
    }
    // in place, in native memory: r ← (1 − α)·r + α·p
    for (var e : policy.parameters().entrySet()) {
      NDArray r = reference.parameters().get(e.getKey());
      try (NDManager s = Devices.managerLike(r)) {
        NDArray p = e.getValue().stopGradient();
        p.attach(s);
        NDArray scaled = Nd.mul(p, mixupAlpha);
        scaled.attach(s);
        NDArray keep = Nd.scalar(r, 1 - mixupAlpha);
        keep.attach(s);
        r.muli(keep).addi(scaled);
      }
    }
  }

  /** The reference model's parameters (null when beta = 0); for tests and diagnostics. */
  Map<String, NDArray> referenceParameters() {
    return reference == null ? null : reference.parameters();
  }

  /** Result of a step. */
  public record StepResult(long version, boolean skipped, Map<String, Double> metrics) {}

  private record Seq(int[] tokens, int promptLen, float[] behaviour, float advantage, boolean counts, long version) {}

  /**
   * An extra loss added to the GRPO loss of the same optimizer step (the combined stage's SFT
   * term): it runs its own forward/backward on the policy, accumulating into the same gradients
   * before clipping, and returns its (already weighted) loss value; non-finite skips the step.
   */
  public interface AuxiliaryLoss {
    double accumulate(Qwen2Model policy);
  }

  public StepResult step(TrainBatch batch, long currentVersion) {
    return step(batch, currentVersion, null);
  }

  public StepResult step(TrainBatch batch, long currentVersion, AuxiliaryLoss aux) {
    List<Seq> seqs = new ArrayList<>();
    double tokensTotal = 0;
    int clippedCompletions = 0;
    double lengthSum = 0;
    long staleMax = 0;
    double staleSum = 0;
    for (int g = 0; g < batch.groups().size(); g++) {
      ScoredGroup sg = batch.groups().get(g);
      int[] prompt = sg.group().promptTokenIds();
      long stale = currentVersion - sg.group().policyVersion();
      staleMax = Math.max(staleMax, stale);
      staleSum += stale;
      for (int j = 0; j < sg.group().size(); j++) {
        Completion c = sg.group().completions().get(j);
        int[] toks = new int[prompt.length + c.tokenIds().length];
        System.arraycopy(prompt, 0, toks, 0, prompt.length);
        System.arraycopy(c.tokenIds(), 0, toks, prompt.length, c.tokenIds().length);
        boolean counts = !(cfg.maskTruncatedCompletions() && c.truncated()) && c.tokenIds().length > 0;
        seqs.add(new Seq(toks, prompt.length, c.logProbs(), batch.advantages().get(g)[j], counts, sg.group().policyVersion()));
        if (counts) {
          tokensTotal += c.tokenIds().length;
        }
        clippedCompletions += c.truncated() ? 1 : 0;
        lengthSum += c.tokenIds().length;
      }
    }
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.putAll(rewardMetrics(batch));
    metrics.put("completions/mean_length", seqs.isEmpty() ? 0 : lengthSum / seqs.size());
    metrics.put("completions/clipped_ratio", seqs.isEmpty() ? 0 : clippedCompletions / (double) seqs.size());
    metrics.put("staleness/mean", batch.groups().isEmpty() ? 0 : staleSum / batch.groups().size());
    metrics.put("staleness/max", (double) staleMax);
    double lr = schedule.lr(steps);
    metrics.put("learning_rate", lr);
    int micro = Math.max(1, cfg.microBatch());
    int nMicro = (seqs.size() + micro - 1) / micro;
    double lossSum = 0;
    double klSum = 0;
    double entSum = 0;
    double[] clip = new double[3];
    boolean finite = true;
    opt.zeroGrad();
    int iterations = Math.max(1, cfg.numIterations());
    // μ > 1: the "old" policy is the one at the step's start, frozen for every iteration (TRL's old_per_token_logps)
    float[][] frozenOld = iterations > 1 ? new float[nMicro][] : null;
    if (frozenOld != null) {
      for (int mb = 0; mb < nMicro; mb++) {
        frozenOld[mb] = oldLogProbs(seqs.subList(mb * micro, Math.min(seqs.size(), (mb + 1) * micro)));
      }
    }
    for (int it = 0; it < iterations && finite; it++) {
      double itLoss = 0;
      double[] itClip = new double[4];
      for (int mb = 0; mb < nMicro && finite; mb++) {
        List<Seq> part = seqs.subList(mb * micro, Math.min(seqs.size(), (mb + 1) * micro));
        try (NDManager s = Devices.manager(policy.device());
            GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          double[] out = microStep(s, part, gc, seqs.size(), nMicro, tokensTotal, frozenOld == null ? null : frozenOld[mb]);
          finite = Double.isFinite(out[0]);
          lossSum += out[0];
          klSum += out[1];
          entSum += out[2];
          clip[0] += out[3];
          clip[1] += out[4];
          clip[2] += out[5];
          itLoss += out[0];
          itClip[0] += out[3];
          itClip[1] += out[4];
          itClip[2] += out[5];
          itClip[3] += out[6];
        }
      }
      if (iterations > 1 && finite) {
        String p = "iterations/" + (it + 1) + "/";
        metrics.put(p + "loss", itLoss);
        metrics.put(p + "ratio_mean", itClip[3] / nMicro);
        metrics.put(p + "clip_ratio/low_mean", itClip[0] / nMicro);
        metrics.put(p + "clip_ratio/high_mean", itClip[1] / nMicro);
        metrics.put(p + "clip_ratio/region_mean", itClip[2] / nMicro);
      }
      if (finite && aux != null && it == 0) {
        double auxLoss = aux.accumulate(policy);
        metrics.put("aux_loss", auxLoss);
        finite = Double.isFinite(auxLoss);
      }
      if (!finite) {
        break;
      }
      // one optimizer update per iteration, as TRL does for μ > 1
      double norm = AdamW.clipGradNorm(policy.parameters().values(), cfg.maxGradNorm());
      metrics.put("grad_norm", norm);
      if (!Double.isFinite(norm)) {
        finite = false;
        break;
      }
      opt.step(lr);
      opt.zeroGrad();
    }
    int passes = Math.max(1, cfg.numIterations()) * Math.max(1, nMicro);
    metrics.put("loss", lossSum / Math.max(1, cfg.numIterations()));
    metrics.put("kl", klSum / passes);
    metrics.put("entropy", entSum / passes);
    metrics.put("clip_ratio/low_mean", clip[0] / passes);
    metrics.put("clip_ratio/high_mean", clip[1] / passes);
    metrics.put("clip_ratio/region_mean", clip[2] / passes);
    if (!finite) {
      opt.zeroGrad();
      skipped++;
      metrics.put("skipped_nonfinite", 1.0);
      metrics.put("skipped_nonfinite_total", (double) skipped);
      return new StepResult(currentVersion, true, metrics);
    }
    steps++;
    maybeSyncReference();
    metrics.put("skipped_nonfinite", 0.0);
    return new StepResult(currentVersion + 1, false, metrics);
  }

  /**
   * Log-probs of the current policy for a micro-batch, no gradient: [B·(T−1)] row-major, the layout of
   * {@link #microStep}'s targets; the "old" policy of every iteration of a μ &gt; 1 step.
   */
  private float[] oldLogProbs(List<Seq> part) {
    int b = part.size();
    int t = part.stream().mapToInt(q -> q.tokens().length).max().orElse(1);
    long[][] ids = new long[b][t];
    long[][] seg = new long[b][t];
    long[][] pos = new long[b][t];
    fill(part, ids, seg, pos);
    try (NDManager s = Devices.manager(policy.device())) {
      NDArray idArr = s.create(ids);
      NDArray logits = policy.logits(s, idArr, s.create(seg), s.create(pos)).get(":, :-1, :").stopGradient();
      return LogProbs.of(logits, idArr.get(":, 1:"), cfg.temperature()).toFloatArray();
    }
  }

  private static void fill(List<Seq> part, long[][] ids, long[][] seg, long[][] pos) {
    for (int i = 0; i < part.size(); i++) {
      Seq q = part.get(i);
      for (int j = 0; j < q.tokens().length; j++) {
        ids[i][j] = q.tokens()[j];
        seg[i][j] = 1;
        pos[i][j] = j;
      }
    }
  }

  /**
   * Forward + backward of one micro-batch; returns {loss, kl, entropy, clipLow, clipHigh, clipRegion, ratioMean}.
   *
   * @param frozenOld the old log-probs ({@link #oldLogProbs}) when μ &gt; 1; null: the current policy's, detached
   */
  private double[] microStep(NDManager s, List<Seq> part, GradientCollector gc, int nSeqTotal, int nMicro, double tokensTotal,
      float[] frozenOld) {
    int b = part.size();
    int t = part.stream().mapToInt(q -> q.tokens().length).max().orElse(1);
    long[][] ids = new long[b][t];
    long[][] seg = new long[b][t];
    long[][] pos = new long[b][t];
    float[][] mask = new float[b][t - 1];
    float[][] behaviour = new float[b][t - 1];
    float[] adv = new float[b];
    fill(part, ids, seg, pos);
    for (int i = 0; i < b; i++) {
      Seq q = part.get(i);
      // logits[:, j] predicts token j+1: completion token k sits at j+1 = promptLen + k
      for (int k = 0; k < q.behaviour().length; k++) {
        int j = q.promptLen() + k - 1;
        mask[i][j] = q.counts() ? 1f : 0f;
        behaviour[i][j] = q.behaviour()[k];
      }
      adv[i] = q.advantage();
    }
    NDArray idArr = s.create(ids);
    NDArray logits = policy.logits(s, idArr, s.create(seg), s.create(pos)).get(":, :-1, :");
    NDArray targets = idArr.get(":, 1:");
    NDArray logp = LogProbs.of(logits, targets, cfg.temperature());
    NDArray m = s.create(mask);
    NDArray old = frozenOld == null ? logp.stopGradient() : s.create(frozenOld, logp.getShape());
    NDArray ref = null;
    if (reference != null) {
      NDArray refLogits = reference.logits(s, idArr, s.create(seg), s.create(pos)).get(":, :-1, :");
      ref = LogProbs.of(refLogits, targets, cfg.temperature()).stopGradient();
    }
    NDArray isw = GrpoLoss.truncatedIs(old, s.create(behaviour), cfg.offPolicyIsCap()).mul(m).add(m.sub(1f).neg());
    NDArray advArr = s.create(adv);
    GrpoLoss.Terms terms = GrpoLoss.perToken(logp, old, advArr, m, ref, isw.stopGradient(), cfg);
    NDArray entropy = LogProbs.entropy(logits.stopGradient(), cfg.temperature()); // [B,T-1]
    NDArray perToken = terms.perToken();
    if (cfg.topEntropyQuantile() < 1) {
      // TRL top_entropy_quantile: only the highest-entropy completion tokens carry the policy loss
      float[] keep = GrpoLoss.highEntropyMask(entropy.toFloatArray(), m.toFloatArray(), cfg.topEntropyQuantile());
      perToken = perToken.mul(s.create(keep, m.getShape()));
    }
    NDArray loss = GrpoLoss.aggregate(perToken, m, cfg.lossType(), cfg.maxCompletionLength(), tokensTotal);
    double scale = switch (cfg.lossType()) {
      case GRPO -> b / (double) nSeqTotal;
      case BNPO -> 1.0 / nMicro;
      case DR_GRPO -> b / (double) nSeqTotal; // aggregate divides by the micro-batch's B
      case DAPO -> 1.0;
    };
    NDArray scaled = Nd.mul(loss, scale);
    double lossValue = scaled.getFloat();
    if (!Double.isFinite(lossValue)) {
      return new double[] {Double.NaN, 0, 0, 0, 0, 0, 0};
    }
    gc.backward(scaled);
    double tokens = Math.max(1, m.sum().getFloat());
    double kl = terms.kl() == null ? 0 : terms.kl().mul(m).sum().getFloat() / tokens;
    double ent = entropy.mul(m).sum().getFloat() / tokens;
    double[] cr = GrpoLoss.clipRatios(terms.ratio(), advArr, m, cfg);
    double ratioMean = terms.ratio().stopGradient().mul(m).sum().getFloat() / tokens;
    return new double[] {lossValue, kl, ent, cr[0], cr[1], cr[2], ratioMean};
  }

  static Map<String, Double> rewardMetrics(TrainBatch batch) {
    Map<String, Double> out = new LinkedHashMap<>();
    List<float[]> totals = new ArrayList<>();
    for (ScoredGroup g : batch.groups()) {
      totals.add(g.total());
    }
    float[] all = Advantages.flatten(totals);
    out.put("reward", Advantages.mean(all));
    out.put("reward_std", Advantages.std(all));
    out.put("frac_reward_zero_std", Advantages.fracZeroStd(totals));
    if (!batch.groups().isEmpty()) {
      List<String> names = batch.groups().get(0).rewardNames();
      for (int f = 0; f < names.size(); f++) {
        List<Float> col = new ArrayList<>();
        for (ScoredGroup g : batch.groups()) {
          for (float[] row : g.rewards()) {
            col.add(row[f]);
          }
        }
        float[] c = new float[col.size()];
        for (int i = 0; i < c.length; i++) {
          c[i] = col.get(i);
        }
        out.put("rewards/" + names.get(f) + "/mean", Advantages.mean(c));
        out.put("rewards/" + names.get(f) + "/std", Advantages.std(c));
      }
    }
    return out;
  }

  /** The policy's weights as a snapshot (bf16 or f32), copied once out of the model. */
  public WeightSnapshot exportWeights(long version, DType dtype) {
    return new WeightSnapshot(version, policy.toTensors(dtype));
  }

  public int steps() {
    return steps;
  }

  /** The optimizer (for checkpointing its state). */
  public AdamW optimizer() {
    return opt;
  }

  /** Sets the optimizer-step counter when resuming (the schedule and reference sync follow it). */
  public void resumeAt(int step) {
    this.steps = step;
  }

  @Override
  public void close() {
    opt.close();
    if (reference != null) {
      reference.close();
    }
  }
}
