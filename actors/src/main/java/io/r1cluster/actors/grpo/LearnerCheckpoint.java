package io.r1cluster.actors.grpo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.checkpoint.TensorData;
import io.r1cluster.core.optim.AdamW;
import io.r1cluster.core.train.EpochOrder;
import io.r1cluster.core.train.RunFolder;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;

/**
 * The actor learner's {@code checkpoint-N/}: the files {@link RunFolder#writeCheckpoint} writes
 * (weights, config, tokenizer, {@code optimizer.safetensors}, written atomically) with a
 * {@code trainer_state.json} that also holds the prompt ledger's position:
 *
 * <pre>
 * { "global_step": N, "max_steps": T, "policy_version": V, "epoch": E,
 *   "ledger": { "prompts": P, "epochs": K, "seed": S, "shuffle": true,
 *               "trained_keys": [...], "filtered_keys": [...], "consumed_per_epoch": [...] } }
 * </pre>
 *
 * A key is {@code epoch × P + prompt index}; each epoch's order is the seeded permutation of
 * {@link PromptLedger}, so the consumed keys are the whole position: a resumed ledger marks them
 * trained and dispatches the rest in the same order (see {@link PromptLedger#restore}).
 *
 * <p>The learner keeps the consumed keys here (not in the ledger, which runs ahead of the weights):
 * a batch's keys are added when its step is done, so a checkpoint's keys are exactly those its
 * weights were trained on. Not thread-safe: owned by the {@link Learner}.
 */
final class LearnerCheckpoint {
  static final String LEDGER = "ledger";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Where a resumed run starts. */
  record Resume(Path dir, int step, long version, long[] trainedKeys, long[] filteredKeys) {}

  private final BitSet trained = new BitSet();
  private final BitSet filtered = new BitSet();

  LearnerCheckpoint(Resume resume) {
    if (resume != null) {
      consumed(resume.trainedKeys(), resume.filteredKeys());
    }
  }

  /** A step is done: the keys of its batch. */
  void consumed(long[] trainedKeys, long[] filteredKeys) {
    for (long k : trainedKeys) {
      trained.set((int) k);
    }
    for (long k : filteredKeys) {
      filtered.set((int) k);
    }
  }

  /** The state JSON of a checkpoint after {@code step} steps. */
  ObjectNode state(int step, int totalSteps, long version, int prompts, int epochs, long seed, boolean shuffle) {
    ObjectNode st = JSON.createObjectNode();
    st.put("global_step", step);
    st.put("max_steps", totalSteps);
    st.put("policy_version", version);
    st.put("epoch", (trained.cardinality() + filtered.cardinality()) / (double) prompts);
    ObjectNode l = st.putObject(LEDGER);
    l.put("prompts", prompts);
    l.put("epochs", epochs);
    l.put("seed", seed);
    l.put("shuffle", shuffle);
    ArrayNode t = l.putArray("trained_keys");
    trained.stream().forEach(t::add);
    ArrayNode f = l.putArray("filtered_keys");
    filtered.stream().forEach(f::add);
    ArrayNode perEpoch = l.putArray("consumed_per_epoch");
    BitSet all = (BitSet) trained.clone();
    all.or(filtered);
    for (int e = 0; e < epochs; e++) {
      perEpoch.add(all.get(e * prompts, (e + 1) * prompts).cardinality());
    }
    return st;
  }

  /**
   * Reads a checkpoint's state; its ledger must describe this run (same prompts, epochs, seed and
   * shuffle), else an {@link InputException} names the file and key. A checkpoint of the in-process
   * {@code GrpoTrainer} (no ledger: the stage ran under {@code r1 run} before) resumes too: its
   * position is a function of the step ({@code promptsPerStep} prompts per step, each epoch in the
   * order of {@link EpochOrder#permutation} with {@code seed + epoch}), so those keys are consumed.
   */
  static Resume read(Path dir, int prompts, int epochs, long seed, boolean shuffle, int promptsPerStep) {
    Path file = dir.resolve(RunFolder.STATE_FILE);
    JsonNode st = RunFolder.readJson(file);
    JsonNode l = st.path(LEDGER);
    if (!l.isObject()) {
      if (!st.path("global_step").canConvertToLong() || !st.has("policy_version")) {
        throw new InputException(file, 0, LEDGER, "neither a prompt ledger nor global_step and policy_version:"
            + " not a GRPO checkpoint (set overwrite_output_dir: true to start over)");
      }
      int step = st.path("global_step").asInt();
      long consumed = Math.min((long) step * promptsPerStep, (long) prompts * epochs);
      long[] keys = new long[(int) consumed];
      int[] perm = null;
      for (int pos = 0; pos < consumed; pos++) {
        int epoch = pos / prompts;
        if (pos % prompts == 0) {
          perm = EpochOrder.permutation(prompts, seed + epoch);
        }
        keys[pos] = (long) epoch * prompts + perm[pos % prompts];
      }
      return new Resume(dir, step, st.path("policy_version").asLong(), keys, new long[0]);
    }
    expect(file, l, "prompts", prompts);
    expect(file, l, "epochs", epochs);
    expect(file, l, "seed", seed);
    if (l.path("shuffle").asBoolean() != shuffle) {
      throw new InputException(file, 0, LEDGER + ".shuffle", "the checkpoint was written with shuffle "
          + l.path("shuffle").asBoolean() + ", this run has " + shuffle);
    }
    return new Resume(dir, st.path("global_step").asInt(), st.path("policy_version").asLong(),
        keys(file, l, "trained_keys", (long) prompts * epochs), keys(file, l, "filtered_keys", (long) prompts * epochs));
  }

  private static void expect(Path file, JsonNode l, String key, long value) {
    if (l.path(key).asLong(-1) != value) {
      throw new InputException(file, 0, LEDGER + "." + key, "the checkpoint was written for " + l.path(key)
          + ", this run has " + value + "; it cannot resume this run");
    }
  }

  private static long[] keys(Path file, JsonNode l, String name, long total) {
    JsonNode a = l.path(name);
    long[] out = new long[a.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = a.get(i).asLong(-1);
      if (out[i] < 0 || out[i] >= total) {
        throw new InputException(file, 0, LEDGER + "." + name, "key " + a.get(i) + " is outside 0.." + (total - 1));
      }
    }
    return out;
  }

  /**
   * Writes {@code out/checkpoint-STEP} on the learner thread; refuses (and writes nothing) when a
   * weight is not finite, so a diverged run never leaves a checkpoint to resume from.
   */
  static void write(GrpoJob job, AdamW optimizer, int step, ObjectNode state) {
    requireFinite(job.policy.toTensors(DType.F32), step);
    ObjectNode full = io.r1cluster.core.train.TrainerState.of(job.outputDir.resolve(RunFolder.METRICS_FILE), step,
        job.totalSteps, state.path("epoch").asDouble(), job.settings.training(),
        job.settings.training().perDeviceTrainBatchSize(), state); // transformers' fields + log_history
    RunFolder.writeCheckpoint(job.outputDir, step, job.policy, job.tokenizerDir, optimizer, full,
        job.settings.training().saveTotalLimit());
  }

  /** Throws naming the first tensor with a NaN or infinite value. */
  static void requireFinite(List<TensorData> weights, int step) {
    for (TensorData t : weights) {
      FloatBuffer f = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
      for (int i = 0; i < f.limit(); i++) {
        if (!Float.isFinite(f.get(i))) {
          throw new IllegalStateException("weight " + t.name() + " is not finite after step " + step
              + " (" + f.get(i) + " at element " + i + "); no checkpoint written");
        }
      }
    }
  }
}
