package io.r1cluster.core.recipe.cli;

import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.recipe.IgnoredKey;
import io.r1cluster.core.recipe.KeySpec;
import io.r1cluster.core.recipe.RecipeKeys;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeOverride;
import io.r1cluster.core.recipe.Stage;
import io.r1cluster.core.recipe.Value;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Unmatched;

/**
 * {@code r1 validate RECIPE [--key value …]}: checks a recipe (with command-line overrides applied)
 * without running it. Prints the resolved settings (given values marked {@code *}) with where each
 * came from ({@code file:line}, the command line, or the default), the pipeline stages and the
 * ignored keys; exit 0. A bad recipe throws a {@link io.r1cluster.core.recipe.RecipeException}
 * listing every error (exit 2).
 */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = {"Check a recipe (open-r1/TRL keys + r1-cluster keys) without running it.",
        "Prints the resolved settings and the keys accepted but not acted on; exit 2 with file:line: key: message on errors."})
public final class ValidateCommand implements CliCommand {
  @Parameters(index = "0", arity = "0..1", paramLabel = "RECIPE", description = "recipe YAML file") Path recipe;

  @Unmatched List<String> overrides;

  @Option(names = "--keys", description = "print every recognised key (Markdown table: key, type, default, acted on, source) and exit")
  boolean keys;

  @Override
  public Integer call() {
    if (keys) {
      printKeys(System.out);
      return 0;
    }
    if (recipe == null) {
      throw new io.r1cluster.core.InputException(null, 0, "validate", "give a RECIPE file (or --keys)");
    }
    Recipe r = Recipe.load(recipe, RecipeOverride.parse(overrides));
    if (!r.stages().isEmpty()) {
      // every stage's dataset, as `r1 run` checks them before stage 1
      io.r1cluster.core.pipeline.DatasetPreflight.check(r, r.stages());
    }
    print(r, System.out);
    return 0;
  }

  /** Writes the key tables as Markdown. */
  public static void printKeys(PrintStream out) {
    table(out, "Top level and pipeline stage overrides", RecipeKeys.topLevel());
    table(out, "cluster:", RecipeKeys.cluster());
    table(out, "pipeline stage", RecipeKeys.stageOnly());
    table(out, "dataset_mixture:", RecipeKeys.mixture());
    table(out, "dataset_mixture.datasets[]", RecipeKeys.mixtureDataset());
  }

  private static void table(PrintStream out, String title, Map<String, KeySpec> keys) {
    out.println("### " + title);
    out.println();
    out.println("| key | type | default | acted on | source | note |");
    out.println("|---|---|---|---|---|---|");
    for (KeySpec k : keys.values()) {
      String type = k.type().name().toLowerCase(java.util.Locale.ROOT)
          + (k.choices().isEmpty() ? "" : " (" + String.join(", ", k.choices()) + ")");
      String src = k.sources().stream().map(Enum::name).sorted().reduce((a, b) -> a + ", " + b).orElse("");
      out.printf("| `%s` | %s | %s | %s | %s | %s |%n", k.name(), type,
          k.defaultText() == null ? "" : "`" + k.defaultText() + "`", k.acted() ? "yes" : "ignored", src,
          k.note() == null ? "" : k.note().replace("|", "\\|"));
    }
    out.println();
  }

  private static String shorten(String v) {
    if (v.length() > 100) {
      v = v.substring(0, 97) + "...";
    }
    return v.replace("\n", "\\n");
  }

  /** Writes the human-readable summary of a validated recipe. */
  public static void print(Recipe r, PrintStream out) {
    out.println(r.file() + ": valid (" + (r.stages().isEmpty()
        ? r.settings().kind().name().toLowerCase(java.util.Locale.ROOT) + " recipe"
        : r.stages().size() + " pipeline stages") + ")");
    out.println();
    out.println("Resolved settings (* = set in the recipe or on the command line; where from in brackets):");
    for (Map.Entry<String, Object> e : r.resolved().entrySet()) {
      String mark = r.givenKeys().contains(e.getKey()) ? "*" : " ";
      if (e.getKey().equals("cluster") && e.getValue() instanceof Map<?, ?> cluster) {
        for (Map.Entry<?, ?> c : cluster.entrySet()) {
          String key = "cluster." + c.getKey();
          out.printf("  %s %-32s %s   [%s]%n", mark, key, shorten(String.valueOf(c.getValue())), r.origin(key));
        }
        continue;
      }
      out.printf("  %s %-32s %s   [%s]%n", mark, e.getKey(), shorten(String.valueOf(e.getValue())),
          r.origin(e.getKey()));
    }
    if (!r.stages().isEmpty()) {
      out.println();
      out.println("Pipeline:");
      for (Stage s : r.stages()) {
        out.printf("  %-14s %-9s from %s%n", s.name(), s.type().name().toLowerCase(java.util.Locale.ROOT), s.from());
        for (Map.Entry<String, Value> k : new java.util.TreeMap<>(s.keys()).entrySet()) {
          if (!List.of("name", "type", "from").contains(k.getKey())) {
            out.printf("      %-30s %s   [%s]%n", k.getKey(), shorten(String.valueOf(k.getValue().value())),
                r.origin(k.getValue()));
          }
        }
      }
    }
    // reward_funcs names are checked while the recipe loads (RecipeSettings): unknown or
    // unimplemented names never get here
    out.println();
    if (r.ignoredKeys().isEmpty()) {
      out.println("Ignored keys: none");
    } else {
      out.println("Ignored keys (accepted, not acted on by r1-cluster): " + r.ignoredKeys().size());
      for (IgnoredKey k : r.ignoredKeys()) {
        out.println("  " + k);
      }
    }
  }
}
