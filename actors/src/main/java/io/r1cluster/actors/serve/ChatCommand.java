package io.r1cluster.actors.serve;

import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.device.Devices;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code r1 chat MODEL}: a terminal conversation with a checkpoint. It starts {@code r1 serve} for
 * MODEL on a free loopback port and talks to it over the OpenAI API ({@link ChatSession}); with
 * {@code --url} it talks to a server already running instead.
 */
@Command(name = "chat", mixinStandardHelpOptions = true,
    description = "Talk to a model in the terminal (streams tokens; /reset starts over, /exit quits).")
public final class ChatCommand implements CliCommand {
  @Parameters(index = "0", paramLabel = "MODEL", description = "a checkpoint folder, a cached hub model, or demo")
  String model;

  @Option(names = "--url", paramLabel = "URL", description = "an OpenAI-compatible server's /v1 URL to use instead of starting one")
  String url;

  @Option(names = "--api-key-env", paramLabel = "VAR", description = "with --url: send this environment variable as the API key")
  String apiKeyEnv;

  @Option(names = "--system", paramLabel = "TEXT", description = "a system message opening each conversation")
  String system;

  @Option(names = "--max-tokens", defaultValue = "512", description = "tokens per answer at most (default ${DEFAULT-VALUE})")
  int maxTokens;

  @Option(names = "--temperature", defaultValue = "0.7", description = "sampling temperature (default ${DEFAULT-VALUE})")
  double temperature;

  @Override
  public Integer call() throws Exception {
    if (maxTokens < 1) {
      throw new InputException(null, 0, "--max-tokens", "must be at least 1, got " + maxTokens);
    }
    if (!(temperature >= 0 && temperature <= 2)) {
      throw new InputException(null, 0, "--temperature", "must be in [0, 2], got " + temperature);
    }
    String key = null;
    if (apiKeyEnv != null) {
      key = System.getenv(apiKeyEnv);
      if (key == null || key.isBlank()) {
        throw new InputException(null, 0, "--api-key-env", "environment variable " + apiKeyEnv + " is not set or empty");
      }
    }
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    if (url != null) {
      new ChatSession(url.replaceAll("/+$", ""), new ChatSession.Settings(model, system, maxTokens, temperature, key))
          .run(in, System.out);
      return 0;
    }
    try (Serving s = Serving.start(model, Devices.selected(), Serving.Options.defaults().withPort(0))) {
      int room = s.model().contextLength() / 2;
      new ChatSession(s.baseUrl(), new ChatSession.Settings(s.model().id(), system, Math.min(maxTokens, room),
          temperature, null)).run(in, System.out);
    }
    return 0;
  }
}
