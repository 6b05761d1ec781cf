package io.r1cluster.actors.grpo;

import io.r1cluster.actors.serialization.KryoMessage;
import io.r1cluster.actors.serialization.KryoProtocol;
import io.r1cluster.core.InputException;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a rollout or reward node needs to take part in a run, sent to every {@link NodeAgent} by the
 * owner of the weights (the GRPO {@link Learner}, or a pipeline's generate-stage teacher): the model architecture and tokenizer (as file contents, so members need
 * no shared disk), sampling and reward settings, and where the weights come from. The weights
 * themselves never travel as actor messages: a node builds the model and then waits for the
 * owner's snapshot over Aeron.
 *
 * @param runId identifies the run (a node boots once per run)
 * @param configJson the model's {@code config.json}
 * @param tokenizerFiles tokenizer file name → content ({@code tokenizer.json}, {@code tokenizer_config.json})
 * @param chatTemplate recipe {@code chat_template} override, or null
 * @param chatTemplateKwargs recipe {@code chat_template_kwargs} (e.g. {@code enable_thinking}), bound to every render
 * @param sampling sampling settings of the recipe
 * @param rewardFuncs {@code reward_funcs}
 * @param rewardWeights {@code reward_weights} (empty = all 1)
 * @param rewardKwargs reward function parameters
 * @param rolloutSlots the recipe's {@code cluster.rollout_slots}: generations per rollout node
 *     (a member started with {@code --slots N} uses N instead)
 * @param inflightWeightUpdate the recipe's {@code cluster.inflight_weight_update}: rollout engines swap
 *     weights between token steps without draining (a node's {@code r1.grpo.rollout.inflight-weight-update} also turns it on)
 * @param weights where the weight stream is published
 * @param resendTo the owner of the weights (the learner, or the teacher's host), for resend requests
 */
public record RunSpec(
    String runId, String configJson, Map<String, String> tokenizerFiles, String chatTemplate,
    Map<String, Object> chatTemplateKwargs, Sampling sampling,
    List<String> rewardFuncs, List<Double> rewardWeights, Map<String, Object> rewardKwargs, int rolloutSlots, boolean inflightWeightUpdate,
    WeightSource weights,
    ActorRef<Learner.Resend> resendTo) implements KryoMessage {

  /** The tokenizer files a spec carries ({@code tokenizer.json}, {@code tokenizer_config.json}), read from {@code dir}. */
  public static Map<String, String> tokenizerFiles(Path dir) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String f : List.of(Tokenizer.TOKENIZER_FILE, Tokenizer.CONFIG_FILE)) {
      Path p = dir.resolve(f);
      if (!Files.isRegularFile(p)) {
        throw new InputException(dir, 0, "model_name_or_path", "no " + f + " in " + dir);
      }
      try {
        out.put(f, Files.readString(p, StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + p, e);
      }
    }
    return out;
  }

  public RunSpec {
    Objects.requireNonNull(runId, "runId");
    tokenizerFiles = Map.copyOf(tokenizerFiles);
    rewardFuncs = List.copyOf(rewardFuncs);
    rewardWeights = List.copyOf(rewardWeights);
    rewardKwargs = Map.copyOf(rewardKwargs);
    chatTemplateKwargs = chatTemplateKwargs == null ? Map.of() : Map.copyOf(chatTemplateKwargs);
  }

  /**
   * Sampling settings (vLLM/TRL names).
   *
   * @param numGenerations G completions per prompt
   * @param maxPromptLength prompts are cut to their last {@code maxPromptLength} tokens
   * @param maxCompletionLength new tokens per completion
   * @param temperature sampling temperature
   * @param topP nucleus mass (1 = off)
   * @param topK top-k (0 = off)
   * @param minP min-p (0 = off)
   */
  public record Sampling(int numGenerations, int maxPromptLength, int maxCompletionLength, double temperature,
      double topP, int topK, double minP) implements KryoMessage {}

  /**
   * The learner's weight publication.
   *
   * @param transport {@code IPC} (same host: attach to the learner's media driver in {@code aeronDir})
   *     or {@code UDP} (multi-destination-cast: register with {@code controlEndpoint})
   * @param aeronDir the learner's media driver directory (IPC)
   * @param controlEndpoint the learner's MDC control endpoint {@code host:port} (UDP)
   * @param publisherId the only publisher id receivers accept
   * @param version the newest version published so far
   * @param key the run's weight-stream key ({@link io.r1cluster.actors.transport.WeightKey}, 32 bytes): every
   *     message on the stream carries an HMAC-SHA256 tag under it. Secret: never printed by {@link #toString()}.
   */
  public record WeightSource(String transport, String aeronDir, String controlEndpoint, long publisherId, long version,
      byte[] key) implements KryoMessage {

    public WeightSource {
      key = io.r1cluster.actors.transport.WeightKey.of(key).bytes(); // checks the length, keeps a private copy
    }

    /** The key, as the transport takes it. */
    public io.r1cluster.actors.transport.WeightKey weightKey() {
      return io.r1cluster.actors.transport.WeightKey.of(key);
    }

    /** The same source, announcing {@code newest} as the newest version published. */
    public WeightSource withVersion(long newest) {
      return new WeightSource(transport, aeronDir, controlEndpoint, publisherId, newest, key);
    }

    @Override
    public String toString() {
      return "WeightSource[" + transport + ", aeronDir=" + aeronDir + ", control=" + controlEndpoint
          + ", publisher=" + publisherId + ", version=" + version + ", key=redacted]";
    }
  }

  /** Wire ids of the spec and its records, carried by {@link NodeAgent.Join} (see {@code KryoRegistry}). */
  public static final class KryoIds implements KryoProtocol {
    @Override
    public void register(KryoProtocol.Ids ids) {
      ids.add(1000, RunSpec.class);
      ids.add(1001, Sampling.class);
      ids.add(1002, WeightSource.class);
    }
  }
}
