package io.r1cluster.core.model.cli;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.HfCheckpoint;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.device.Devices;
import io.r1cluster.core.model.Qwen2Config;
import io.r1cluster.core.model.Qwen2Model;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1 logits --model DIR --ids 1,2,3[;4,5]}: the float32 logits at the last position of each row,
 * as JSON {@code {"logits": [[…], …]}}. Each row runs on its own (no padding, positions 0..n-1), like
 * {@code model(torch.tensor([row])).logits[0, -1]} in transformers, so parity on a user's own
 * checkpoint is one command on each side ({@code scripts/reference_decoder.py logits} prints the same
 * format from an independent PyTorch implementation).
 */
@Command(name = "logits", mixinStandardHelpOptions = true,
    description = {"Print the last-position logits of each row of token ids as JSON {\"logits\": [[...], ...]}",
        "(float32), to compare a checkpoint with transformers: model(torch.tensor([row])).logits[0, -1]."})
public final class LogitsCommand implements CliCommand {
  @Option(names = "--model", required = true, description = "Hugging Face checkpoint folder (config.json + safetensors)")
  Path model;

  @Option(names = "--ids", required = true,
      description = "token ids: comma-separated, rows separated by ';' (e.g. 1,2,3;4,5)")
  String ids;

  PrintStream out = System.out;

  /** Parses {@code 1,2,3;4,5}; errors name {@code --ids} and the offending item. */
  static List<long[]> parseIds(String spec, int vocab) {
    List<long[]> rows = new ArrayList<>();
    String[] rs = spec.split(";", -1);
    for (int r = 0; r < rs.length; r++) {
      String[] items = rs[r].trim().isEmpty() ? new String[0] : rs[r].split(",", -1);
      if (items.length == 0) {
        throw new InputException(null, 0, "--ids", "row " + (r + 1) + " is empty");
      }
      long[] row = new long[items.length];
      for (int i = 0; i < items.length; i++) {
        try {
          row[i] = Long.parseLong(items[i].trim());
        } catch (NumberFormatException e) {
          throw new InputException(null, 0, "--ids", "row " + (r + 1) + ": '" + items[i].trim() + "' is not an integer");
        }
        if (row[i] < 0 || row[i] >= vocab) {
          throw new InputException(null, 0, "--ids", "row " + (r + 1) + ": id " + row[i]
              + " is outside the vocabulary [0, " + vocab + ")");
        }
      }
      rows.add(row);
    }
    return rows;
  }

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(model)) {
      throw new InputException(model, 0, "--model", "no such checkpoint directory");
    }
    Qwen2Config cfg = Qwen2Config.read(model.resolve(HfCheckpoint.CONFIG_FILE));
    List<long[]> rows = parseIds(ids, cfg.vocabSize());
    ObjectMapper json = new ObjectMapper();
    ObjectNode root = json.createObjectNode();
    ArrayNode all = root.putArray("logits");
    try (Qwen2Model m = Qwen2Model.loadStreaming(model, cfg, Devices.selected(), DataType.FLOAT32)) {
      for (long[] row : rows) {
        try (NDManager scope = m.manager().newSubManager()) {
          long[][] ids2 = {row};
          long[][] seg = {new long[row.length]};
          Arrays.fill(seg[0], 1);
          long[][] pos = {new long[row.length]};
          for (int i = 0; i < row.length; i++) {
            pos[0][i] = i;
          }
          NDArray logits = m.logits(scope, scope.create(ids2), scope.create(seg), scope.create(pos)); // [1,T,V]
          float[] last = logits.get("0, " + (row.length - 1) + ", :").toFloatArray(); // [V]
          ArrayNode a = all.addArray();
          for (float f : last) {
            a.add(f);
          }
        }
      }
    }
    out.println(json.writeValueAsString(root));
    return 0;
  }
}
