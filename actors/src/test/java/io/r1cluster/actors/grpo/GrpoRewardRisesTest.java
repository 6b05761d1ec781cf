package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short GRPO run through the whole actor system (one JVM: sharded rollout entities, reward pool,
 * the stream, the learner singleton, weights over Aeron IPC, Kryo on every message) on the demo
 * model raises the mean reward. The reward is the registered {@code soft_overlong_punishment} with
 * the soft-punish cache as long as the completion budget, i.e. {@code −length / max_completion_len}:
 * the untrained model almost never ends early (≈ −0.95), and every group in which one completion
 * does carries a gradient towards EOS. The recipe's {@code cluster.rollout_slots} sets the node's
 * generation slots.
 */
class GrpoRewardRisesTest {
  @TempDir Path tmp;
  private ActorTestKit kit;
  private GrpoJob job;

  @AfterEach
  void stop() {
    if (kit != null) {
      kit.shutdownTestKit();
    }
    if (job != null) {
      job.close();
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void meanRewardRisesOnTheDemoModel() throws Exception {
    Path data = GrpoFixtures.demoData(tmp.resolve("data"), 8);
    Path recipe = tmp.resolve("grpo.yaml");
    Files.writeString(recipe, """
        model_name_or_path: demo
        dataset_name: %s
        dataset_prompt_column: problem
        output_dir: %s
        learning_rate: 2.0e-2
        lr_scheduler_type: constant
        num_train_epochs: 8
        per_device_train_batch_size: 8
        num_generations: 8
        max_prompt_length: 64
        max_completion_length: 8
        temperature: 1.0
        beta: 0.0
        seed: 5
        reward_funcs: [soft_overlong_punishment]
        max_completion_len: 8
        soft_punish_cache: 8
        cluster:
          max_staleness: 0
          prompts_per_step: 4
          rollout_slots: 2
        """.formatted(data, tmp.resolve("out")));
    kit = ActorTestKit.create("r1", GrpoFixtures.node(GrpoFixtures.ALL_ROLES, ""));
    List<Double> rewards = new CopyOnWriteArrayList<>();
    job = GrpoFixtures.startAlone(kit.system(), recipe, s -> rewards.add(s.metrics().get("reward")));
    GrpoJob.RunResult r = job.done().get(80, TimeUnit.SECONDS);

    assertEquals(16, r.steps(), "8 epochs x 8 prompts / 4 per step");
    StepReports.assertEachPromptTrained(r.outputDir(), StepReports.promptIds(io.r1cluster.core.recipe.Recipe.load(recipe)
        .settings()), 8, 16);
    assertEquals(2, NodeResources.get(kit.system()).slotCount(), "cluster.rollout_slots: 2 gives the node 2 slots");
    double early = rewards.subList(0, 4).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    double late = rewards.subList(12, 16).stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    System.out.printf("mean reward per step: %s%nfirst 4 steps %.3f, last 4 steps %.3f%n", rewards, early, late);
    // step 1 is the untrained model; by step 4 (lr 2e-2) it has already learnt part of the way
    assertTrue(rewards.get(0) < -0.7, "the untrained demo model rarely stops early: " + rewards);
    assertTrue(late > early + 0.25, "mean reward " + early + " -> " + late + ": " + rewards);
  }
}
