package io.r1cluster.core.recipe;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.dataset.Loaded;
import io.r1cluster.core.dataset.SftExample;
import io.r1cluster.core.demo.cli.DataCommand;
import io.r1cluster.core.recipe.cli.ValidateCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code r1 validate} and {@code r1 data demo} through picocli, and the demo recipe reading the demo data. */
@Timeout(60)
class CliCommandsTest {
  @TempDir Path dir;

  private static String capture(Runnable r) {
    PrintStream old = System.out;
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
    try {
      r.run();
    } finally {
      System.setOut(old);
    }
    return buf.toString(StandardCharsets.UTF_8);
  }

  @Test
  void validatePrintsResolvedSettingsAndIgnoredKeys() {
    String out = capture(() -> assertEquals(0, new CommandLine(new ValidateCommand())
        .execute(ShippedRecipesTest.RECIPES.resolve("OpenR1-Distill-7B/sft/config_distill.yaml").toString())));
    assertTrue(out.contains("valid (sft recipe)"), out);
    assertTrue(out.matches("(?s).*\\* learning_rate +4\\.0E-5.*"), out);
    assertTrue(out.matches("(?s).*  +adam_beta1.*") || out.contains("max_length"), out);
    assertTrue(out.contains("Ignored keys (accepted, not acted on by r1-cluster): "), out);
    assertTrue(out.contains("use_liger_kernel (line "), out);
  }

  @Test
  void validateFailsWithRecipeException() throws IOException {
    Path bad = dir.resolve("bad.yaml");
    Files.writeString(bad, "lerning_rate: 1\n");
    ValidateCommand v = new ValidateCommand();
    new CommandLine(v).parseArgs(bad.toString());
    RecipeException e = assertThrows(RecipeException.class, v::call);
    assertEquals(bad + ":1: lerning_rate: unknown key (did you mean 'learning_rate'?)", e.getMessage());
  }

  @Test
  void demoDataFeedsTheDemoRecipe() throws IOException {
    Path out = dir.resolve("data/demo");
    String printed = capture(() -> assertEquals(0, new CommandLine(new DataCommand())
        .execute("demo", "--out", out.toString(), "--train", "120", "--test", "30", "--seed", "3")));
    assertTrue(printed.contains("teacher accuracy on train"), printed);
    assertTrue(Files.isRegularFile(out.resolve("dataset_info.json")));

    Recipe r = Recipe.load(ShippedRecipesTest.RECIPES.resolve("demo/sft.yaml"));
    DataSettings d = r.settings().data();
    DataSettings here = new DataSettings(out.toString(), d.datasetConfig(), d.trainSplit(), d.testSplit(),
        d.promptColumn(), d.systemPrompt(), d.mixture(), d.skipBadRows());
    Loaded<SftExample> sft = Datasets.sft(here, d.trainSplit());
    assertEquals(120, sft.items().size());
    assertTrue(sft.items().get(0).completion().get(0).content().startsWith("<think>\n"));
    Loaded<Prompt> test = Datasets.prompts(here, d.testSplit());
    assertEquals(30, test.items().size());
    assertTrue(test.items().get(0).messages().get(0).content().matches("(What is|Solve) .*"));
  }

  @Test
  void keyTableListsUpstreamAndOwnKeys() {
    String out = capture(() -> assertEquals(0, new CommandLine(new ValidateCommand()).execute("--keys")));
    assertTrue(out.contains("| `learning_rate` | float |"), out);
    assertTrue(out.contains("| `push_to_hub` | bool | `False` | ignored | TRAINING_ARGUMENTS |"), out);
    assertTrue(out.contains("| `max_staleness` | int | `1` | yes | R1_CLUSTER |"), out);
    assertTrue(out.contains("| `loss_type` | enum (grpo, bnpo, dr_grpo, dapo) | `bnpo` | yes | TRL_GRPO |"), out);
  }
}
