package io.r1cluster.actors.grpo;

import java.util.List;

/** Cluster roles of r1 nodes; one JVM may hold several (the embedded default holds all). */
public final class Roles {
  public static final String SEED = "seed";
  public static final String ROLLOUT = "rollout";
  public static final String REWARD = "reward";
  public static final String LEARNER = "learner";
  public static final List<String> ALL = List.of(SEED, ROLLOUT, REWARD, LEARNER);

  private Roles() {}
}
