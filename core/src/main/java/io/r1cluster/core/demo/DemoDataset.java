package io.r1cluster.core.demo;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Random;

/**
 * Writes the demo dataset in Hugging Face layout:
 *
 * <pre>
 * DIR/train.jsonl        id, task, problem, solution, prompt, completion, messages, teacher_correct
 * DIR/test.jsonl         id, task, problem, solution, prompt
 * DIR/dataset_info.json  what was generated, with which settings, and the teacher's measured accuracy
 * </pre>
 *
 * {@code prompt}/{@code completion} are conversational (lists of {role, content}); {@code messages}
 * is the whole conversation; {@code solution} is the gold answer. Same options → same bytes.
 */
public final class DemoDataset {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * Generation options.
   *
   * @param train rows in the train split
   * @param test rows in the test split
   * @param seed seed of problems and teacher slips
   * @param errorRate the teacher's error rate
   * @param digits largest operand size
   * @param tasks problem kinds
   */
  public record Options(int train, int test, long seed, double errorRate, int digits, List<DemoTask> tasks) {
    public Options {
      tasks = List.copyOf(tasks);
    }

    /** 2000 train / 200 test rows, seed 42, error rate 0.3, two-digit operands, all tasks. */
    public static Options defaults() {
      return new Options(2000, 200, 42, 0.3, 2, List.of(DemoTask.values()));
    }
  }

  /**
   * What was written.
   *
   * @param train train split file
   * @param test test split file
   * @param teacherAccuracy fraction of train traces with the correct answer
   * @param maxThinkingChars longest thinking text
   */
  public record Summary(Path train, Path test, double teacherAccuracy, int maxThinkingChars) {}

  private DemoDataset() {}

