package io.r1cluster.core.dataset;

import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.HfCache;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Finds the files of one split of a local dataset, in the layouts the Hugging Face Hub uses:
 *
 * <pre>
 * FILE.jsonl | FILE.json | FILE.parquet          a single file is the train split
 * DIR/train.jsonl, DIR/test.parquet, …           one file per split
 * DIR/train-00000-of-00002.parquet, …            sharded splits (also .jsonl)
 * DIR/data/train-00000-of-00001.parquet, …       the Hub's auto-converted layout
 * DIR/CONFIG/train-00000-of-00001.parquet, …     configs in subfolders (also CONFIG/data/…)
 * DIR/train/*.parquet|jsonl                      one folder per split
 * ORG/NAME (not a local path)                    $HF_HOME/hub/datasets--ORG--NAME/snapshots/REV/ as DIR
 * </pre>
 */
public final class DatasetLocator {
  private DatasetLocator() {}

  /** Files of {@code split} (sorted), with the process's hub cache for hub ids. */
  public static List<Path> splitFiles(String name, String config, String split) {
    return splitFiles(name, config, split, System.getenv());
  }

  /**
   * Files of {@code split} (sorted).
   *
   * @param name a file, a folder, or a hub id present in the local cache
   * @param config dataset config (subfolder), or null
   * @param split split name, e.g. {@code train}
   * @param env environment for the hub cache location
   * @throws InputException when nothing matches
   */
  public static List<Path> splitFiles(String name, String config, String split, Map<String, String> env) {
    Path p = Path.of(name);
    if (Files.isRegularFile(p)) {
      if (!split.equals("train")) {
        throw new InputException(p, 0, "dataset_test_split",
            "a single-file dataset has only a train split, not '" + split + "'");
      }
      return List.of(p);
    }
    Path dir;
    if (Files.isDirectory(p)) {
      dir = p;
    } else {
      Path cache = HfCache.hubCacheDir(env);
      try {
        dir = HfCache.resolve(HfCache.RepoType.DATASET, name, "main", cache);
      } catch (InputException e) {
        dir = onlySnapshot(cache.resolve("datasets--" + name.replace("/", "--")).resolve("snapshots"));
        if (dir == null) {
          throw new InputException(null, 0, "dataset_name",
            "'" + name + "' is neither a local file or folder nor a dataset in the local Hugging Face cache ("
                + e.getMessage() + ")");
        }
      }
    }
    List<Path> roots = new ArrayList<>();
    if (config != null && Files.isDirectory(dir.resolve(config))) {
      roots.add(dir.resolve(config));
    }
    roots.add(dir);
    for (Path root : roots) {
      for (Path base : List.of(root, root.resolve("data"))) {
        List<Path> found = match(base, split);
        if (!found.isEmpty()) {
          return found;
        }
      }
    }
    throw new InputException(dir, 0, "dataset_name", "no files for split '" + split + "'"
        + (config == null ? "" : " (config '" + config + "')") + " in " + dir
        + " (expected e.g. " + split + ".jsonl, " + split + "-00000-of-00001.parquet or data/" + split + "-*.jsonl)");
  }

  private static List<Path> match(Path base, String split) {
    if (!Files.isDirectory(base)) {
      return List.of();
    }
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(base)) {
      for (Path f : s.sorted().toList()) {
        String n = f.getFileName().toString();
        if (Files.isRegularFile(f) && RowReaders.readable(f) && stem(n).equals(split)) {
          out.add(f);
        } else if (Files.isRegularFile(f) && RowReaders.readable(f) && n.startsWith(split + "-")) {
          out.add(f);
        } else if (Files.isDirectory(f) && n.equals(split)) {
          try (Stream<Path> inner = Files.list(f)) {
            inner.filter(x -> Files.isRegularFile(x) && RowReaders.readable(x)).sorted().forEach(out::add);
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  /** The single snapshot of a cached repo without refs/main (files copied in by hand), else null. */
  private static Path onlySnapshot(Path snapshots) {
    if (!Files.isDirectory(snapshots)) {
      return null;
    }
    try (Stream<Path> s = Files.list(snapshots)) {
      List<Path> dirs = s.filter(Files::isDirectory).toList();
      return dirs.size() == 1 ? dirs.get(0) : null;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String stem(String n) {
    int dot = n.indexOf('.');
    return dot < 0 ? n : n.substring(0, dot);
  }
}
