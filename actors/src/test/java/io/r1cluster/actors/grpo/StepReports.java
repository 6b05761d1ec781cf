package io.r1cluster.actors.grpo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.recipe.RecipeSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Exactly-once, counted from the learner's own step reports ({@code output_dir/steps.jsonl}, the
 * prompt ids of the groups each optimizer step trained on) and the dataset, never from the prompt
 * ledger's counters. Across learner lifetimes (a resumed run appends its lines): a line for step
 * {@code s} supersedes every earlier line for steps {@code >= s} (those steps were rolled back to the
 * checkpoint), so what remains is the history of the final weights.
 */
public final class StepReports {
  private StepReports() {}

  /** The lines that make up the final weights' history, by step. */
  public static TreeMap<Integer, JsonNode> effective(Path outputDir) throws IOException {
    TreeMap<Integer, JsonNode> steps = new TreeMap<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(outputDir.resolve("steps.jsonl"))) {
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = json.readTree(line);
      int s = n.get("step").asInt();
      steps.tailMap(s, true).clear();
      steps.put(s, n);
    }
    return steps;
  }

  /** Learner lifetimes that wrote steps.jsonl, in order of their first line. */
  public static List<String> runs(Path outputDir) throws IOException {
    List<String> runs = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (String line : Files.readAllLines(outputDir.resolve("steps.jsonl"))) {
      String r = json.readTree(line).get("run").asText();
      if (!runs.contains(r)) {
        runs.add(r);
      }
    }
    return runs;
  }

  /** The prompt ids of the run's training split, as the dataset has them. */
  public static List<String> promptIds(RecipeSettings s) {
    return Datasets.prompts(s.data(), s.data().trainSplit()).items().stream().map(Prompt::id).toList();
  }

  /**
   * Asserts that steps 1..{@code steps} each appear once in the final history and that every prompt of
   * {@code promptIds} was trained exactly {@code epochs} times over them (and nothing else was).
   */
  public static void assertEachPromptTrained(Path outputDir, List<String> promptIds, int epochs, int steps)
      throws IOException {
    TreeMap<Integer, JsonNode> h = effective(outputDir);
    assertEquals(steps, h.size(), "steps in the final history: " + h.keySet());
    assertEquals(1, h.firstKey());
    assertEquals(steps, h.lastKey());
    Map<String, Integer> count = new TreeMap<>();
    for (JsonNode n : h.values()) {
      for (JsonNode id : n.get("prompt_ids")) {
        count.merge(id.asText(), 1, Integer::sum);
      }
    }
    for (String id : promptIds) {
      assertEquals(epochs, count.getOrDefault(id, 0), "prompt " + id + " trained " + epochs + "x; counts " + count);
    }
    assertTrue(promptIds.containsAll(count.keySet()), "only the dataset's prompts were trained: " + count.keySet());
  }

  /**
   * Asserts that steps 1..{@code steps} each appear once in the final history, each trained on
   * {@code perStep} groups, and that no prompt was trained twice (runs that stop before an epoch ends).
   */
  public static void assertNoPromptTwice(Path outputDir, int steps, int perStep) throws IOException {
    TreeMap<Integer, JsonNode> h = effective(outputDir);
    assertEquals(steps, h.size(), "steps in the final history: " + h.keySet());
    assertEquals(steps, h.lastKey());
    Map<String, Integer> count = new TreeMap<>();
    for (JsonNode n : h.values()) {
      assertEquals(perStep, n.get("prompt_ids").size(), "groups in step " + n.get("step") + ": " + n);
      for (JsonNode id : n.get("prompt_ids")) {
        count.merge(id.asText(), 1, Integer::sum);
      }
    }
    assertEquals(steps * perStep, count.size(), "distinct prompts trained: " + count);
  }

  /** The prompt ids the final weights were trained on, sorted (a prompt trained twice appears twice). */
  public static List<String> trainedPromptIds(Path outputDir) throws IOException {
    List<String> ids = new ArrayList<>();
    for (JsonNode n : effective(outputDir).values()) {
      n.get("prompt_ids").forEach(id -> ids.add(id.asText()));
    }
    ids.sort(null);
    return ids;
  }
}
