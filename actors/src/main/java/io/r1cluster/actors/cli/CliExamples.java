package io.r1cluster.actors.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine;

/**
 * The "Examples:" footer of every subcommand's {@code --help}: one table here instead of one
 * annotation per module, so subcommands found through {@code ServiceLoader} get theirs too. A
 * subcommand that declares its own {@code footer} keeps it. {@code R1CliTest} fails when a
 * subcommand has neither, and parses every example with the real command line.
 */
final class CliExamples {
  static final String HEADING = "%nExamples:";

  /** Subcommand path (space-separated) to its examples, each a full command line. */
  static final Map<String, List<String>> EXAMPLES = Map.ofEntries(
      Map.entry("run", List.of(
          "r1 run recipes/demo/pipeline.yaml",
          "r1 run recipes/demo/pipeline.yaml --run-dir runs/second-try",
          "r1 run recipes/demo/pipeline.yaml --pipeline.grpo.max_steps 50")),
      Map.entry("sft", List.of(
          "r1 sft recipes/demo/sft.yaml",
          "r1 sft recipes/demo/sft.yaml --learning_rate 1e-4 --output_dir runs/sft-lr1e-4")),
      Map.entry("grpo", List.of(
          "r1 grpo recipes/demo/grpo.yaml",
          "r1 grpo recipes/demo/grpo.yaml --cluster 10.0.0.5:25520")),
      Map.entry("validate", List.of(
          "r1 validate recipes/Qwen2.5-1.5B-Instruct/grpo/config_demo.yaml",
          "r1 validate recipes/demo/sft.yaml --learning_rate 1e-5",
          "r1 validate --keys")),
      Map.entry("eval", List.of(
          "r1 eval --model runs/demo-pipeline/grpo --dataset runs/demo-pipeline/data",
          "r1 eval --model runs/demo-pipeline/grpo --benchmark math500 --limit 20",
          "r1 eval --model MODEL_DIR --benchmark math500 --n 4 --max-new-tokens 32768")),
      Map.entry("data", List.of(
          "r1 data demo --out data/demo")),
      Map.entry("data demo", List.of(
          "r1 data demo --out data/demo",
          "r1 data demo --out data/demo-hard --digits 4 --error-rate 0.5 --train 5000")),
      Map.entry("verify", List.of(
          "r1 verify --gold '\\frac{1}{2}' --pred 'The answer is \\boxed{0.5}'",
          "r1 verify --jsonl pairs.jsonl")),
      Map.entry("reward", List.of(
          "r1 reward --jsonl completions.jsonl")),
      Map.entry("seed", List.of(
          "r1 seed --port 25520",
          "r1 seed --host 10.0.0.5 --port 25520")),
      Map.entry("member", List.of(
          "r1 member --roles rollout,serve --serve-model demo --seed 10.0.0.5:25520",
          "r1 member --roles rollout --gpus 0,1 --seed 10.0.0.5:25520",
          "r1 member --roles learner --pipeline recipes/demo/cluster.yaml")),
      Map.entry("bench", List.of(
          "r1 bench",
          "r1 bench verify --quick",
          "r1 bench generate --json generate.json")),
      Map.entry("completion", List.of(
          "r1 completion > ~/.local/share/bash-completion/completions/r1",
          "source <(r1 completion)")),
      Map.entry("serve", List.of(
          "r1 serve demo --port 8000",
          "r1 serve runs/demo-pipeline/grpo --host 0.0.0.0 --api-key-env R1_API_KEY")),
      Map.entry("chat", List.of(
          "r1 chat demo",
          "r1 chat runs/demo-pipeline/grpo --url http://127.0.0.1:8000")),
      Map.entry("logits", List.of(
          "r1 logits --model runs/demo-pipeline/grpo --ids 1,2,3",
          "r1 logits --model MODEL_DIR --ids '1,2,3;4,5'")),
      Map.entry("help", List.of(
          "r1 help run")));

  private CliExamples() {}

  /** Sets the footer of every subcommand (recursively) that has none and has examples here. */
  static void apply(CommandLine root) {
    for (CommandLine sub : root.getSubcommands().values()) {
      apply(sub, sub.getCommandName());
    }
  }

  private static void apply(CommandLine cl, String path) {
    CommandLine.Model.UsageMessageSpec u = cl.getCommandSpec().usageMessage();
    List<String> ex = EXAMPLES.get(path);
    if (u.footer().length == 0 && ex != null) {
      String[] footer = new String[ex.size() + 1];
      footer[0] = HEADING;
      for (int i = 0; i < ex.size(); i++) {
        footer[i + 1] = "  " + ex.get(i).replace("%", "%%");
      }
      u.footer(footer);
    }
    for (CommandLine sub : cl.getSubcommands().values()) {
      apply(sub, path + " " + sub.getCommandName());
    }
  }
}
