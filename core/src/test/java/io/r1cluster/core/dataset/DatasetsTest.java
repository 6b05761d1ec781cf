package io.r1cluster.core.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.data.ChatMessage;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.recipe.DataSettings;
import io.r1cluster.core.recipe.DatasetMixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class DatasetsTest {
  @TempDir Path dir;

  private static DataSettings data(String name, String config, String promptColumn, String system, boolean skip) {
    return new DataSettings(name, config, "train", "test", promptColumn, system, null, skip);
  }

  private static String problemRow(int i) {
    return "{\"id\": \"p" + i + "\", \"problem\": \"What is " + i + " + 1?\", \"solution\": \"" + (i + 1)
        + "\", \"level\": " + (i % 3) + "}";
  }

  private Path jsonl(Path file, List<String> lines) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, lines);
    return file;
  }

  private static void parquet(Path file, String select) throws SQLException, IOException {
    Files.createDirectories(file.getParent());
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:"); Statement s = c.createStatement()) {
      s.execute("COPY (" + select + ") TO '" + file.toAbsolutePath() + "' (FORMAT parquet)");
    }
  }

  @Test
  void jsonlFolderWithSplitsAndProblemColumns() throws IOException {
    jsonl(dir.resolve("ds/train.jsonl"), IntStream.range(0, 5).mapToObj(DatasetsTest::problemRow).toList());
    jsonl(dir.resolve("ds/test.jsonl"), List.of(problemRow(100), "", problemRow(101)));
    DataSettings d = data(dir.resolve("ds").toString(), null, "problem", "Think first.", false);
    Loaded<Prompt> train = Datasets.prompts(d, "train");
    assertEquals(5, train.items().size());
    Prompt p = train.items().get(2);
    assertEquals("p2", p.id());
    assertEquals(List.of(new ChatMessage("system", "Think first."), new ChatMessage("user", "What is 2 + 1?")),
        p.messages());
    assertEquals("3", p.solution());
    assertEquals(2, p.metadata().get("level"));
    assertEquals(List.of("p100", "p101"),
        Datasets.prompts(d, "test").items().stream().map(Prompt::id).toList());
  }

  @Test
  void parquetShardsInDataFolderAndConfigs() throws Exception {
    parquet(dir.resolve("hub/data/train-00000-of-00002.parquet"),
        "SELECT 'a' || i AS id, [{'role': 'user', 'content': 'q' || i}, {'role': 'assistant', 'content': 'r' || i}]"
            + " AS messages FROM range(3) t(i)");
    parquet(dir.resolve("hub/data/train-00001-of-00002.parquet"),
        "SELECT 'b' || i AS id, [{'role': 'user', 'content': 'q' || i}, {'role': 'assistant', 'content': 'r' || i}]"
            + " AS messages FROM range(2) t(i)");
    Loaded<SftExample> sft = Datasets.sft(data(dir.resolve("hub").toString(), null, "prompt", null, false), "train");
    assertEquals(List.of("a0", "a1", "a2", "b0", "b1"), sft.items().stream().map(SftExample::id).toList());
    SftExample e = sft.items().get(1);
    assertEquals(List.of(new ChatMessage("user", "q1")), e.prompt());
    assertEquals(List.of(new ChatMessage("assistant", "r1")), e.completion());

    parquet(dir.resolve("cfg/math/train-00000-of-00001.parquet"),
        "SELECT 'm' AS id, 'x+1' AS prompt, 'y' AS completion");
    parquet(dir.resolve("cfg/code/train-00000-of-00001.parquet"),
        "SELECT 'c' AS id, 'print' AS prompt, 'z' AS completion");
    SftExample code = Datasets.sft(data(dir.resolve("cfg").toString(), "code", "prompt", null, false), "train")
        .items().get(0);
    assertEquals("c", code.id());
    assertEquals(List.of(new ChatMessage("user", "print"), new ChatMessage("assistant", "z")), code.messages());
  }

  @Test
  void conversationalPromptCompletionAndSingleFile() throws IOException {
    Path f = jsonl(dir.resolve("one.jsonl"), List.of(
        "{\"prompt\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"U\"}],"
            + " \"completion\": [{\"role\": \"assistant\", \"content\": \"A\"}]}"));
    SftExample e = Datasets.sft(data(f.toString(), null, "prompt", "ignored: prompt has a system turn", false), "train")
        .items().get(0);
    assertEquals("one.jsonl:1", e.id());
    assertEquals(List.of(new ChatMessage("system", "S"), new ChatMessage("user", "U")), e.prompt());
    assertThrows(InputException.class, () -> Datasets.sft(data(f.toString(), null, "prompt", null, false), "test"));
  }

  @Test
  void hubCacheSnapshot() throws IOException {
    Path cache = dir.resolve("hf/hub");
    String commit = "0123456789abcdef0123456789abcdef01234567";
    Path repo = cache.resolve("datasets--org--tiny");
    jsonl(repo.resolve("snapshots/" + commit + "/data/train-00000-of-00001.jsonl"), List.of(problemRow(7)));
    Files.createDirectories(repo.resolve("refs"));
    Files.writeString(repo.resolve("refs/main"), commit);
    Loaded<Prompt> l = Datasets.load(data("org/tiny", null, "problem", null, false), "train",
        new RowMapper("problem", null)::toPrompt, Map.of("HF_HOME", dir.resolve("hf").toString()));
    assertEquals("8", l.items().get(0).solution());
    InputException missing = assertThrows(InputException.class, () -> Datasets.load(
        data("org/absent", null, "problem", null, false), "train", new RowMapper("problem", null)::toPrompt,
        Map.of("HF_HOME", dir.resolve("hf").toString())));
    assertEquals("dataset_name", missing.key());
  }

  @Test
  void badRowsFailWithFileAndRowOrAreSkippedAndCounted() throws IOException {
    Path f = jsonl(dir.resolve("bad/train.jsonl"), List.of(problemRow(0), "{not json", problemRow(2),
        "{\"id\": \"x\", \"solution\": \"1\"}", "[1, 2]", "{\"problem\": [{\"role\": \"user\"}]}"));
    DataSettings strict = data(dir.resolve("bad").toString(), null, "problem", null, false);
    InputException e = assertThrows(InputException.class, () -> Datasets.prompts(strict, "train"));
    assertEquals(f, e.file());
    assertEquals(2, e.line());
    assertTrue(e.getMessage().startsWith(f + ":2: invalid JSON"), e.getMessage());

    DataSettings lenient = data(dir.resolve("bad").toString(), null, "problem", null, true);
    Loaded<Prompt> l = Datasets.prompts(lenient, "train");
    assertEquals(List.of("p0", "p2"), l.items().stream().map(Prompt::id).toList());
    assertEquals(4, l.skipped());
    assertTrue(l.firstSkipped().startsWith(f + ":2:"), l.firstSkipped());

    // a mapping error names the column
    jsonl(dir.resolve("bad2/train.jsonl"), List.of(problemRow(0), "{\"id\": \"x\", \"solution\": \"1\"}"));
    InputException m = assertThrows(InputException.class,
        () -> Datasets.prompts(data(dir.resolve("bad2").toString(), null, "problem", null, false), "train"));
    assertEquals(2, m.line());
    assertEquals("problem", m.key());
  }

  @Test
  void mixtureSubsamplesShufflesAndSplits() throws Exception {
    jsonl(dir.resolve("m1/train.jsonl"), IntStream.range(0, 100).mapToObj(DatasetsTest::problemRow).toList());
    parquet(dir.resolve("m2/train-00000-of-00001.parquet"),
        "SELECT 'q' || i AS id, 'Q' || i AS problem, CAST(i AS VARCHAR) AS solution, 1 AS extra FROM range(40) t(i)");
    DatasetMixture mix = new DatasetMixture(List.of(
        new DatasetMixture.Entry(dir.resolve("m1").toString(), null, "train", List.of("id", "problem", "solution"), 0.3),
        new DatasetMixture.Entry(dir.resolve("m2").toString(), null, "train", List.of("id", "problem", "solution"), null)),
        5, 0.25);
    DataSettings d = new DataSettings(null, null, "train", "test", "problem", null, mix, false);
    List<Prompt> train = Datasets.prompts(d, "train").items();
    List<Prompt> test = Datasets.prompts(d, "test").items();
    // 30 of 100 + 40 = 70 rows; ceil(0.25 * 70) = 18 test rows
    assertEquals(52, train.size());
    assertEquals(18, test.size());
    Set<String> ids = new HashSet<>();
    train.forEach(p -> ids.add(p.id()));
    test.forEach(p -> ids.add(p.id()));
    assertEquals(70, ids.size());
    assertEquals(30, ids.stream().filter(s -> s.startsWith("p")).count());
    assertNull(train.get(0).metadata().get("extra")); // columns dropped
    // same seed, same order; the order is shuffled (not all m1 rows first)
    assertEquals(train, Datasets.prompts(d, "train").items());
    String firstTen = train.subList(0, 10).stream().map(p -> p.id().substring(0, 1)).collect(Collectors.joining());
    assertTrue(firstTen.contains("p") && firstTen.contains("q"), firstTen);

    DataSettings noTest = new DataSettings(null, null, "train", "test", "problem", null,
        new DatasetMixture(mix.datasets(), 5, null), false);
    assertEquals(70, Datasets.prompts(noTest, "train").items().size());
    InputException e = assertThrows(InputException.class, () -> Datasets.prompts(noTest, "test"));
    assertEquals("dataset_mixture.test_split_size", e.key());
  }
}
