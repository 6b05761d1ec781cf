package io.r1cluster.core.train;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * An append-only JSON Lines file of a training run ({@code metrics.jsonl}, {@code completions.jsonl},
 * {@code steps.jsonl}): each {@link #append} writes whole lines and flushes them in one write, so a
 * process killed between appends leaves only whole records.
 *
 * <p>Opening an existing file repairs what a kill can leave: bytes after the last newline (a line
 * torn by a kill in the middle of a write, or by a full disk) are cut off. Opened with a
 * {@code keepUpToStep}, records whose {@code step} is above it are dropped as well: what the
 * interrupted run logged after the checkpoint a resumed run starts from, which the resumed run logs
 * again, so that the file has each step once.
 */
public final class JsonLines implements AutoCloseable {
  /** {@code keepUpToStep} that keeps every whole record (an audit trail a resumed run appends to). */
  public static final long KEEP_ALL = Long.MAX_VALUE;
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path file;
  private final OutputStream out;

  private JsonLines(Path file, OutputStream out) {
    this.file = file;
    this.out = out;
  }

  /**
   * Opens {@code file} for appending (creating it and its folder), after cutting a torn last line and
   * dropping records with a {@code step} above {@code keepUpToStep} (none with {@link #KEEP_ALL}).
   */
  public static JsonLines open(Path file, long keepUpToStep) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      if (Files.exists(file)) {
        repair(file, keepUpToStep);
      }
      // unbuffered: append() hands each batch of lines to the kernel in one write (a buffered writer
      // would cut a batch longer than its buffer into several, and a kill between them tears a line)
      return new JsonLines(file, Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND));
    } catch (IOException e) {
      throw new UncheckedIOException("opening " + file + ": " + e.getMessage(), e);
    }
  }

  private static void repair(Path file, long keepUpToStep) throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int end = bytes.length;
    while (end > 0 && bytes[end - 1] != '\n') {
      end--;
    }
    if (keepUpToStep == KEEP_ALL) {
      if (end < bytes.length) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
          ch.truncate(end);
        }
      }
      return;
    }
    String whole = new String(bytes, 0, end, StandardCharsets.UTF_8);
    StringBuilder keep = new StringBuilder(whole.length());
    boolean dropped = end < bytes.length;
    int lineNo = 0;
    for (String line : whole.split("\n", -1)) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode n = parse(file, lineNo, line);
      if (n.path("step").asLong(Long.MAX_VALUE) <= keepUpToStep) {
        keep.append(line).append('\n');
      } else {
        dropped = true;
      }
    }
    if (dropped) {
      // the kept records go to a sibling first, then replace the file: a kill here leaves one or the other whole
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.writeString(tmp, keep, StandardCharsets.UTF_8);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }
  }

  public Path file() {
    return file;
  }

  /** Appends one record as one line. */
  public synchronized void append(JsonNode record) {
    appendAll(List.of(record));
  }

  /** Appends the records, one line each, in one write. */
  public synchronized void appendAll(List<? extends JsonNode> records) {
    if (records.isEmpty()) {
      return;
    }
    StringBuilder sb = new StringBuilder();
    try {
      for (JsonNode r : records) {
        sb.append(JSON.writeValueAsString(r)).append('\n');
      }
      out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  /** The records of a file, in order (an empty list when it does not exist). */
  public static List<JsonNode> read(Path file) {
    List<JsonNode> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    try {
      int lineNo = 0;
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        out.add(parse(file, lineNo, line));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  private static JsonNode parse(Path file, int lineNo, String line) throws IOException {
    try {
      return JSON.readTree(line);
    } catch (JsonProcessingException e) {
      throw new IOException(file + " line " + lineNo + ": not a JSON record (" + e.getOriginalMessage() + ")", e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("closing " + file, e);
    }
  }
}
