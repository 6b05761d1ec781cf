package io.r1cluster.core.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.recipe.cli.ValidateCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code r1 <cmd> RECIPE --key value}: overrides meet the file's checks and validate says where each value came from. */
@Timeout(60)
class RecipeOverridesTest {
  @TempDir Path dir;

  private Path recipe(String yaml) throws IOException {
    Path f = dir.resolve("r.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  private static List<RecipeOverride> args(String... a) {
    return RecipeOverride.parse(List.of(a));
  }

  @Test
  void anOverrideReplacesOrAddsAKeyAndIsTypedLikeTheFile() throws IOException {
    Path f = recipe("learning_rate: 4.0e-5\nmax_steps: 10\nreward_funcs: [accuracy]\n");
    Recipe r = Recipe.load(f, args("--learning_rate", "1e-5", "--logging-steps=3", "--reward_funcs", "[accuracy, format]",
        "--bf16"));
    assertEquals(1e-5, r.settings().training().learningRate());
    assertEquals(10, r.settings().training().maxSteps(), "keys not overridden keep the file's value");
    assertEquals(3, r.settings().training().loggingSteps(), "--logging-steps is logging_steps; --k=v works");
    assertEquals(List.of("accuracy", "format"), r.settings().grpo().rewardFuncs(), "the value is read as YAML");
    assertEquals(Boolean.TRUE, r.settings().values().get("bf16").value(), "a key with no value is true");

    assertEquals("command line (--learning_rate 1e-5)", r.origin("learning_rate"));
    assertEquals(f + ":2", r.origin("max_steps"));
    assertEquals("default", r.origin("seed"));
  }

  @Test
  void badOverridesFailLikeBadKeysNamingTheCommandLine() throws IOException {
    Path f = recipe("learning_rate: 4.0e-5\nmax_steps: 10\n");
    RecipeException e = assertThrows(RecipeException.class, () -> Recipe.load(f,
        args("--lerning_rate", "1e-5", "--max_steps", "ten", "--lr_scheduler_type", "cosin")));
    assertEquals(String.join("\n",
        "command line: --lerning_rate 1e-5: unknown key (did you mean 'learning_rate'?)",
        "command line: --max_steps ten: expected an integer, found 'ten'",
        "command line: --lr_scheduler_type cosin: 'cosin' is not one of linear, cosine, cosine_with_restarts, polynomial,"
            + " constant, constant_with_warmup, inverse_sqrt, reduce_lr_on_plateau, cosine_with_min_lr, warmup_stable_decay"
            + " (did you mean 'cosine'?)"), e.getMessage());
    InputException bare = assertThrows(InputException.class, () -> args("1e-5"));
    assertTrue(bare.getMessage().startsWith("command line: unexpected '1e-5'"), bare.getMessage());
    RecipeException yaml = assertThrows(RecipeException.class, () -> Recipe.load(f, args("--reward_funcs", "[a, b")));
    assertTrue(yaml.getMessage().startsWith("command line: --reward_funcs [a, b: invalid YAML value"), yaml.getMessage());
  }

  @Test
  void dottedKeysReachTheClusterSectionAndOneStage() throws IOException {
    Path f = recipe(String.join("\n",
        "learning_rate: 1.0e-4",
        "cluster:",
        "  rollout_slots: 2",
        "pipeline:",
        "  - name: sft",
        "    type: sft",
        "  - name: grpo",
        "    type: grpo",
        "    learning_rate: 1.0e-5",
        "    reward_funcs: [accuracy]",
        ""));
    Recipe r = Recipe.load(f, args("--cluster.max_staleness", "0", "--pipeline.grpo.learning_rate", "2e-6",
        "--learning_rate", "3e-4"));
    assertEquals(0, r.settings().cluster().maxStaleness());
    assertEquals(2, r.settings().cluster().rolloutSlots(), "the section's other keys stay");
    assertEquals("command line (--cluster.max_staleness 0)", r.origin("cluster.max_staleness"));
    assertEquals(f + ":3", r.origin("cluster.rollout_slots"));
    assertEquals(3e-4, r.stages().get(0).settings().training().learningRate(), "a stage inherits the top level");
    assertEquals(2e-6, r.stages().get(1).settings().training().learningRate(), "pipeline.grpo.* reaches that stage");
    assertEquals("command line (--pipeline.grpo.learning_rate 2e-6)",
        r.origin(r.stages().get(1).keys().get("learning_rate")));

    RecipeException e = assertThrows(RecipeException.class, () -> Recipe.load(f,
        args("--pipeline.grpp.beta", "0.1", "--cluster.max_stalenes", "1", "--model.name", "x")));
    assertEquals(String.join("\n",
        "command line: --pipeline.grpp.beta 0.1: no pipeline stage named 'grpp' (stages: sft, grpo) (did you mean 'grpo'?)",
        "command line: --cluster.max_stalenes 1: unknown key (did you mean 'max_staleness'?)",
        "command line: --model.name x: a dotted key is cluster.KEY or pipeline.STAGE.KEY"), e.getMessage());
  }

  @Test
  void validateAppliesOverridesAndShowsWhereEachValueCameFrom() throws IOException {
    Path f = recipe("learning_rate: 4.0e-5\nmax_steps: 10\n");
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    int rc;
    try {
      rc = new CommandLine(new ValidateCommand()).execute(f.toString(), "--max_steps", "20", "--seed", "7");
    } finally {
      System.setOut(old);
    }
    String out = buf.toString(StandardCharsets.UTF_8);
    assertEquals(0, rc, out);
    assertTrue(out.matches("(?s).*\\* max_steps +20   \\[command line \\(--max_steps 20\\)]\n.*"), out);
    assertTrue(out.matches("(?s).*\\* seed +7   \\[command line \\(--seed 7\\)]\n.*"), out);
    assertTrue(out.matches("(?s).*\\* learning_rate +4\\.0E-5   \\[" + java.util.regex.Pattern.quote(f.toString())
        + ":1]\n.*"), out);
    assertTrue(out.matches("(?s).*  warmup_ratio +0\\.0   \\[default]\n.*"), out);
  }
}
