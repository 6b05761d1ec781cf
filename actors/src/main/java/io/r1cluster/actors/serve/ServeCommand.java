package io.r1cluster.actors.serve;

import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.device.Devices;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code r1 serve MODEL [--host H] [--port P] [--api-key-env VAR] [--device D]}: the OpenAI-compatible
 * API for one model until SIGTERM / Ctrl-C (see {@link OpenAiServer} for the routes).
 */
@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve a model over the OpenAI API (/v1/chat/completions, /v1/completions, /v1/models, /health).")
public final class ServeCommand implements CliCommand {
  @Parameters(index = "0", paramLabel = "MODEL", description = "a checkpoint folder, a model in the Hugging Face cache, or demo")
  String model;

  @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE}; 0.0.0.0 for all)")
  String host;

  @Option(names = "--port", defaultValue = "8000", description = "TCP port (default ${DEFAULT-VALUE}; 0: any free port)")
  int port;

  @Option(names = "--api-key-env", paramLabel = "VAR",
      description = "require 'Authorization: Bearer KEY' where KEY is this environment variable's value")
  String apiKeyEnv;

  @Option(names = "--served-model-name", paramLabel = "NAME", description = "the model id clients send (default: MODEL)")
  String servedName;

  @Option(names = "--max-rows", defaultValue = "64", description = "sequences decoded together (default ${DEFAULT-VALUE})")
  int maxRows;

  @Option(names = "--max-waiting", defaultValue = "256",
      description = "sequences queued beyond those before requests get 429 (default ${DEFAULT-VALUE})")
  int maxWaiting;

  @Option(names = "--max-model-len", defaultValue = "0",
      description = "prompt + completion tokens at most (default: the model's context length, at most 4096)")
  int maxModelLen;

  @Option(names = "--seed", defaultValue = "0", description = "weights of the demo model (default ${DEFAULT-VALUE})")
  long seed;

  @Override
  public Integer call() throws Exception {
    Serving.Options o = options(host, port, apiKeyEnv, servedName, maxRows, maxWaiting, maxModelLen, seed);
    Serving s = Serving.start(model, Devices.selected(), o);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      s.close();
      stopped.countDown();
    }, "r1-serve-shutdown"));
    System.out.printf("serving %s on %s (OpenAI API%s); Ctrl-C stops%n", s.model().id(), s.baseUrl(),
        o.apiKey() == null ? "" : ", API key from $" + apiKeyEnv);
    System.out.printf("try: curl %s/chat/completions -H 'Content-Type: application/json' -d '{\"model\": \"%s\","
        + " \"messages\": [{\"role\": \"user\", \"content\": \"What is 2+3?\"}], \"max_tokens\": 32}'%n",
        s.baseUrl(), s.model().id());
    stopped.await();
    return 0;
  }

  /** Validated options (bad values: InputException naming the option, exit 2). */
  static Serving.Options options(String host, int port, String apiKeyEnv, String servedName, int maxRows, int maxWaiting,
      int maxModelLen, long seed) {
    if (port < 0 || port > 65535) {
      throw new InputException(null, 0, "--port", "must be in [0, 65535], got " + port);
    }
    if (maxRows < 1) {
      throw new InputException(null, 0, "--max-rows", "must be at least 1, got " + maxRows);
    }
    if (maxWaiting < 0) {
      throw new InputException(null, 0, "--max-waiting", "must be at least 0, got " + maxWaiting);
    }
    if (maxModelLen < 0 || maxModelLen == 1) {
      throw new InputException(null, 0, "--max-model-len", "must be 0 (the model's) or at least 2, got " + maxModelLen);
    }
    String key = null;
    if (apiKeyEnv != null) {
      key = System.getenv(apiKeyEnv);
      if (key == null || key.isBlank()) {
        throw new InputException(null, 0, "--api-key-env", "environment variable " + apiKeyEnv + " is not set or empty");
      }
    }
    return new Serving.Options(host, port, key, servedName, maxRows, maxWaiting, maxModelLen, seed);
  }
}
