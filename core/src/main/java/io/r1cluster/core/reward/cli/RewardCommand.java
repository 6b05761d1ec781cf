package io.r1cluster.core.reward.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.reward.RewardFunction;
import io.r1cluster.core.reward.RewardInput;
import io.r1cluster.core.reward.RewardRegistry;
import java.io.BufferedReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code r1 reward --jsonl FILE}: scores lines {@code {"reward":NAME, "completions":[…],
 * "solution":[…]|null, "verification_info":[…]|null, "completion_ids":[[…]], "kwargs":{…}}} and
 * writes {@code {"scores":[…]}} per line (null = no score), in order.
 *
 * <p>{@code verification_info} is open-r1's code-reward column, one entry per completion: an object
 * {@code {"language":"python","test_cases":[{"input":…,"output":…}]}} or the same as a JSON string
 * (as the open-r1 datasets store it).
 */
@Command(name = "reward", mixinStandardHelpOptions = true,
    description = "Score completions with an open-r1 reward function; one {\"scores\":[…]} line per input line.")
public final class RewardCommand implements CliCommand {
  @Option(names = "--jsonl", required = true, paramLabel = "FILE", description = "JSON Lines input") Path jsonl;

  @Override
  public Integer call() throws Exception {
    ObjectMapper json = new ObjectMapper();
    record Job(RewardFunction fn, RewardInput in) {}
    List<Job> jobs = new ArrayList<>();
    int lineNo = 0;
    try (BufferedReader r = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
      for (String line; (line = r.readLine()) != null; ) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = json.readTree(line);
        } catch (Exception e) {
          throw new InputException(jsonl, lineNo, null, "malformed JSON line");
        }
        if (n == null || !n.path("reward").isTextual() || !n.path("completions").isArray()) {
          throw new InputException(jsonl, lineNo, "reward/completions", "needs \"reward\" (string) and \"completions\" (array)");
        }
        List<String> completions = new ArrayList<>();
        for (JsonNode c : n.get("completions")) {
          if (!c.isTextual()) {
            throw new InputException(jsonl, lineNo, "completions", "entry " + (completions.size() + 1)
                + " is not a string: " + c.getNodeType().toString().toLowerCase(java.util.Locale.ROOT));
          }
          completions.add(c.asText());
        }
        Map<String, List<Object>> cols = new HashMap<>();
        JsonNode sol = n.get("solution");
        if (sol != null && sol.isArray()) {
          if (sol.size() != completions.size()) {
            throw new InputException(jsonl, lineNo, "solution", sol.size() + " entries for " + completions.size() + " completions");
          }
          List<Object> s = new ArrayList<>();
          sol.forEach(x -> s.add(x.isNull() ? null : x.asText()));
          cols.put("solution", s);
        }
        JsonNode info = n.get("verification_info");
        if (info != null && !info.isNull()) {
          if (!info.isArray() || info.size() != completions.size()) {
            throw new InputException(jsonl, lineNo, "verification_info",
                "needs an array with one entry per completion (" + completions.size() + ")");
          }
          List<Object> v = new ArrayList<>();
          int row = 0;
          for (JsonNode x : info) {
            row++;
            JsonNode obj;
            try {
              obj = x.isTextual() ? json.readTree(x.asText()) : x;
            } catch (Exception e) {
              throw new InputException(jsonl, lineNo, "verification_info", "entry " + row + " is not JSON");
            }
            if (x.isNull()) {
              v.add(null);
              continue;
            }
            if (obj == null || !obj.path("test_cases").isArray()) {
              throw new InputException(jsonl, lineNo, "verification_info",
                  "entry " + row + " needs {\"language\":…, \"test_cases\":[{\"input\":…, \"output\":…}]}");
            }
            v.add(json.writeValueAsString(obj));
          }
          cols.put("verification_info", v);
        }
        List<int[]> ids = null;
        JsonNode idsNode = n.get("completion_ids");
        if (idsNode != null && !idsNode.isNull()) {
          if (!idsNode.isArray() || idsNode.size() != completions.size()) {
            throw new InputException(jsonl, lineNo, "completion_ids",
                "needs an array with one list of token ids per completion (" + completions.size() + ")");
          }
          ids = new ArrayList<>();
          for (JsonNode row : idsNode) {
            if (!row.isArray()) {
              throw new InputException(jsonl, lineNo, "completion_ids", "entry " + (ids.size() + 1) + " is not a list");
            }
            int[] a = new int[row.size()];
            for (int i = 0; i < a.length; i++) {
              JsonNode t = row.get(i);
              if (!t.isIntegralNumber() || !t.canConvertToInt() || t.asInt() < 0) {
                throw new InputException(jsonl, lineNo, "completion_ids", "entry " + (ids.size() + 1)
                    + ", position " + (i + 1) + ": token ids are non-negative integers, got " + t);
              }
              a[i] = t.asInt();
            }
            ids.add(a);
          }
        }
        JsonNode kw = n.get("kwargs");
        if (kw != null && !kw.isNull() && !kw.isObject()) {
          throw new InputException(jsonl, lineNo, "kwargs", "needs an object {\"name\": value, …}");
        }
        Map<String, Object> kwargs = kw != null && kw.isObject() ? json.convertValue(kw, LinkedHashMap.class) : Map.of();
        RewardFunction fn;
        try {
          fn = RewardRegistry.create(List.of(n.get("reward").asText()), kwargs).get(0);
        } catch (InputException e) {
          throw new InputException(jsonl, lineNo, e.key(), e.detail());
        }
        jobs.add(new Job(fn, new RewardInput(completions, ids, cols)));
      }
    }
    StringBuilder out = new StringBuilder();
    for (Job j : jobs) {
      float[] s = j.fn().score(j.in());
      List<Object> row = new ArrayList<>();
      for (float x : s) {
        row.add(Float.isNaN(x) ? null : (Object) (double) x);
      }
      out.append(json.writeValueAsString(Map.of("scores", row))).append('\n');
    }
    System.out.print(out);
    System.out.flush();
    return 0;
  }
}
