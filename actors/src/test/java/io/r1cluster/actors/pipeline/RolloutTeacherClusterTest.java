package io.r1cluster.actors.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.actors.grpo.GrpoClusterTest;
import io.r1cluster.actors.grpo.GrpoFixtures;
import io.r1cluster.actors.grpo.GrpoNode;
import io.r1cluster.actors.grpo.NodeResources;
import io.r1cluster.actors.grpo.RolloutEngine;
import io.r1cluster.core.checkpoint.DType;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Group;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.generate.TraceGenerator;
import io.r1cluster.core.generate.TraceGeneratorTest;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.reward.RewardFunction;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.reward.RewardRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.Address;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pipeline's generate stage under the stage supervisor, over real Artery remoting: L = seed +
 * learner (runs the supervisor: an sft stage that memorises one trace, then the generate stage with
 * that stage's output as teacher), R = a rollout + reward member, the only node with rollout
 * workers. The teacher's answers come from R: R's engine holds the teacher's weights bit for bit,
 * L holds no engine, and R's engine, asked again with the seeds the stage used, gives exactly the
 * completions the dataset holds — those of them that pass accuracy and format, and only those.
 */
class RolloutTeacherClusterTest {
  @TempDir Path tmp;
  private final List<ActorTestKit> kits = new ArrayList<>();

  @AfterEach
  void stop() {
    for (int i = kits.size() - 1; i >= 0; i--) {
      kits.get(i).shutdownTestKit();
    }
  }

  static Path recipe(Path dir) throws Exception {
    Path memo = dir.resolve("memo.jsonl");
    String trace = "<think>\\n2+3=5.\\n</think>\\n<answer>\\n5\\n</answer>";
    Files.writeString(memo, "{\"id\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"What is 2+3?\"},"
        + " {\"role\": \"assistant\", \"content\": \"" + trace + "\"}]}\n");
    Path r = dir.resolve("pipeline.yaml");
    Files.writeString(r, String.join("\n",
        "model_name_or_path: demo",
        "max_length: 64",
        "eval_after_stage: false",
        "pipeline:",
        "  - name: memo",
        "    type: sft",
        "    dataset_name: " + memo,
        "    learning_rate: 3.0e-3",
        "    lr_scheduler_type: constant",
        "    max_steps: 40",
        "    per_device_train_batch_size: 1",
        "    save_strategy: 'no'",
        "    seed: 1",
        "  - name: gen",
        "    type: generate",
        "    dataset_name: " + TraceGeneratorTest.prompts(dir),
        "    dataset_prompt_column: problem",
        "    num_generations: 4",
        "    max_completion_length: 24",
        "    temperature: 0.7",
        "    max_prompts: 2",
        "    per_device_eval_batch_size: 2",
        "    seed: 7",
        ""));
    return r;
  }

  @Test
  @Timeout(value = 180, unit = TimeUnit.SECONDS)
  void theGenerateStagesTeacherAnswersOnTheRolloutMembersWorkersAndOnlyVerifiedAnswersAreWritten() throws Exception {
    Path recipe = recipe(tmp);
    ActorTestKit l = start("\"seed\", \"learner\"");
    ActorTestKit r = start("\"rollout\", \"reward\"");
    Address seed = Cluster.get(l.system()).selfMember().address();
    Cluster.get(l.system()).manager().tell(Join.create(seed));
    Cluster.get(r.system()).manager().tell(Join.create(seed));
    StageSupervisorTest.awaitUp(l.system(), 2);
    GrpoNode.start(l.system());
    GrpoNode.start(r.system());

    Path run = tmp.resolve("run");
    ByteArrayOutputStream logL = new ByteArrayOutputStream();
    ActorRef<StageSupervisor.Command> sup =
        StageSupervisor.init(l.system(), recipe, run, new PrintStream(logL, true), Duration.ofSeconds(30));
    TestProbe<StageSupervisor.Status> probe = l.createTestProbe();
    StageSupervisor.Status last = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
    while (last == null || last.phase().equals("running")) {
      assertTrue(System.nanoTime() < deadline, "the pipeline did not finish: " + logL.toString(StandardCharsets.UTF_8));
      Thread.sleep(200);
      sup.tell(new StageSupervisor.GetStatus(probe.getRef()));
      last = probe.receiveMessage(Duration.ofSeconds(5));
    }
    String log = logL.toString(StandardCharsets.UTF_8);
    assertEquals("done", last.phase(), last.error() + "\n" + log);
    assertTrue(log.contains("is served by the rollout workers of " + l.system().address()), log);

    // only R holds the teacher: its rollout engine has the memo stage's weights; L has no engine
    assertFalse(NodeResources.get(l.system()).rollout().isDone(), "the learner node generates nothing");
    RolloutEngine engine = (RolloutEngine) NodeResources.get(r.system()).rollout().get(10, TimeUnit.SECONDS);
    assertEquals(0, engine.version());
    try (Models.Loaded teacher = Models.loadCheckpoint(run.resolve("memo"))) {
      GrpoClusterTest.assertBitIdentical(teacher.model().toTensors(DType.F32), engine.weights());
    }

    // the dataset: exactly the answers of R's engine (same seeds) that pass accuracy and format, in order
    RecipeSettings gen = Recipe.load(recipe).stages().get(1).settings();
    List<Prompt> prompts = Datasets.prompts(gen.data(), "train").items().subList(0, 2);
    List<RewardFunction> fns = RewardRegistry.create(List.of("accuracy", "format"), Map.of());
    List<String> expected = new ArrayList<>();
    int total = 0;
    for (int p = 0; p < prompts.size(); p++) {
      Group g = engine.generate(prompts.get(p), TeacherAsks.promptSeed(7 * 1_000_003L, p), 0, Duration.ofSeconds(5));
      for (Completion c : g.completions()) {
        total++;
        RewardInput in = new RewardInput(List.of(c.text()), List.of(c.tokenIds()),
            Map.of("solution", List.of(prompts.get(p).solution())));
        if (fns.get(0).score(in)[0] >= 1f && fns.get(1).score(in)[0] >= 1f) {
          expected.add(c.text());
        }
      }
    }
    Path out = run.resolve("gen");
    List<String> kept = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve(TraceGenerator.DATA_FILE))) {
      kept.add(new ObjectMapper().readTree(line).path("completion").get(0).path("content").asText());
    }
    assertEquals(expected, kept);
    assertTrue(!kept.isEmpty() && kept.size() < total, "the memorised teacher is right only sometimes: " + kept);
    JsonNode stats = new ObjectMapper().readTree(out.resolve(TraceGenerator.STATS_FILE).toFile());
    assertEquals(8, stats.path("total").asInt());
    assertEquals(kept.size(), stats.path("kept").asInt());
    assertTrue(stats.path("teacher").asText().endsWith("on the cluster's rollout workers"), stats.toString());
    assertEquals(2, stats.path("per_prompt").size());
  }

  private ActorTestKit start(String roles) {
    ActorTestKit k = ActorTestKit.create("r1", GrpoFixtures.node(roles, ""));
    kits.add(k);
    return k;
  }
}
