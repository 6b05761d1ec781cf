package io.r1cluster.core.grpo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * TRL's {@code log_completions}: at logging steps, every completion the step trained on, one JSON line
 * each in {@code completions.jsonl} of the output folder:
 *
 * <pre>
 *   {"step": 10, "prompt_id": "…", "prompt": "…", "completion": "…",
 *    "rewards": {"accuracy": 1.0, "format": 1.0}, "reward": 1.2, "advantage": 0.87,
 *    "policy_version": 9, "staleness": 0}
 * </pre>
 *
 * {@code prompt} is the last user message (the problem); {@code staleness} is the learner's version
 * minus the version that generated the group. Lines are appended and flushed per step, so a resumed run
 * continues the file; rows of steps after a resumed run's checkpoint are written again by that run.
 */
public final class CompletionLog implements AutoCloseable {
  public static final String FILE = "completions.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final BufferedWriter out;

  /** Appends to {@code dir/completions.jsonl}. */
  public CompletionLog(Path dir) {
    try {
      Files.createDirectories(dir);
      out = Files.newBufferedWriter(dir.resolve(FILE), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("opening " + dir.resolve(FILE), e);
    }
  }

  /** Writes the completions of {@code batch}, trained at {@code step} (1-based) by the policy at {@code learnerVersion}. */
  public void log(long step, TrainBatch batch, long learnerVersion) {
    try {
      for (int g = 0; g < batch.groups().size(); g++) {
        ScoredGroup sg = batch.groups().get(g);
        float[] adv = batch.advantages().get(g);
        var msgs = sg.group().prompt().messages();
        String prompt = msgs.isEmpty() ? "" : msgs.get(msgs.size() - 1).content();
        for (int j = 0; j < sg.group().size(); j++) {
          Completion c = sg.group().completions().get(j);
          ObjectNode row = JSON.createObjectNode();
          row.put("step", step);
          row.put("prompt_id", sg.group().prompt().id());
          row.put("prompt", prompt);
          row.put("completion", c.text());
          ObjectNode rw = row.putObject("rewards");
          for (int f = 0; f < sg.rewardNames().size(); f++) {
            rw.put(sg.rewardNames().get(f), sg.rewards()[j][f]);
          }
          row.put("reward", sg.total()[j]);
          row.put("advantage", adv[j]);
          row.put("policy_version", sg.group().policyVersion());
          row.put("staleness", learnerVersion - sg.group().policyVersion());
          out.write(JSON.writeValueAsString(row));
          out.newLine();
        }
      }
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + FILE, e);
    }
  }

  @Override
  public void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
