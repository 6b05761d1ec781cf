package io.r1cluster.core.pipeline.cli;

import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.pipeline.Pipeline;
import io.r1cluster.core.recipe.IgnoredKey;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeOverride;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/** {@code r1 run RECIPE}: every stage of a pipeline recipe, resumable. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run a pipeline recipe (pipeline: generate / sft / grpo / combined / distill / eval stages) in this JVM.",
        "State in RUN_DIR/state.json; running again resumes (done stages skipped, an interrupted stage continues",
        "from its last checkpoint). Prints pass@1 / format / mean length per stage and writes RUN_DIR/report.md."})
public final class RunCommand implements CliCommand {
  @Parameters(index = "0", paramLabel = "RECIPE", description = "pipeline recipe YAML") Path recipe;

  @Option(names = "--run-dir", description = "run folder (default: runs/<run_name or recipe name>)") Path runDir;

  @Unmatched List<String> overrides;

  @Override
  public Integer call() {
    Recipe r = Recipe.load(recipe, RecipeOverride.parse(overrides));
    for (IgnoredKey k : r.ignoredKeys()) {
      System.out.println("note: " + k);
    }
    Path dir = runDir != null ? runDir : Pipeline.defaultRunDir(r);
    List<Pipeline.StageState> states = new Pipeline(r, dir, System.out).run();
    System.out.println();
    System.out.print(Pipeline.table(states));
    System.out.println("report: " + dir.resolve("report.md"));
    return 0;
  }
}
