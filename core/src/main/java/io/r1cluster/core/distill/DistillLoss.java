package io.r1cluster.core.distill;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.r1cluster.core.model.LogProbs;
import io.r1cluster.core.model.Nd;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.sft.SftBatcher;
import io.r1cluster.core.sft.TokenLoss;
import java.util.Map;

/**
 * Logit distillation (Hinton et al.): soft targets from a frozen teacher plus the data's hard
 * targets. Dimensions: B batch, T time, V vocab. Per trained token t,
 *
 * <pre>
 *   p_t = softmax(z_teacher,t / T)        q_t = softmax(z_student,t / T)
 *   kl_t = Σ_v p_t,v · (log p_t,v − log q_t,v)            KL(p ‖ q)
 *   ce_t = −log softmax(z_student,t)[y_t]                  hard targets at temperature 1
 *   ℓ_t = alpha · T² · kl_t + (1 − alpha) · ce_t
 * </pre>
 *
 * and the loss is the mean of ℓ over the trained (completion) tokens ({@code SftTrainer.accumulate}).
 * T² keeps the soft-target gradient on the scale of the hard one as T grows. The teacher's
 * forward runs before the student's with autograd off and its parameters never require gradients.
 * When the two vocabularies differ in size (padding rows), the first min(V_teacher, V_student)
 * logits of each are used.
 */
public final class DistillLoss implements TokenLoss {
  public static final String KL = "distill/kl";
  public static final String CE = "distill/ce";

  private final Qwen2Model teacher;
  private final double alpha;
  private final double temperature;

  public DistillLoss(Qwen2Model teacher, double alpha, double temperature) {
    if (!(alpha >= 0 && alpha <= 1)) {
      throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
    }
    if (!(temperature > 0)) {
      throw new IllegalArgumentException("temperature must be positive, got " + temperature);
    }
    this.teacher = teacher;
    this.alpha = alpha;
    this.temperature = temperature;
  }

  /** The teacher's log p at temperature T for every target position: [B,T,V_teacher], no gradient. */
  @Override
  public NDArray prepare(NDManager scope, SftBatcher.Batch b) {
    NDArray ids = scope.create(b.ids());
    NDArray z = teacher.logits(scope, ids, scope.create(b.segments()), scope.create(b.positions()))
        .get(":, :-1, :").stopGradient(); // [B,T,V]
    return teacherLogProbs(z, temperature);
  }

  /** log softmax(z / T) of teacher logits. */
  static NDArray teacherLogProbs(NDArray z, double temperature) {
    return (temperature == 1.0 ? z : Nd.div(z, temperature)).logSoftmax(-1);
  }

  @Override
  public NDArray perToken(NDArray logits, NDArray targets, NDArray teacherLogp, Map<String, NDArray> parts) {
    long vs = logits.getShape().get(2);
    long vt = teacherLogp.getShape().get(2);
    NDArray z = vs > vt ? logits.get(":, :, :" + vt) : logits; // [B,T,V]
    NDArray logp = vt > vs ? teacherLogp.get(":, :, :" + vs) : teacherLogp;
    if (vt != vs) {
      logp = logp.logSoftmax(-1); // renormalise over the shared vocabulary
    }
    NDArray logq = (temperature == 1.0 ? z : Nd.div(z, temperature)).logSoftmax(-1); // [B,T,V]
    NDArray kl = logp.exp().mul(logp.sub(logq)).sum(new int[] {-1}); // [B,T]
    NDArray ce = LogProbs.of(logits, targets, 1.0).neg(); // [B,T]
    parts.put(KL, kl);
    parts.put(CE, ce);
    return Nd.mul(kl, alpha * temperature * temperature).add(Nd.mul(ce, 1 - alpha));
  }
}