  /** Generates and writes both splits and {@code dataset_info.json} into {@code dir} (created if needed). */
  public static Summary write(Path dir, Options o) {
    try {
      Files.createDirectories(dir);
      // the held-out split first: distinct problems, every task in its share; then the training rows,
      // drawn with repetition (a task with few distinct problems, like 2-digit x 1-digit, still gets
      // its share) and never a test problem
      DemoGenerator gen = new DemoGenerator(o.tasks(), o.digits());
      List<DemoProblem> testSplit = gen.generate(o.seed(), List.of("test"), o.test()).get(0);
      java.util.Set<String> held = new java.util.HashSet<>();
      testSplit.forEach(p -> held.add(p.problem()));
      List<List<DemoProblem>> splits = List.of(gen.sample(o.seed() + 1, "train", o.train(), held), testSplit);
      Teacher teacher = new Teacher(o.errorRate());
      Random slips = new Random(o.seed() * 31 + 7);
      Path train = dir.resolve("train.jsonl");
      Path test = dir.resolve("test.jsonl");
      int correct = 0;
      int maxThink = 0;
      Path tmp = Files.createTempFile(dir, ".train", ".tmp");
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        for (DemoProblem p : splits.get(0)) {
          Trace t = teacher.solve(p, slips);
          correct += t.correct() ? 1 : 0;
          maxThink = Math.max(maxThink, t.thinking().length());
          ObjectNode row = base(p);
          ArrayNode prompt = row.putArray("prompt");
          prompt.add(message("user", p.problem()));
          ArrayNode completion = row.putArray("completion");
          completion.add(message("assistant", t.completion()));
          ArrayNode messages = row.putArray("messages");
          messages.add(message("user", p.problem()));
          messages.add(message("assistant", t.completion()));
          row.put("teacher_correct", t.correct());
          w.write(JSON.writeValueAsString(row));
          w.newLine();
        }
      }
      Files.move(tmp, train, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      tmp = Files.createTempFile(dir, ".test", ".tmp");
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        for (DemoProblem p : splits.get(1)) {
          ObjectNode row = base(p);
          row.putArray("prompt").add(message("user", p.problem()));
          w.write(JSON.writeValueAsString(row));
          w.newLine();
        }
      }
      Files.move(tmp, test, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      double acc = o.train() == 0 ? 1.0 : correct / (double) o.train();
      ObjectNode info = JSON.createObjectNode();
      info.put("description", "r1-cluster demo task: short arithmetic and linear-equation problems with gold"
          + " answers; train completions are R1-style traces from a programmatic teacher with a set error rate");
      info.put("seed", o.seed());
      info.put("error_rate", o.errorRate());
      info.put("digits", o.digits());
      ArrayNode tasks = info.putArray("tasks");
      o.tasks().forEach(t -> tasks.add(t.name().toLowerCase(java.util.Locale.ROOT)));
      ObjectNode sp = info.putObject("splits");
      sp.putObject("train").put("num_examples", o.train()).put("file", "train.jsonl");
      sp.putObject("test").put("num_examples", o.test()).put("file", "test.jsonl");
      info.put("teacher_accuracy_train", acc);
      info.put("max_thinking_chars", maxThink);
      ArrayNode cols = info.putArray("columns");
      for (String c : List.of("id", "task", "problem", "solution", "prompt", "completion", "messages", "teacher_correct")) {
        cols.add(c);
      }
      info.put("format", "<think>\\n…\\n</think>\\n<answer>\\n…\\n</answer>");
      Files.writeString(dir.resolve("dataset_info.json"),
          JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(info) + "\n");
      return new Summary(train, test, acc, maxThink);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static ObjectNode base(DemoProblem p) {
    ObjectNode row = JSON.createObjectNode();
    row.put("id", p.id());
    row.put("task", p.task().name().toLowerCase(java.util.Locale.ROOT));
    row.put("problem", p.problem());
    row.put("solution", p.answer());
    return row;
  }

  private static ObjectNode message(String role, String content) {
    ObjectNode m = JSON.createObjectNode();
    m.put("role", role);
    m.put("content", content);
    return m;
  }

  /**
   * Writes the demo dataset to the recipe's {@code dataset_name} folder when the recipe sets
   * {@code demo_data_train} and the folder has no {@code train.jsonl} yet (seeded by {@code seed};
   * {@code demo_data_test} test rows and {@code demo_data_error_rate}, defaults from the recipe key table).
   */
  public static void ensure(io.r1cluster.core.recipe.RecipeSettings settings, Path recipeFile, java.io.PrintStream log) {
    io.r1cluster.core.recipe.Value v = settings.values().get("demo_data_train");
    String ds = settings.data().datasetName();
    if (v == null || v.value() == null || ds == null) {
      return;
    }
    if (java.nio.file.Files.exists(Path.of(ds).resolve("train.jsonl"))) {
      checkWrittenFor(settings, recipeFile, Path.of(ds));
      return;
    }
    Options d = Options.defaults();
    io.r1cluster.core.recipe.Value t = settings.values().get("demo_data_test");
    int test = t == null || t.value() == null ? ((Number) recipeDefault("demo_data_test", settings)).intValue()
        : ((Number) t.value()).intValue();
    int train = ((Number) v.value()).intValue();
    if (train < 1 || test < 1) {
      boolean bad = train < 1;
      throw new io.r1cluster.core.InputException(recipeFile, bad ? v.line() : t.line(),
          bad ? "demo_data_train" : "demo_data_test", "must be at least 1, got " + (bad ? train : test));
    }
    io.r1cluster.core.recipe.Value e = settings.values().get("demo_data_error_rate");
    double rate = e == null || e.value() == null ? ((Number) recipeDefault("demo_data_error_rate", settings)).doubleValue()
        : ((Number) e.value()).doubleValue();
    if (!(rate >= 0 && rate <= 1)) {
      throw new io.r1cluster.core.InputException(recipeFile, e.line(), "demo_data_error_rate", "must be in [0, 1], got " + rate);
    }
    Summary s = write(Path.of(ds), new Options(train, test, settings.training().seed(),
        rate, d.digits(), d.tasks()));
    log.printf("wrote the demo dataset to %s (teacher accuracy %.3f)%n", ds, s.teacherAccuracy());
  }

  /**
   * A demo dataset already in the folder must be the one the recipe asks for: the same {@code seed},
   * {@code demo_data_train} and {@code demo_data_error_rate} (per its {@code dataset_info.json}).
   * Otherwise a second seed run with a shared {@code dataset_name} would silently train and
   * evaluate on the first seed's data.
   */
  private static void checkWrittenFor(io.r1cluster.core.recipe.RecipeSettings settings, Path recipeFile, Path dir) {
    Path info = dir.resolve("dataset_info.json");
    if (!java.nio.file.Files.isRegularFile(info)) {
      return; // not written by us: the user's own data under the demo keys
    }
    com.fasterxml.jackson.databind.JsonNode n;
    try {
      n = JSON.readTree(info.toFile());
    } catch (java.io.IOException e) {
      return; // unreadable metadata: the data itself is checked by the dataset loaders
    }
    long seed = settings.training().seed();
    io.r1cluster.core.recipe.Value e = settings.values().get("demo_data_error_rate");
    double rate = e == null || e.value() == null ? ((Number) recipeDefault("demo_data_error_rate", settings)).doubleValue() : ((Number) e.value()).doubleValue();
    long train = ((Number) settings.values().get("demo_data_train").value()).longValue();
    long haveTrain = n.path("splits").path("train").path("num_examples").asLong(-1);
    String want = String.format(java.util.Locale.ROOT, "seed %d, %d training rows, error rate %s", seed, train, rate);
    String have = String.format(java.util.Locale.ROOT, "seed %d, %d training rows, error rate %s", n.path("seed").asLong(),
        haveTrain, n.path("error_rate").asDouble());
    if (n.path("seed").asLong() != seed || haveTrain != train || n.path("error_rate").asDouble() != rate) {
      io.r1cluster.core.recipe.Value at = settings.values().get("dataset_name");
      throw new io.r1cluster.core.InputException(recipeFile, at == null ? 0 : at.line(), "dataset_name",
          dir + " holds the demo data of " + have + ", but this recipe asks for " + want
              + ": point dataset_name at another folder (e.g. --dataset_name " + dir + "-seed" + seed + ") or delete it");
    }
  }

  private static Object recipeDefault(String key, io.r1cluster.core.recipe.RecipeSettings settings) {
    return io.r1cluster.core.recipe.RecipeKeys.defaultFor(key, settings.kind());
  }
}
