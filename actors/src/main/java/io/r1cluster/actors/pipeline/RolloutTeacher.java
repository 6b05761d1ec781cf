package io.r1cluster.actors.pipeline;

import io.r1cluster.actors.grpo.GrpoActorSettings;
import io.r1cluster.actors.grpo.RolloutWorker;
import io.r1cluster.actors.grpo.RunSpec;
import io.r1cluster.actors.grpo.WeightFeed;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.data.WeightSnapshot;
import io.r1cluster.core.generate.TraceTeacher;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.pipeline.Pipeline;
import io.r1cluster.core.recipe.GrpoSettings;
import io.r1cluster.core.recipe.RecipeSettings;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityRef;

/**
 * A generate stage's local teacher answered by the cluster's {@link RolloutWorker}s — the workers
 * GRPO generates with — when the pipeline runs under the stage supervisor (which installs it with
 * {@link Pipeline#localTeacher}). The teacher checkpoint becomes a run of its own on the rollout
 * nodes: its weights are the one policy version of that run, published by a {@link TeacherHost}
 * exactly as the learner publishes its policy (a {@link RunSpec} to every node agent, the snapshot
 * over Aeron, resends on request), and each prompt's {@code n} answers are one group asked of an
 * entity ({@link TeacherAsks}). This node loads the checkpoint only to export its weights: it keeps
 * no model and samples nothing.
 *
 * <p>Sampling is the rollout engine's, with the stage's settings: temperature, top_p, top_k, min_p,
 * {@code max_prompt_length} (the end of the prompt is kept), {@code max_completion_length}, stops at
 * EOS. Every prompt has its own seed, derived from the batch's, so the answers do not depend on
 * which node or entity gives them.
 */
final class RolloutTeacher implements TraceTeacher {
  private static final AtomicInteger RUNS = new AtomicInteger();
  private static final int MAX_FAILURES = 5;
  private static final Duration RETRY_PAUSE = Duration.ofSeconds(1);
  private static final Duration STALL_LOG = Duration.ofSeconds(60);

  private final String name;
  private final int n;
  private final WeightFeed feed;
  private final ActorRef<TeacherHost.Command> host;
  private final TeacherAsks asks;
  private final ActorRef<Object> progress;

  private RolloutTeacher(String name, int n, WeightFeed feed, ActorRef<TeacherHost.Command> host, TeacherAsks asks,
      ActorRef<Object> progress) {
    this.progress = progress;
    this.name = name;
    this.n = n;
    this.feed = feed;
    this.host = host;
    this.asks = asks;
  }

  /**
   * Publishes {@code teacher}'s weights to the cluster's rollout nodes and returns the teacher that
   * asks them (blocking: the pipeline's thread). Closes {@code teacher} once its weights are exported.
   */
  static RolloutTeacher start(ActorSystem<?> system, Models.Loaded teacher, String name, RecipeSettings s,
      BooleanSupplier cancelled, PrintStream log) {
    String config;
    Map<String, String> tokenizer;
    WeightSnapshot weights;
    try (teacher) {
      config = teacher.model().config().toJson().toPrettyString();
      tokenizer = RunSpec.tokenizerFiles(teacher.tokenizerDir());
      weights = new WeightSnapshot(0, teacher.model().toTensors(DType.F32));
    }
    GrpoSettings g = s.grpo();
    RunSpec.Sampling sampling = new RunSpec.Sampling(g.numGenerations(), g.maxPromptLength(), g.maxCompletionLength(),
        g.temperature(), g.topP(), g.topK() == null ? 0 : g.topK(), g.minP() == null ? 0 : g.minP());
    int run = RUNS.incrementAndGet();
    String runId = "teacher-" + run + "-" + Long.toHexString(System.currentTimeMillis());
    WeightFeed feed = WeightFeed.open(s.cluster().transport(), system.settings().config(),
        system.address().getHost().orElse("127.0.0.1"));
    ActorRef<TeacherHost.Command> host;
    try {
      host = system.systemActorOf(TeacherHost.create(runId, resendTo -> new RunSpec(runId, config, tokenizer,
              s.model().chatTemplate(), s.model().chatTemplateKwargs(), sampling, g.rewardFuncs(), g.rewardWeights() == null ? List.of() : g.rewardWeights(),
              g.rewardKwargs(), s.cluster().rolloutSlots(), s.cluster().inflightWeightUpdate(), feed.source(weights.version()), resendTo), weights, feed),
          "r1-teacher-" + run, Props.empty());
    } catch (RuntimeException e) {
      feed.close();
      throw e;
    }
    GrpoActorSettings settings = GrpoActorSettings.fromConfig(system.settings().config());
    List<EntityRef<RolloutWorker.Command>> entities = new ArrayList<>();
    for (int i = 0; i < settings.rolloutEntities(); i++) {
      entities.add(ClusterSharding.get(system).entityRefFor(RolloutWorker.TYPE_KEY, settings.entityId(i)));
    }
    long version = weights.version();
    // the entities report the asks they hold here, so that a long generation is not given up
    TeacherAsks.Reports reports = new TeacherAsks.Reports();
    ActorRef<Object> progress = system.systemActorOf(Behaviors.<Object>receiveMessage(m -> {
      if (m instanceof RolloutWorker.Working w) {
        reports.heard(w.dispatchIds());
        return Behaviors.same();
      }
      return Behaviors.stopped();
    }), "r1-teacher-progress-" + run, Props.empty());
    ActorRef<RolloutWorker.Working> progressTo = progress.narrow();
    TeacherAsks asks = new TeacherAsks((entity, id, prompt, seed, reportEvery) -> entities.get(entity).ask(
            replyTo -> new RolloutWorker.Generate(id, runId, prompt, seed, version, replyTo, progressTo,
                reportEvery.toMillis()), RolloutWorker.ASK_LIMIT),
        reports, new TeacherAsks.Limits(entities.size(), settings.dispatchTimeout(), MAX_FAILURES, RETRY_PAUSE, STALL_LOG),
        cancelled, log, system.address().toString());
    log.printf("generate: teacher %s is served by the rollout workers of %s (run %s)%n", name, system.address(), runId);
    return new RolloutTeacher(name, g.numGenerations(), feed, host, asks, progress);
  }

  @Override
  public String describe() {
    return "local checkpoint " + name + " on the cluster's rollout workers";
  }

  @Override
  public List<List<Answer>> answer(List<Prompt> prompts, int n, long seed) {
    if (n != this.n) {
      throw new IllegalArgumentException("the rollout workers answer " + this.n + " times per prompt (num_generations), not " + n);
    }
    List<List<Answer>> out = new ArrayList<>();
    for (Group group : asks.collect(prompts, n, seed)) {
      List<Answer> a = new ArrayList<>();
      for (Completion c : group.completions()) {
        a.add(new Answer(c.text(), c.tokenIds()));
      }
      out.add(a);
    }
    return out;
  }

  @Override
  public void close() {
    host.tell(TeacherHost.Stop.INSTANCE);
    progress.tell(TeacherHost.Stop.INSTANCE); // anything but a report stops it
    feed.close();
  }
}
