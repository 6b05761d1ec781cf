package io.r1cluster.core.grpo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.data.TrainBatch;
import io.r1cluster.core.train.JsonLines;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

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
 * minus the version that generated the group. A step's rows are appended in one write ({@link JsonLines}),
 * so a resumed run continues the file: opening it cuts a row torn by a kill and drops the rows of steps
 * after the checkpoint the run resumes from, which it logs again.
 */
public final class CompletionLog implements AutoCloseable {
  public static final String FILE = "completions.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final JsonLines out;

  /**
   * Appends to {@code dir/completions.jsonl}, keeping the rows of steps up to {@code keepUpToStep} (the
   * checkpoint a resumed run starts from; 0 for a fresh run).
   */
  public CompletionLog(Path dir, long keepUpToStep) {
    out = JsonLines.open(dir.resolve(FILE), keepUpToStep);
  }

  /** Writes the completions of {@code batch}, trained at {@code step} (1-based) by the policy at {@code learnerVersion}. */
  public void log(long step, TrainBatch batch, long learnerVersion) {
    List<ObjectNode> rows = new ArrayList<>();
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
        rows.add(row);
      }
    }
    out.appendAll(rows);
  }

  @Override
  public void close() {
    out.close();
  }
}
