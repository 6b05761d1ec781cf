package io.r1cluster.core.demo.cli;

import io.r1cluster.core.cli.CliCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code r1 data}: dataset utilities ({@code r1 data demo --out DIR}). */
@Command(name = "data", mixinStandardHelpOptions = true, subcommands = DemoDataCommand.class,
    description = "Dataset utilities. `r1 data demo --out DIR` writes the demo dataset.")
public final class DataCommand implements CliCommand {
  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(System.out);
    return 0;
  }

}
