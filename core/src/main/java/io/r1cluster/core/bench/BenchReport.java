package io.r1cluster.core.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a benchmark found: a table for people and a flat map of figures for {@code --json}.
 *
 * @param name benchmark name
 * @param columns table header
 * @param rows table rows (same width as {@code columns})
 * @param figures machine-readable figures (numbers, strings, nested maps/lists)
 * @param notes free text lines printed under the table (baseline, environment, targets)
 */
public record BenchReport(
    String name, List<String> columns, List<List<String>> rows, Map<String, Object> figures, List<String> notes) {

  public BenchReport {
    columns = List.copyOf(columns);
    rows = rows.stream().map(List::copyOf).toList();
    figures = new LinkedHashMap<>(figures);
    notes = List.copyOf(notes);
  }

  /** Renders the table as GitHub-flavoured Markdown (also readable on a terminal). */
  public String table() {
    int[] w = new int[columns.size()];
    for (int i = 0; i < w.length; i++) {
      w[i] = columns.get(i).length();
      for (List<String> r : rows) {
        w[i] = Math.max(w[i], r.get(i).length());
      }
    }
    StringBuilder sb = new StringBuilder();
    appendRow(sb, columns, w);
    List<String> sep = new ArrayList<>();
    for (int x : w) {
      sep.add("-".repeat(Math.max(3, x)));
    }
    appendRow(sb, sep, w);
    for (List<String> r : rows) {
      appendRow(sb, r, w);
    }
    for (String n : notes) {
      sb.append('\n').append(n);
    }
    return sb.toString();
  }

  private static void appendRow(StringBuilder sb, List<String> cells, int[] w) {
    sb.append('|');
    for (int i = 0; i < cells.size(); i++) {
      String c = cells.get(i);
      sb.append(' ').append(c).append(" ".repeat(Math.max(0, w[i] - c.length()))).append(" |");
    }
    sb.append('\n');
  }

  /** Writes {@code {"name":…, "figures":{…}, "columns":[…], "rows":[[…]]}} atomically. */
  public void writeJson(Path file) throws IOException {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("name", name);
    doc.put("figures", figures);
    doc.put("columns", columns);
    doc.put("rows", rows);
    doc.put("notes", notes);
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(tmp.toFile(), doc);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The median of {@code xs} (the mean of the middle two for an even count); not empty. */
  public static double median(List<Double> xs) {
    double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  /** Formats a double with the given number of decimals. */
  public static String fmt(double v, int decimals) {
    return String.format(java.util.Locale.ROOT, "%." + decimals + "f", v);
  }
}
