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
        "or annotate a JSONL file of {\"gold\":…, \"pred\":…, \"precision\":optional} lines with \"verified\"."})
public final class VerifyCommand implements CliCommand {
  @Option(names = "--gold", description = "gold answer (LaTeX or plain)") String gold;
  @Option(names = "--pred", description = "predicted answer or a whole completion") String pred;
  @Option(names = "--jsonl", paramLabel = "FILE", description = "JSON Lines input") Path jsonl;
  @Option(names = "--precision", defaultValue = "6", description = "decimal digits for float comparison (default 6)") int precision;

  @Override
  public Integer call() throws Exception {
    MathVerifier v = new MathVerifier();
    PrintStream out = System.out;
    if (jsonl == null) {
      if (gold == null || pred == null) {
        throw new InputException(null, 0, "verify", "give --gold and --pred, or --jsonl FILE");
      }
      out.println(v.verify(gold, pred, precision));
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
        if (n.has("precision") && !n.get("precision").canConvertToInt()) {
          throw new InputException(jsonl, lineNo, "precision", "must be an integer");
        }
        rows.add((ObjectNode) n);
      }
      for (ObjectNode n : rows) {
        int digits = n.has("precision") ? n.get("precision").asInt() : precision;
        n.put("verified", v.verify(n.get("gold").asText(), n.get("pred").asText(), digits));
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
