package io.r1cluster.actors.cli;

import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import java.util.ServiceLoader;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code r1} command line. Subcommands are discovered with {@link ServiceLoader} from every
 * module ({@link CliCommand}); {@code bench} is built in.
 *
 * <p>Exit codes: 0 success, 1 failure, 2 bad input ({@link InputException}: file, line and key
 * are named in the message; nothing has been written).
 */
@Command(
    name = "r1",
    mixinStandardHelpOptions = true,
    versionProvider = R1.Version.class,
    description = "Train reasoning language models (SFT, GRPO, combined) on a Pekko cluster.",
    subcommands = {BenchCommand.class, CommandLine.HelpCommand.class, CompletionCommand.class},
    footer = {"%nExamples:", "  r1 run recipes/demo/pipeline.yaml", "  r1 validate recipes/demo/sft.yaml --learning_rate 1e-5",
        "  r1 <command> --help"})
public final class R1 implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** {@code --device cpu|cuda[:N]}, accepted by every subcommand: the process's device (see Devices). */
  @CommandLine.Option(names = "--device", paramLabel = "cpu|cuda[:N]", scope = CommandLine.ScopeType.INHERIT,
      description = "where models and tensors live (default: $R1_DEVICE, else cuda:0 when a GPU and CUDA natives"
          + " are present, else cpu; a recipe's use_cpu: true picks cpu unless --device is given)")
  void device(String d) {
    io.r1cluster.core.device.Devices.select(io.r1cluster.core.device.Devices.parse(d, "--device"));
  }

  public static void main(String[] args) {
    System.setProperty("ai.djl.offline", System.getProperty("ai.djl.offline", "true"));
    int rc = commandLine().execute(args);
    System.exit(rc);
  }

  /** The configured command line (also used by tests). */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new R1());
    for (CliCommand c : ServiceLoader.load(CliCommand.class)) {
      Command ann = c.getClass().getAnnotation(Command.class);
      if (ann == null) {
        throw new IllegalStateException(c.getClass() + " lacks @Command");
      }
      cl.addSubcommand(ann.name(), c);
    }
    CliExamples.apply(cl);
    cl.setExecutionExceptionHandler(
        (ex, cmd, parseResult) -> {
          Throwable t = ex;
          while (t != null && !(t instanceof InputException)) {
            t = t.getCause();
          }
          if (t != null) {
            cmd.getErr().println("error: " + t.getMessage());
            return 2;
          }
          throw ex;
        });
    cl.setExitCodeExceptionMapper(ex -> ex instanceof CommandLine.ParameterException ? 2 : 1);
    return cl;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /**
   * {@code r1 --version}: the project version and build time Maven wrote into {@code build.properties}
   * (resource filtering, actors/pom.xml), the Java runtime, and the DJL/PyTorch natives' device.
   */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      java.util.Properties p = new java.util.Properties();
      try (java.io.InputStream in = R1.class.getResourceAsStream("build.properties")) {
        if (in != null) {
          p.load(in);
        }
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("reading build.properties", e);
      }
      String v = p.getProperty("version", "");
      if (v.isEmpty() || v.startsWith("${")) {
        throw new IllegalStateException("build.properties was not filtered by Maven: run mvn package");
      }
      return new String[] {"r1-cluster " + v + " (built " + p.getProperty("built", "?") + ")",
          "Java " + System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")"};
    }
  }
}
