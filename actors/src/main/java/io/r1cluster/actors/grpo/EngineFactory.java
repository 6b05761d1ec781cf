package io.r1cluster.actors.grpo;

import com.typesafe.config.Config;
import io.r1cluster.actors.transport.AeronSettings;
import io.r1cluster.actors.transport.EmbeddedAeron;
import io.r1cluster.actors.transport.WeightChannels;
import io.r1cluster.actors.transport.WeightReceiver;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.tokenizer.ChatTemplate;
import io.r1cluster.core.tokenizer.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Builds a node's {@link RolloutEngine} from a {@link RunSpec} (blocking: run it on the io dispatcher). */
final class EngineFactory {
  private EngineFactory() {}

  /** Config key: the devices of this node's rollout engine ({@code r1 member --gpus} sets it); empty = the process's device. */
  static final String DEVICES = "r1.grpo.rollout.devices";

  /** The node's generation devices: {@value #DEVICES}, else the process's device (Devices.selected()). */
  static java.util.List<ai.djl.Device> devices(Config config) {
    if (!config.hasPath(DEVICES) || config.getStringList(DEVICES).isEmpty()) {
      return java.util.List.of(io.r1cluster.core.device.Devices.selected());
    }
    return config.getStringList(DEVICES).stream()
        .map(d -> io.r1cluster.core.device.Devices.require(io.r1cluster.core.device.Devices.parse(d, DEVICES), DEVICES))
        .toList();
  }

  static RolloutEngine build(RunSpec spec, String host, Config config) {
    Path dir;
    try {
      dir = Files.createTempDirectory("r1-run-" + spec.runId().replaceAll("[^A-Za-z0-9_-]", "_") + "-");
      Files.writeString(dir.resolve("config.json"), spec.configJson(), StandardCharsets.UTF_8);
      for (Map.Entry<String, String> f : spec.tokenizerFiles().entrySet()) {
        Files.writeString(dir.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing the run's model files", e);
    }
    Qwen2Config cfg = Qwen2Config.read(dir.resolve("config.json"));
    Tokenizer tok = Tokenizer.load(dir);
    ChatTemplate template = (spec.chatTemplate() == null ? tok.chatTemplate() : tok.chatTemplate(spec.chatTemplate()))
        .withKwargs(spec.chatTemplateKwargs());
    AeronSettings as = AeronSettings.fromConfig(config);
    RunSpec.WeightSource w = spec.weights();
    EmbeddedAeron aeron;
    String channel;
    if (w.transport().equals("IPC")) {
      aeron = EmbeddedAeron.launch(as.withExternalDir(w.aeronDir()));
      channel = WeightChannels.ipc(as);
    } else {
      aeron = EmbeddedAeron.launch(as);
      channel = WeightChannels.udpSubscription(as, host + ":0", w.controlEndpoint());
    }
    WeightReceiver receiver = WeightReceiver.create(aeron.aeron(), channel, as, w.publisherId()).start();
    return new RolloutEngine(cfg, tok, template, spec.sampling(), receiver, aeron, devices(config));
  }
}
