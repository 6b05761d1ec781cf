package io.r1cluster.core.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import io.r1cluster.core.data.Prompt;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Benchmarks whose data ships inside the jar ({@code resources/io/r1cluster/core/eval/benchmarks/},
 * with their source and licence beside them), with the generation settings open-r1 evaluates them
 * with (its README's lighteval command: {@code max_new_tokens 32768, temperature 0.6, top_p 0.95},
 * lighteval's {@code math_500} task: one sample per problem, pass@1).
 *
 * <p>Each problem becomes one user turn: the problem, a newline, then {@link #INSTRUCTION}
 * (DeepSeek-R1's recommended directive for maths, as open-r1 uses it). The gold answer is the
 * row's {@code answer} column in {@code \boxed{}}, checked by our verifier
 * ({@code accuracy} reward, {@link io.r1cluster.core.verify.MathVerifier}).
 */
public enum Benchmark {
  /** The 500-problem MATH test split of "Let's Verify Step by Step" (openai/prm800k, MIT). */
  MATH500("math500", "benchmarks/math500.jsonl", 500);

  /** The directive appended to every problem. */
  public static final String INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}.";
  /** open-r1's lighteval generation settings. */
  public static final int MAX_NEW_TOKENS = 32768;
  public static final double TEMPERATURE = 0.6;
  public static final double TOP_P = 0.95;

  private static final ObjectMapper JSON = new ObjectMapper();
  private final String id;
  private final String resource;
  private final int size;

  Benchmark(String id, String resource, int size) {
    this.id = id;
    this.resource = resource;
    this.size = size;
  }

  public String id() {
    return id;
  }

  /** A benchmark by its command-line name; an unknown name is an {@link InputException} listing the known ones. */
  public static Benchmark of(String name) {
    for (Benchmark b : values()) {
      if (b.id.equals(name.toLowerCase(Locale.ROOT).replace("-", "").replace("_", ""))) {
        return b;
      }
    }
    throw new InputException(null, 0, "--benchmark", "unknown benchmark '" + name + "' (known: "
        + String.join(", ", Arrays.stream(values()).map(Benchmark::id).toList()) + ")");
  }

  /** The benchmark's prompts, in file order; ids are the rows' {@code unique_id}. */
  public List<Prompt> prompts() {
    List<Prompt> out = new ArrayList<>(size);
    try (InputStream in = Benchmark.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("benchmark data " + resource + " is missing from the jar");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode row = JSON.readTree(line);
        String problem = row.path("problem").asText(null);
        String answer = row.path("answer").asText(null);
        if (problem == null || answer == null) {
          throw new IllegalStateException(resource + ":" + n + ": no problem or answer");
        }
        out.add(new Prompt(row.path("unique_id").asText(id + "-" + n),
            List.of(new io.r1cluster.core.data.ChatMessage("user", problem + "\n" + INSTRUCTION)),
            "\\boxed{" + answer + "}", Map.of("subject", row.path("subject").asText(""), "level", row.path("level").asInt())));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + resource, e);
    }
    if (out.size() != size) {
      throw new IllegalStateException(resource + " has " + out.size() + " problems, expected " + size);
    }
    return out;
  }
}
