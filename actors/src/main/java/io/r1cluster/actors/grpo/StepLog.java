package io.r1cluster.actors.grpo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.data.ScoredGroup;
import io.r1cluster.core.train.JsonLines;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code output_dir/steps.jsonl}: what each optimizer step trained, read off the batch the learner
 * stepped on (the groups' prompt ids and policy versions), one line per step, appended and flushed
 * before the step is reported. It is an audit trail, not state: nothing reads it to resume, and it
 * is never rewritten. A resumed learner appends its own lines (a new {@code run} id, its first
 * {@code step} one past the checkpoint it resumed from), so a line for step {@code s} supersedes
 * every earlier line for steps {@code >= s}; the steps of the final weights are the last line of each
 * step number after that rule. Exactly-once tests count prompts here, independently of the
 * prompt ledger's own counters.
 *
 * <p>Fields: {@code run}, {@code step}, {@code version} (after the step), {@code prompt_ids} (one per
 * trained group, in batch order), {@code group_versions} (the policy version each group was sampled
 * from), {@code keys} and {@code filtered_keys} (the ledger's (epoch, prompt) keys, for diagnosis).
 */
final class StepLog implements AutoCloseable {
  /** The file's name in the output folder. */
  static final String FILE = "steps.jsonl";
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String runId;
  private final JsonLines out;

  /** Opens {@code dir/steps.jsonl} for appending; a torn last line (a writer killed mid-line) is cut off first. */
  StepLog(Path dir, String runId) {
    this.runId = runId;
    this.out = JsonLines.open(dir.resolve(FILE), JsonLines.KEEP_ALL);
  }

  void step(int step, long version, List<ScoredGroup> groups, long[] keys, long[] filteredKeys) {
    ObjectNode n = JSON.createObjectNode();
    n.put("run", runId);
    n.put("step", step);
    n.put("version", version);
    ArrayNode ids = n.putArray("prompt_ids");
    ArrayNode versions = n.putArray("group_versions");
    for (ScoredGroup g : groups) {
      ids.add(g.group().prompt().id());
      versions.add(g.group().policyVersion());
    }
    ArrayNode k = n.putArray("keys");
    for (long key : keys == null ? new long[0] : keys) {
      k.add(key);
    }
    ArrayNode f = n.putArray("filtered_keys");
    for (long key : filteredKeys == null ? new long[0] : filteredKeys) {
      f.add(key);
    }
    out.append(n);
  }

  @Override
  public void close() {
    out.close();
  }
}
