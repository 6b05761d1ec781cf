package io.r1cluster.actors.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code r1 completion}: prints a bash completion script for every subcommand and option, generated
 * by picocli's {@link AutoComplete} from the live command line (so commands found through
 * ServiceLoader are included). Works in zsh after {@code autoload -U +X bashcompinit && bashcompinit}.
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Print a bash/zsh completion script for r1 (subcommands, options, file arguments).",
        "bash: source <(r1 completion); zsh: autoload -U +X bashcompinit && bashcompinit first."})
final class CompletionCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().getOut().print(script(spec.root().commandLine()));
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** The completion script for {@code root}. */
  static String script(CommandLine root) {
    return AutoComplete.bash(root.getCommandName(), root);
  }
}
