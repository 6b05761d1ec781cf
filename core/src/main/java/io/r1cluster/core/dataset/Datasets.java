package io.r1cluster.core.dataset;

import io.r1cluster.core.InputException;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.recipe.DataSettings;
import io.r1cluster.core.recipe.DatasetMixture;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

/**
 * Loads a recipe's dataset split: {@code dataset_name} (+ {@code dataset_config}) or
 * {@code dataset_mixture}, mapped to {@link Prompt}s or {@link SftExample}s.
 *
 * <p>Mixture semantics follow open-r1: each dataset is read from its own {@code split}, reduced to
 * its {@code columns}, shuffled with the mixture {@code seed} and cut to {@code weight} × its rows
 * (rounded down); the concatenation is shuffled with the seed; with {@code test_split_size} the
 * first ⌈size × n⌉ rows of that order are the test split and the rest the train split.
 *
 * <p>Bad rows (unreadable JSON, missing or mistyped columns) fail with {@code file:row: column: message},
 * or are skipped and counted when {@code skip_bad_rows: true}.
 */
public final class Datasets {
  private Datasets() {}

  /** GRPO/eval prompts of a split (e.g. {@code data.trainSplit()}). */
  public static Loaded<Prompt> prompts(DataSettings data, String split) {
    RowMapper m = new RowMapper(data.promptColumn(), data.systemPrompt());
    return load(data, split, m::toPrompt, System.getenv());
  }

  /** SFT examples of a split. */
  public static Loaded<SftExample> sft(DataSettings data, String split) {
    RowMapper m = new RowMapper(data.promptColumn(), data.systemPrompt());
    return load(data, split, m::toSft, System.getenv());
  }

  /** Loads and maps a split; {@code env} locates the hub cache. */
  public static <T> Loaded<T> load(DataSettings data, String split, Function<Row, T> mapper, Map<String, String> env) {
    Skips skips = new Skips(data.skipBadRows());
    List<Row> rows;
    if (data.mixture() != null) {
      rows = mixture(data, data.mixture(), split, skips, env);
    } else {
      if (data.datasetName() == null) {
        throw new InputException(null, 0, "dataset_name", "the recipe names no dataset (dataset_name or dataset_mixture)");
      }
      rows = read(DatasetLocator.splitFiles(data.datasetName(), data.datasetConfig(), split, env), skips, null);
    }
    List<T> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      try {
        out.add(mapper.apply(r));
      } catch (RowMapper.BadRowException e) {
        skips.bad(new InputException(r.file(), r.number(), e.column(), e.getMessage()));
      }
    }
    return new Loaded<>(out, skips.count, skips.first);
  }

  private static List<Row> mixture(DataSettings data, DatasetMixture mix, String split, Skips skips,
      Map<String, String> env) {
    boolean test = split.equals(data.testSplit()) && !split.equals(data.trainSplit());
    if (test && mix.testSplitSize() == null) {
      throw new InputException(null, 0, "dataset_mixture.test_split_size",
          "the mixture has no test split; set test_split_size");
    }
    List<Row> all = new ArrayList<>();
    for (DatasetMixture.Entry e : mix.datasets()) {
      List<Row> rows = read(DatasetLocator.splitFiles(e.id(), e.config(), e.split(), env), skips, e.columns());
      if (e.weight() != null) {
        Collections.shuffle(rows, new Random(mix.seed()));
        rows = new ArrayList<>(rows.subList(0, (int) Math.floor(rows.size() * e.weight())));
      }
      all.addAll(rows);
    }
    Collections.shuffle(all, new Random(mix.seed()));
    if (mix.testSplitSize() == null) {
      return all;
    }
    int nTest = (int) Math.ceil(all.size() * mix.testSplitSize());
    return test ? all.subList(0, nTest) : all.subList(nTest, all.size());
  }

  private static List<Row> read(List<Path> files, Skips skips, List<String> columns) {
    List<Row> rows = new ArrayList<>();
    for (Path f : files) {
      RowReaders.read(f, new RowReaders.Sink() {
        @Override
        public void row(Row row) {
          if (columns == null) {
            rows.add(row);
            return;
          }
          Map<String, Object> kept = new LinkedHashMap<>();
          for (String c : columns) {
            if (!row.columns().containsKey(c)) {
              skips.bad(new InputException(row.file(), row.number(), c, "missing column '" + c + "' named in columns"));
              return;
            }
            kept.put(c, row.columns().get(c));
          }
          rows.add(new Row(row.file(), row.number(), kept));
        }

        @Override
        public void bad(RowReaders.BadRow bad) {
          skips.bad(bad.toException());
        }
      });
    }
    return rows;
  }

  /** Fails on the first bad row, or counts them. */
  private static final class Skips {
    private final boolean skip;
    private int count;
    private String first;

    Skips(boolean skip) {
      this.skip = skip;
    }

    void bad(InputException e) {
      if (!skip) {
        throw e;
      }
      if (count++ == 0) {
        first = e.getMessage();
      }
    }
  }
}
