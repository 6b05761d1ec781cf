package io.r1cluster.core.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader and writer of the safetensors format (what {@code save_pretrained} writes).
 *
 * <pre>
 *  offset 0        8                 8+N
 *         +--------+-----------------+------------------------------+
 *         | N (u64 | JSON header     | tensor bytes, concatenated   |
 *         |  LE)   | (UTF-8, padded  | in offset order              |
 *         |        |  with spaces)   |                              |
 *         +--------+-----------------+------------------------------+
 *  header: {"__metadata__": {"format": "pt"},
 *           "NAME": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
 *  data_offsets are relative to the start of the data section (8+N).
 * </pre>
 *
 * <p>Reading validates the header (size, JSON, dtype, shapes, offsets inside the file, contiguous,
 * non-overlapping, size = numel × dtype size) and fails with an {@link InputException} naming the
 * file and the tensor. Writing goes to a temporary file renamed into place, so a crash never leaves
 * a half-written file.
 */
public final class SafeTensors {
  /** Refuse headers larger than this (the Rust reference library uses 100 MB). */
  static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  private SafeTensors() {}

  /** Reads every tensor, in header order (the data is copied out of a memory map). */
  public static LinkedHashMap<String, TensorData> read(Path file) {
    LinkedHashMap<String, TensorData> out = new LinkedHashMap<>();
    forEach(file, t -> out.put(t.name(), t));
    return out;
  }

  /**
   * Hands each tensor, in header order, to {@code each}, reading one tensor's bytes at a time (the
   * header is validated as a whole first): loading a model this way holds one tensor in Java memory,
   * not the whole file.
   */
  public static void forEach(Path file, java.util.function.Consumer<TensorData> each) {
    forEach(file, each, false);
  }

  /**
   * As {@link #forEach(Path, java.util.function.Consumer)}, but every tensor's bytes arrive in one reused
   * direct buffer that is only valid during the call ({@code each} copies what it keeps): loading then
   * allocates no Java heap per tensor, only one native buffer the size of the largest tensor.
   */
  public static void forEachTransient(Path file, java.util.function.Consumer<TensorData> each) {
    forEach(file, each, true);
  }

  private static void forEach(Path file, java.util.function.Consumer<TensorData> each, boolean reuse) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < 8) {
        throw bad(file, null, "file too small for a safetensors header (" + size + " bytes)");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
        throw bad(file, null, "header length " + headerLen + " is invalid for a file of " + size + " bytes");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8);
      JsonNode header;
      try {
        header = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8));
      } catch (JsonProcessingException e) {
        throw bad(file, null, "header is not valid JSON: " + e.getOriginalMessage());
      }
      if (header == null || !header.isObject()) {
        throw bad(file, null, "header is not a JSON object");
      }
      long dataStart = 8 + headerLen;
      long dataLen = size - dataStart;
      record Entry(String name, DType dtype, long[] shape, long begin, long end) {}
      List<Entry> entries = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        if (name.equals("__metadata__")) {
          continue;
        }
        JsonNode t = e.getValue();
        DType dtype = DType.parse(t.path("dtype").asText(null));
        if (dtype == null) {
          throw bad(file, name, "unknown dtype '" + t.path("dtype").asText() + "'");
        }
        JsonNode shapeNode = t.get("shape");
        JsonNode off = t.get("data_offsets");
        if (shapeNode == null || !shapeNode.isArray() || off == null || !off.isArray() || off.size() != 2) {
          throw bad(file, name, "needs 'shape' (array) and 'data_offsets' ([begin, end])");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
          if (!shapeNode.get(i).canConvertToLong() || shapeNode.get(i).asLong() < 0) {
            throw bad(file, name, "invalid shape " + shapeNode);
          }
          shape[i] = shapeNode.get(i).asLong();
        }
        long begin = off.get(0).asLong(-1);
        long end = off.get(1).asLong(-1);
        if (begin < 0 || end < begin || end > dataLen) {
          throw bad(file, name, "data_offsets [" + begin + ", " + end + "] outside the data section of " + dataLen + " bytes");
        }
        long expected;
        try {
          expected = Math.multiplyExact(TensorData.numel(shape), dtype.bytes());
        } catch (ArithmeticException ex) {
          throw bad(file, name, "shape " + shapeNode + " overflows");
        }
        if (end - begin != expected) {
          throw bad(file, name, (end - begin) + " bytes but shape " + shapeNode + " of " + dtype + " needs " + expected);
        }
        entries.add(new Entry(name, dtype, shape, begin, end));
      }
      List<Entry> byOffset = new ArrayList<>(entries);
      byOffset.sort((a, b) -> Long.compare(a.begin(), b.begin()));
      long cursor = 0;
      for (Entry en : byOffset) {
        if (en.begin() != cursor) {
          throw bad(file, en.name(), en.begin() < cursor ? "overlaps the previous tensor" : "leaves a gap before it (offset " + en.begin() + ", expected " + cursor + ")");
        }
        cursor = en.end();
      }
      if (cursor != dataLen) {
        throw bad(file, null, "data section has " + dataLen + " bytes but tensors cover " + cursor);
      }
      ByteBuffer shared = null;
      if (reuse) {
        long largest = entries.stream().mapToLong(en -> en.end() - en.begin()).max().orElse(0);
        shared = ByteBuffer.allocateDirect(Math.toIntExact(Math.max(largest, 1)));
      }
      for (Entry en : entries) {
        int n = Math.toIntExact(en.end() - en.begin());
        ByteBuffer b = reuse ? shared.clear().limit(n).slice().order(ByteOrder.LITTLE_ENDIAN)
            : ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, b, dataStart + en.begin());
        b.flip();
        each.accept(new TensorData(en.name(), en.dtype(), en.shape(), b));
      }
    } catch (IOException e) {
      throw new InputException(file, 0, null, "cannot read safetensors file: " + e);
    }
  }

  /** Reads only the {@code __metadata__} map (empty when absent). */
  public static Map<String, String> metadata(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long headerLen = lenBuf.getLong(0);
      if (headerLen <= 0 || headerLen > MAX_HEADER_BYTES || 8 + headerLen > ch.size()) {
        throw bad(file, null, "header length " + headerLen + " is invalid");
      }
      ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
      readFully(ch, hb, 8);
      JsonNode m = JSON.readTree(new String(hb.array(), StandardCharsets.UTF_8)).path("__metadata__");
      Map<String, String> out = new LinkedHashMap<>();
      m.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
      return out;
    } catch (IOException e) {
      throw new InputException(file, 0, null, "cannot read safetensors header: " + e);
    }
  }

  /**
   * Writes the tensors in the given order, with {@code __metadata__} = {@code {"format":"pt"}} plus
   * {@code metadata}; atomically (temp file + rename).
   */
  public static void write(Path file, Collection<TensorData> tensors, Map<String, String> metadata) throws IOException {
    ObjectNode header = JSON.createObjectNode();
    ObjectNode meta = header.putObject("__metadata__");
    meta.put("format", "pt");
    if (metadata != null) {
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (TensorData t : tensors) {
      if (header.has(t.name())) {
        throw new IllegalArgumentException("duplicate tensor name " + t.name());
      }
      ObjectNode n = header.putObject(t.name());
      n.put("dtype", t.dtype().name());
      var shape = n.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      var off = n.putArray("data_offsets");
      off.add(offset);
      off.add(offset + t.byteSize());
      offset += t.byteSize();
    }
    byte[] json = JSON.writeValueAsBytes(header);
    int padded = (json.length + 7) / 8 * 8; // data section 8-byte aligned, padding with spaces
    ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
    head.putLong(padded).put(json);
    while (head.hasRemaining()) {
      head.put((byte) ' ');
    }
    head.flip();
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      writeFully(ch, head);
      for (TensorData t : tensors) {
        writeFully(ch, t.data());
      }
      ch.force(true);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static InputException bad(Path file, String tensor, String msg) {
    return new InputException(file, 0, tensor, "malformed safetensors: " + msg);
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
      pos += n;
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }
}
