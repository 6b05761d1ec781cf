package io.r1cluster.core.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reader and writer for the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format.
 *
 * <pre>
 * offset 0        8                    8+N
 *        +--------+--------------------+--------------------------------------+
 *        | N: u64 | JSON header (N B)  | tensor bytes (little-endian, packed) |
 *        |  (LE)  | space-padded to 8  | offsets relative to byte 8+N         |
 *        +--------+--------------------+--------------------------------------+
 * header = {"__metadata__": {"format": "pt", ...},
 *           "NAME": {"dtype": "BF16", "shape": [d0, d1], "data_offsets": [begin, end]}, ...}
 * </pre>
 *
 * Validation on read: header length within the file and at most {@link #MAX_HEADER_BYTES}, valid
 * JSON object, known dtype, non-negative shape, {@code end - begin == numel * dtype.bytes},
 * offsets inside the data area and non-overlapping. Errors are {@link InputException}s naming the
 * file and the tensor.
 */
public final class SafeTensors {
  /** Same bound as the Rust library (100 MB). */
  public static final long MAX_HEADER_BYTES = 100_000_000L;

  private static final int LENGTH_PREFIX_BYTES = 8;
  private static final String METADATA_KEY = "__metadata__";
  /** Files above this size are memory-mapped instead of read onto the heap. */
  private static final long MAP_THRESHOLD = 1L << 20;

  private static final ObjectMapper JSON = new ObjectMapper();

  private SafeTensors() {}

  /** Reads all tensors in header order (tensor bytes are memory-mapped views for large files). */
  public static LinkedHashMap<String, TensorData> read(Path file) {
    return readFile(file).tensors();
  }

  /** The {@code __metadata__} map of a file (empty when absent). */
  public static Map<String, String> readMetadata(Path file) {
    return readFile(file).metadata();
  }

  /** Tensors and metadata of one file. */
  public record Contents(LinkedHashMap<String, TensorData> tensors, Map<String, String> metadata) {}

  /** Reads tensors and metadata. */
  public static Contents readFile(Path file) {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      if (size < LENGTH_PREFIX_BYTES) {
        throw bad(file, null, "file is " + size + " bytes, shorter than the 8-byte header length");
      }
      ByteBuffer lenBuf = ByteBuffer.allocate(LENGTH_PREFIX_BYTES).order(ByteOrder.LITTLE_ENDIAN);
      readFully(ch, lenBuf, 0);
      long n = lenBuf.getLong(0);
      if (n < 2 || n > MAX_HEADER_BYTES) {
        throw bad(file, null, "header length " + Long.toUnsignedString(n)
            + " is absurd (expected 2.." + MAX_HEADER_BYTES + "); not a safetensors file or corrupted");
      }
      if (LENGTH_PREFIX_BYTES + n > size) {
        throw bad(file, null, "header length " + n + " exceeds the file size " + size + " (truncated or corrupted)");
      }
      ByteBuffer hbuf = ByteBuffer.allocate((int) n);
      readFully(ch, hbuf, LENGTH_PREFIX_BYTES);
      byte[] hb = hbuf.array();
      // small files: one heap copy of the data area; large files: one read-only mapping per tensor
      ByteBuffer heapData = null;
      if (size < MAP_THRESHOLD) {
        heapData = ByteBuffer.allocate((int) (size - LENGTH_PREFIX_BYTES - n));
        readFully(ch, heapData, LENGTH_PREFIX_BYTES + n);
      }
      JsonNode header;
      try {
        header = JSON.readTree(hb);
      } catch (JsonProcessingException e) {
        throw new InputException(file, 0, null, "invalid JSON in safetensors header: " + e.getOriginalMessage(), e);
      }
      if (header == null || !header.isObject()) {
        throw bad(file, null, "safetensors header is not a JSON object");
      }
      long dataStart = LENGTH_PREFIX_BYTES + n;
      long dataLen = size - dataStart;
      Map<String, String> metadata = new LinkedHashMap<>();
      LinkedHashMap<String, TensorData> tensors = new LinkedHashMap<>();
      List<long[]> ranges = new ArrayList<>();
      List<String> rangeNames = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        String name = e.getKey();
        JsonNode v = e.getValue();
        if (METADATA_KEY.equals(name)) {
          if (!v.isObject()) {
            throw bad(file, name, "must be an object of strings");
          }
          v.fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
          continue;
        }
        if (!v.isObject()) {
          throw bad(file, name, "tensor entry is not an object");
        }
        JsonNode dt = v.get("dtype");
        DType dtype = dt == null ? null : DType.parse(dt.asText());
        if (dtype == null) {
          throw bad(file, name, "unknown dtype " + (dt == null ? "(missing)" : dt.toString())
              + "; supported: " + Arrays.toString(DType.values()));
        }
        JsonNode sh = v.get("shape");
        if (sh == null || !sh.isArray()) {
          throw bad(file, name, "missing or non-array shape");
        }
        long[] shape = new long[sh.size()];
        for (int i = 0; i < shape.length; i++) {
          JsonNode d = sh.get(i);
          if (!d.canConvertToLong() || !d.isIntegralNumber() || d.asLong() < 0) {
            throw bad(file, name, "invalid shape " + sh);
          }
          shape[i] = d.asLong();
        }
        JsonNode off = v.get("data_offsets");
        if (off == null || !off.isArray() || off.size() != 2 || !off.get(0).isIntegralNumber()
            || !off.get(1).isIntegralNumber()) {
          throw bad(file, name, "data_offsets must be [begin, end]");
        }
        long begin = off.get(0).asLong();
        long end = off.get(1).asLong();
        if (begin < 0 || end < begin || end > dataLen) {
          throw bad(file, name, "data_offsets [" + begin + ", " + end + "] out of range (data area is "
              + dataLen + " bytes)");
        }
        long expected;
        try {
          expected = Math.multiplyExact(TensorData.numel(shape), (long) dtype.bytes());
        } catch (ArithmeticException ex) {
          throw bad(file, name, "shape " + sh + " overflows");
        }
        if (end - begin != expected) {
          throw bad(file, name, "data_offsets [" + begin + ", " + end + "] span " + (end - begin)
              + " bytes but shape " + sh + " of " + dtype + " needs " + expected);
        }
        ranges.add(new long[] {begin, end});
        rangeNames.add(name);
        ByteBuffer slice = heapData != null
            ? heapData.slice((int) begin, (int) expected)
            : ch.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, expected);
        tensors.put(name, new TensorData(name, dtype, shape, slice));
      }
      checkOverlap(file, ranges, rangeNames);
      return new Contents(tensors, metadata);
    } catch (IOException e) {
      throw new UncheckedIOException("reading " + file, e);
    }
  }

  private static void checkOverlap(Path file, List<long[]> ranges, List<String> names) {
    Integer[] idx = new Integer[ranges.size()];
    for (int i = 0; i < idx.length; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, Comparator.comparingLong(i -> ranges.get(i)[0]));
    for (int k = 1; k < idx.length; k++) {
      long[] prev = ranges.get(idx[k - 1]);
      long[] cur = ranges.get(idx[k]);
      if (cur[0] < prev[1] && cur[1] > cur[0] && prev[1] > prev[0]) {
        throw bad(file, names.get(idx[k]), "data_offsets [" + cur[0] + ", " + cur[1] + "] overlap tensor "
            + names.get(idx[k - 1]) + " [" + prev[0] + ", " + prev[1] + "]");
      }
    }
  }

  private static InputException bad(Path file, String tensor, String msg) {
    return new InputException(file, 0, tensor, msg);
  }

  /**
   * Writes tensors in the given order with contiguous offsets. {@code "format": "pt"} is added to
   * the metadata. The file is written to a sibling temp file and renamed atomically.
   */
  public static void write(Path file, Collection<TensorData> tensors, Map<String, String> metadata) {
    byte[] header = headerBytes(tensors, metadata);
    Path abs = file.toAbsolutePath();
    Path tmp = abs.resolveSibling("." + abs.getFileName() + ".tmp-" + ProcessHandle.current().pid());
    try {
      Files.createDirectories(abs.getParent());
      try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        ByteBuffer len = ByteBuffer.allocate(LENGTH_PREFIX_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        len.putLong(0, header.length);
        writeFully(ch, len);
        writeFully(ch, ByteBuffer.wrap(header));
        for (TensorData t : tensors) {
          writeFully(ch, t.data());
        }
        ch.force(true);
      }
      try {
        Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (java.nio.file.AtomicMoveNotSupportedException e) {
        Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException ignored) {
        // best effort
      }
      throw new UncheckedIOException("writing " + file, e);
    }
  }

  /** Size in bytes that {@link #write} produces (header and data). */
  public static long fileSize(Collection<TensorData> tensors, Map<String, String> metadata) {
    long n = LENGTH_PREFIX_BYTES + headerBytes(tensors, metadata).length;
    for (TensorData t : tensors) {
      n += t.byteSize();
    }
    return n;
  }

  private static byte[] headerBytes(Collection<TensorData> tensors, Map<String, String> metadata) {
    ObjectNode root = JSON.createObjectNode();
    ObjectNode meta = root.putObject(METADATA_KEY);
    meta.put("format", "pt");
    if (metadata != null) {
      metadata.forEach(meta::put);
    }
    long offset = 0;
    for (TensorData t : tensors) {
      if (root.has(t.name())) {
        throw new IllegalArgumentException("duplicate tensor name " + t.name());
      }
      ObjectNode e = root.putObject(t.name());
      e.put("dtype", t.dtype().name());
      var shape = e.putArray("shape");
      for (long d : t.shape()) {
        shape.add(d);
      }
      var offs = e.putArray("data_offsets");
      offs.add(offset);
      offset += t.byteSize();
      offs.add(offset);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsBytes(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    int padded = (json.length + 7) / 8 * 8;
    byte[] out = Arrays.copyOf(json, padded);
    Arrays.fill(out, json.length, padded, (byte) ' ');
    return out;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int r = ch.read(b, pos + b.position());
      if (r < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  static String utf8(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
