package io.r1cluster.core.sft.cli;

import io.r1cluster.core.checkpoint.RunFolderLock;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.eval.Evaluator;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.IgnoredKey;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeOverride;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.StageType;
import io.r1cluster.core.sft.SftTrainer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/** {@code r1 sft RECIPE}: stage 1, supervised fine-tuning on traces, then (optionally) evaluation. */
@Command(name = "sft", mixinStandardHelpOptions = true,
    description = {"Supervised fine-tuning on reasoning traces (TRL SFTTrainer keys).",
        "Writes checkpoints, metrics.jsonl and plots/ under output_dir; resumes from the latest checkpoint-N there.",
        "With do_eval or eval_after_stage, evaluates the result on the test split (eval.json)."})
public final class SftCommand implements CliCommand {
  @Parameters(index = "0", paramLabel = "RECIPE", description = "recipe YAML file") Path recipe;

  @Unmatched List<String> overrides;

  @Override
  public Integer call() {
    Recipe r = Recipe.load(recipe, RecipeOverride.parse(overrides));
    RecipeSettings s = r.settings(StageType.SFT);
    PrintStream out = System.out;
    for (IgnoredKey k : r.ignoredKeys()) {
      out.println("note: " + k);
    }
    io.r1cluster.core.demo.DemoDataset.ensure(s, r.file(), out);
    // one process per output folder, as `r1 run` per run folder: a second one here exits 2
    try (RunFolderLock lock = RunFolderLock.acquire(Path.of(s.training().outputDir()))) {
      SftTrainer.Result res = new SftTrainer(s, out).train();
      out.printf(Locale.ROOT, "SFT done: %d steps, last loss %.4f, %d skipped; model in %s%n", res.globalStep(),
          res.lastLoss(), res.skippedSteps(), res.outputDir());
      if (s.eval().doEval() || s.eval().evalAfterStage()) {
        Evaluator.Result e = evaluate(s, res.outputDir(), out);
        printTable(out, "sft", e);
      }
    }
    return 0;
  }

  /** Evaluates the model in {@code modelDir} on the recipe's test split; writes eval.json there. */
  public static Evaluator.Result evaluate(RecipeSettings s, Path modelDir, PrintStream out) {
    List<Prompt> prompts = Datasets.prompts(s.data(), s.data().testSplit()).items();
    Evaluator.Options o = Evaluator.Options.of(s);
    try (Models.Loaded m = Models.loadCheckpoint(modelDir)) {
      return Evaluator.evaluate(m.model(), m.tokenizer(), m.tokenizer().chatTemplateFor(s.model()), prompts, o,
          modelDir, out);
    }
  }

  public static void printTable(PrintStream out, String stage, Evaluator.Result e) {
    out.printf(Locale.ROOT, "%-12s %8s %8s %12s%n", "stage", "pass@1", "format", "mean length");
    out.printf(Locale.ROOT, "%-12s %8.3f %8.3f %12.1f%n", stage, e.passAt1(), e.formatRate(), e.meanLength());
  }
}
