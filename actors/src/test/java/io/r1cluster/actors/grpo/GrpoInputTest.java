package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.r1cluster.actors.cli.R1;
import io.r1cluster.core.InputException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Bad input fails before any actor starts, naming file, line and key (exit 2 on the command line). */
class GrpoInputTest {
  @TempDir Path tmp;

  @Test
  void weightSyncStepsBeyondStalenessIsRejectedWithItsLine() throws Exception {
    Path r = tmp.resolve("bad.yaml");
    Files.writeString(r, """
        model_name_or_path: demo
        dataset_name: nowhere
        num_generations: 4
        cluster:
          max_staleness: 0
          weight_sync_steps: 3
        """);
    InputException e = assertThrows(InputException.class,
        () -> GrpoJob.prepare(r, ConfigFactory.load(), "127.0.0.1"));
    assertTrue(e.getMessage().contains("cluster.weight_sync_steps"), e.getMessage());
    assertTrue(e.getMessage().contains("bad.yaml"), e.getMessage());
    assertTrue(e.getMessage().contains(":6"), "line of the key: " + e.getMessage());
  }

  @Test
  void missingRecipeAndBadOptionsExitWithTwo() {
    assertEquals(2, run("grpo", tmp.resolve("missing.yaml").toString()));
    assertEquals(2, run("member", "--roles", "rollout,cook", "--seed", "127.0.0.1:2551"));
    assertEquals(2, run("member", "--roles", "rollout", "--seed", "nowhere"));
    assertEquals(2, run("seed", "--port", "70000"));
    // no --seed, no R1_SEED, not on Kubernetes: told how to give one (the test JVM has neither env var)
    if (System.getenv("R1_SEED") == null && System.getenv("R1_ENV") == null) {
      assertEquals(2, run("member", "--roles", "rollout"));
    }
    // --recipe only with the learner role, and the file must exist
    assertEquals(2, run("member", "--roles", "rollout", "--seed", "127.0.0.1:2551", "--recipe", "x.yaml"));
    assertEquals(2, run("member", "--roles", "learner", "--seed", "127.0.0.1:2551", "--recipe",
        tmp.resolve("missing.yaml").toString()));
  }

  @Test
  void actorSettingsAreValidated() {
    InputException e = assertThrows(InputException.class, () -> GrpoActorSettings.fromConfig(
        ConfigFactory.parseString("r1.grpo.rollout.entities = 0").withFallback(ConfigFactory.load())));
    assertTrue(e.getMessage().contains("r1.grpo.rollout.entities"), e.getMessage());
  }

  @Test
  void memberSlotsWinOverTheRecipesRolloutSlots() {
    GrpoActorSettings unset = GrpoActorSettings.fromConfig(ConfigFactory.load());
    assertEquals(0, unset.rolloutSlots(), "r1.grpo.rollout.slots defaults to 0: take the recipe's");
    assertEquals(3, unset.rolloutSlots(3), "cluster.rollout_slots: 3");
    GrpoActorSettings member = GrpoActorSettings.fromConfig(
        ConfigFactory.parseString("r1.grpo.rollout.slots = 2").withFallback(ConfigFactory.load()));
    assertEquals(2, member.rolloutSlots(3), "r1 member --slots 2 (r1.grpo.rollout.slots) wins over the recipe");
    assertEquals(2, run("member", "--roles", "rollout", "--seed", "127.0.0.1:2551", "--slots", "0"));
    assertThrows(InputException.class, () -> GrpoActorSettings.fromConfig(
        ConfigFactory.parseString("r1.grpo.rollout.slots = -1").withFallback(ConfigFactory.load())));
  }

  private static int run(String... args) {
    CommandLine cl = R1.commandLine();
    cl.setErr(new PrintWriter(new StringWriter()));
    cl.setOut(new PrintWriter(new StringWriter()));
    return cl.execute(args);
  }
}
