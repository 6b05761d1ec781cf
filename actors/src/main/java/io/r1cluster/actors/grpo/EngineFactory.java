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

  /** Config key: sequences each device's batch runs at once (default {@value RolloutEngine#DEFAULT_BATCH_ROWS}). */
  static final String BATCH_ROWS = "r1.grpo.rollout.batch-rows";

  /** Config key: swap weights between token steps without draining the batch (PipelineRL); default off. */
  static final String INFLIGHT = "r1.grpo.rollout.inflight-weight-update";

  static int batchRows(Config config) {
    int rows = config.hasPath(BATCH_ROWS) ? config.getInt(BATCH_ROWS) : RolloutEngine.DEFAULT_BATCH_ROWS;
    if (rows < 1) {
      throw new IllegalArgumentException(BATCH_ROWS + " must be at least 1, got " + rows);
    }
    return rows;
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
    WeightReceiver receiver = WeightReceiver.create(aeron.aeron(), channel, as, w.publisherId(), w.weightKey());
    receiver.announced(w.version()); // the spec names the newest version published when it was sent
    receiver.start();
    return new RolloutEngine(cfg, tok, template, spec.sampling(), receiver, aeron, devices(config), batchRows(config),
        spec.inflightWeightUpdate() || (config.hasPath(INFLIGHT) && config.getBoolean(INFLIGHT)));
  }
}
