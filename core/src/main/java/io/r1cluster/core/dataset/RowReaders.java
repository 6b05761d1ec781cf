package io.r1cluster.core.dataset;

import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.r1cluster.core.InputException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads rows from JSON Lines (Jackson, streaming, one row per line; blank lines skipped), a JSON
 * array file, or Parquet (DuckDB: {@code SELECT to_json(t) FROM read_parquet(?) t}, so nested columns
 * such as {@code messages} arrive as the same plain values as from JSON).
 *
 * <p>A row that is not a JSON object is a {@link BadRow}; the caller decides to fail or skip.
 */
public final class RowReaders {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  /** A row that cannot be read; {@link #row} is its 1-based number. */
  public record BadRow(Path file, int row, String message) {
    InputException toException() {
      return new InputException(file, row, null, message);
    }
  }

  /** Receives rows and bad rows in file order. */
  public interface Sink {
    void row(Row row);

    void bad(BadRow bad);
  }

  private RowReaders() {}

  /** Whether the file is a dataset file this class reads. */
  public static boolean readable(Path f) {
    String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
    return n.endsWith(".jsonl") || n.endsWith(".json") || n.endsWith(".parquet");
  }

  /** Reads every row of one file. */
  public static void read(Path file, Sink sink) {
    String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
    if (n.endsWith(".parquet")) {
      parquet(file, sink);
    } else if (n.endsWith(".json") && startsWithArray(file)) {
      jsonArray(file, sink);
    } else if (n.endsWith(".jsonl") || n.endsWith(".json")) {
      jsonLines(file, sink);
    } else {
      throw new InputException(file, 0, null, "not a dataset file (expected .jsonl, .json or .parquet)");
    }
  }

  private static boolean startsWithArray(Path file) {
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int c;
      while ((c = r.read()) != -1 && Character.isWhitespace(c)) {
        // skip
      }
      return c == '[';
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void jsonLines(Path file, Sink sink) {
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int line = 0;
      for (String s; (s = r.readLine()) != null; ) {
        line++;
        if (s.isBlank()) {
          continue;
        }
        Map<String, Object> m;
        try {
          Object o = JSON.readValue(s, Object.class);
          if (!(o instanceof Map<?, ?>)) {
            sink.bad(new BadRow(file, line, "a row must be a JSON object"));
            continue;
          }
          m = JSON.convertValue(o, MAP);
        } catch (JsonParseException e) {
          sink.bad(new BadRow(file, line, "invalid JSON: " + e.getOriginalMessage()));
          continue;
        } catch (IOException e) {
          sink.bad(new BadRow(file, line, "invalid JSON: " + e.getMessage()));
          continue;
        }
        sink.row(new Row(file, line, m));
      }
    } catch (IOException e) {
      throw new InputException(file, 0, null, "cannot read: " + e.getMessage(), e);
    }
  }

  private static void jsonArray(Path file, Sink sink) {
    List<Object> all;
    try {
      all = JSON.readValue(file.toFile(), new TypeReference<List<Object>>() {});
    } catch (IOException e) {
      throw new InputException(file, 0, null, "invalid JSON array: " + e.getMessage(), e);
    }
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i) instanceof Map<?, ?>) {
        sink.row(new Row(file, i + 1, JSON.convertValue(all.get(i), MAP)));
      } else {
        sink.bad(new BadRow(file, i + 1, "a row must be a JSON object"));
      }
    }
  }

  private static void parquet(Path file, Sink sink) {
    try {
      Class.forName("org.duckdb.DuckDBDriver"); // registers the driver even where services files were merged away
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("DuckDB JDBC driver missing from the class path", e);
    }
    try (Connection c = DriverManager.getConnection("jdbc:duckdb:");
        PreparedStatement p = c.prepareStatement("SELECT to_json(t)::VARCHAR FROM read_parquet(?) t")) {
      p.setString(1, file.toAbsolutePath().toString());
      try (ResultSet rs = p.executeQuery()) {
        int row = 0;
        while (rs.next()) {
          row++;
          String json = rs.getString(1);
          try {
            sink.row(new Row(file, row, JSON.readValue(json, MAP)));
          } catch (IOException e) {
            sink.bad(new BadRow(file, row, "unreadable row: " + e.getMessage()));
          }
        }
      }
    } catch (SQLException e) {
      throw new InputException(file, 0, null, "cannot read Parquet: " + e.getMessage(), e);
    }
  }

  /** All rows of the files, failing on the first bad row. */
  public static List<Row> readAll(List<Path> files) {
    List<Row> rows = new ArrayList<>();
    for (Path f : files) {
      read(f, new Sink() {
        @Override
        public void row(Row row) {
          rows.add(row);
        }

        @Override
        public void bad(BadRow bad) {
          throw bad.toException();
        }
      });
    }
    return rows;
  }
}
