package io.r1cluster.actors.grpo;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigValue;
import io.r1cluster.core.InputException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The actor-layout settings of {@code r1.grpo} (see {@code reference.conf}), read once and
 * validated: a bad value fails at start-up naming the file, line and key.
 *
 * @param rolloutEntities number of RolloutWorker entities ({@code rollout-0 … rollout-(n-1)})
 * @param rolloutSlots generations this node runs at once; 0 = the recipe's {@code cluster.rollout_slots}
 * @param rolloutMaxInFlight generate requests one entity runs at once; 0 = as many as the node has slots
 * @param weightsWaitTimeout how long a generate request waits for weights the learner has announced (waiting
 *     for the learner to train them has no limit)
 * @param rewardWorkersPerNode RewardWorkers per {@code reward} node
 * @param dispatchTimeout a prompt not scored within this is dispatched again
 * @param resendCheckInterval how often nodes check for missing weight versions
 * @param progressInterval at most one progress line per interval
 * @param udpControlHost MDC control host of the learner ("" = its canonical hostname)
 * @param udpControlPort MDC control port of the learner
 */
public record GrpoActorSettings(
    int rolloutEntities, int rolloutSlots, int rolloutMaxInFlight, Duration weightsWaitTimeout, int rewardWorkersPerNode,
    Duration dispatchTimeout, Duration resendCheckInterval, Duration progressInterval, String udpControlHost,
    int udpControlPort) {

  public static final String PATH = "r1.grpo";
  public static final String REWARD_DISPATCHER = PATH + ".reward-dispatcher";
  public static final String IO_DISPATCHER = PATH + ".io-dispatcher";

  /** Reads and validates {@code r1.grpo} of a resolved config (e.g. the ActorSystem's). */
  public static GrpoActorSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    try {
      GrpoActorSettings s = new GrpoActorSettings(
          positive(c, "rollout.entities"), nonNegative(c, "rollout.slots"), nonNegative(c, "rollout.max-in-flight"),
          duration(c, "rollout.weights-wait-timeout"), positive(c, "reward.workers-per-node"),
          duration(c, "dispatch-timeout"), duration(c, "resend-check-interval"), duration(c, "progress-interval"),
          c.getString("weights.udp-control-host"), c.getInt("weights.udp-control-port"));
      if (s.udpControlPort < 1 || s.udpControlPort > 65535) {
        throw bad(c, "weights.udp-control-port", "must be a port number in 1..65535, got " + s.udpControlPort);
      }
      return s;
    } catch (ConfigException.WrongType | ConfigException.BadValue e) {
      throw new InputException(null, 0, PATH, e.getMessage(), e);
    }
  }

  private static int positive(Config c, String key) {
    int v = c.getInt(key);
    if (v < 1) {
      throw bad(c, key, "must be at least 1, got " + v);
    }
    return v;
  }

  private static int nonNegative(Config c, String key) {
    int v = c.getInt(key);
    if (v < 0) {
      throw bad(c, key, "must be 0 or more, got " + v);
    }
    return v;
  }

  private static Duration duration(Config c, String key) {
    Duration d = c.getDuration(key);
    if (d.isNegative() || d.isZero()) {
      throw bad(c, key, "must be a positive duration, got " + d);
    }
    return d;
  }

  private static InputException bad(Config c, String key, String detail) {
    ConfigValue v = c.getValue(key);
    String file = v.origin().filename() != null ? v.origin().filename() : v.origin().description();
    return new InputException(Path.of(file), v.origin().lineNumber(), PATH + "." + key, detail);
  }

  /**
   * Generations this node runs at once: {@code r1.grpo.rollout.slots} when set (what
   * {@code r1 member --slots N} sets), else the recipe's {@code cluster.rollout_slots}.
   */
  public int rolloutSlots(int recipeSlots) {
    return rolloutSlots > 0 ? rolloutSlots : Math.max(1, recipeSlots);
  }

  /** Entity id of slot {@code i}. */
  public String entityId(int i) {
    return "rollout-" + i;
  }
}
