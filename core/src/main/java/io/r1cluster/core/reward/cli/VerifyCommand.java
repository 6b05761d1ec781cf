package io.r1cluster.core.reward.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.InputException;
import io.r1cluster.core.cli.CliCommand;
import io.r1cluster.core.verify.MathVerifier;
import java.io.BufferedReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code r1 verify}: Math-Verify-style answer equivalence from the command line. */
@Command(name = "verify", mixinStandardHelpOptions = true,
    description = {"Check whether a predicted answer equals a gold answer (prints true/false),",
        "or annotate a JSONL file of {\"gold\":…, \"pred\":…, \"precision\":optional} lines with \"verified\"",
        "(optional per line: \"strict\" and \"allow_set_relation_comp\", Math-Verify's options).",
        "Each comparison has one deadline (--timeout-ms); running out is \"verified\": false."})
public final class VerifyCommand implements CliCommand {
  @Option(names = "--gold", description = "gold answer (LaTeX or plain)") String gold;
  @Option(names = "--pred", description = "predicted answer or a whole completion") String pred;
  @Option(names = "--jsonl", paramLabel = "FILE", description = "JSON Lines input") Path jsonl;
  @Option(names = "--precision", defaultValue = "6", description = "decimal places for float comparison, 0..100 (default 6)") int precision;
  @Option(names = "--no-strict", description = "variables match by position (Math-Verify strict=False)") boolean noStrict;
  @Option(names = "--allow-set-relation", description = "a predicted relation may equal a gold set (Math-Verify allow_set_relation_comp)") boolean allowSetRelation;
  @Option(names = "--timeout-ms", defaultValue = "5000", description = "wall-clock budget per comparison (default 5000)") long timeoutMs;

  @Override
  public Integer call() throws Exception {
    if (precision < 0 || precision > 100) {
      throw new InputException(null, 0, "--precision", "must be an integer in 0..100, got " + precision);
    }
    if (timeoutMs <= 0) {
      throw new InputException(null, 0, "--timeout-ms", "must be positive, got " + timeoutMs);
    }
    MathVerifier v = new MathVerifier(precision, java.time.Duration.ofMillis(timeoutMs));
    MathVerifier.Options defaults = new MathVerifier.Options(precision, !noStrict, allowSetRelation);
    PrintStream out = System.out;
    if (jsonl == null) {
      if (gold == null || pred == null) {
        throw new InputException(null, 0, "verify", "give --gold and --pred, or --jsonl FILE");
      }
      out.println(v.verify(gold, pred, defaults));
      return 0;
    }
    ObjectMapper json = new ObjectMapper();
    int lineNo = 0;
    StringBuilder buffer = new StringBuilder();
    try (BufferedReader r = Files.newBufferedReader(jsonl, StandardCharsets.UTF_8)) {
      // validate everything first so that bad input writes nothing
      java.util.List<ObjectNode> rows = new java.util.ArrayList<>();
      for (String line; (line = r.readLine()) != null; ) {
        lineNo++;
        if (line.isBlank()) {
          continue;
        }
        JsonNode n;
        try {
          n = json.readTree(line);
        } catch (Exception e) {
          throw new InputException(jsonl, lineNo, null, "malformed JSON line");
        }
        if (n == null || !n.isObject() || !n.hasNonNull("gold") || !n.hasNonNull("pred")) {
          throw new InputException(jsonl, lineNo, "gold/pred", "each line needs string fields \"gold\" and \"pred\"");
        }
        if (!n.get("gold").isTextual() || !n.get("pred").isTextual()) {
          throw new InputException(jsonl, lineNo, "gold/pred", "\"gold\" and \"pred\" must be strings");
        }
        JsonNode pr = n.get("precision");
        if (pr != null && !pr.isNull() && (!pr.isIntegralNumber() || !pr.canConvertToInt() || pr.asInt() < 0 || pr.asInt() > 100)) {
          throw new InputException(jsonl, lineNo, "precision", "must be an integer in 0..100, got " + pr);
        }
        for (String flag : new String[] {"strict", "allow_set_relation_comp"}) {
          if (n.has(flag) && !n.get(flag).isBoolean()) {
            throw new InputException(jsonl, lineNo, flag, "must be true or false, got " + n.get(flag));
          }
        }
        rows.add((ObjectNode) n);
      }
      for (ObjectNode n : rows) {
        MathVerifier.Options o = new MathVerifier.Options(
            n.hasNonNull("precision") ? n.get("precision").asInt() : precision,
            n.has("strict") ? n.get("strict").asBoolean() : !noStrict,
            n.has("allow_set_relation_comp") ? n.get("allow_set_relation_comp").asBoolean() : allowSetRelation);
        n.put("verified", v.verify(n.get("gold").asText(), n.get("pred").asText(), o));
        buffer.append(json.writeValueAsString(n)).append('\n');
        if (buffer.length() > 1 << 16) {
          out.print(buffer);
          buffer.setLength(0);
        }
      }
    }
    out.print(buffer);
    out.flush();
    return 0;
  }
}
