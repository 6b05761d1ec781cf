package io.r1cluster.actors.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code --version}, the examples at the end of every {@code --help}, and the generated completion script. */
class R1CliTest {

  private static String run(String... args) {
    CommandLine cl = R1.commandLine();
    StringWriter out = new StringWriter();
    cl.setOut(new PrintWriter(out));
    assertEquals(0, cl.execute(args), String.join(" ", args));
    return out.toString();
  }

  @Test
  void versionComesFromTheBuild() {
    String v = run("--version");
    assertTrue(v.matches("(?s)r1-cluster \\d+\\.\\d+\\.\\d+(-SNAPSHOT)? \\(built \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)\\R"
        + "Java .*"), v);
    assertFalse(v.contains("dev"), v);
  }

  /** Every subcommand, by its path ("data demo"). */
  private static Map<String, CommandLine> subcommands() {
    Map<String, CommandLine> all = new java.util.TreeMap<>();
    collect(R1.commandLine(), "", all);
    return all;
  }

  private static void collect(CommandLine cl, String path, Map<String, CommandLine> all) {
    for (CommandLine sub : cl.getSubcommands().values()) {
      String p = (path.isEmpty() ? "" : path + " ") + sub.getCommandName();
      all.put(p, sub);
      collect(sub, p, all);
    }
  }

  @Test
  void everyHelpEndsWithOneToThreeExamplesThatParse() {
    Map<String, CommandLine> subs = subcommands();
    assertTrue(subs.keySet().containsAll(List.of("run", "sft", "grpo", "eval", "validate", "member", "bench",
        "completion", "data demo")), subs.keySet().toString());
    for (var e : subs.entrySet()) {
      String help = e.getValue().getUsageMessage(CommandLine.Help.Ansi.OFF).stripTrailing();
      int at = help.lastIndexOf("\nExamples:\n");
      assertTrue(at > 0, "r1 " + e.getKey() + " --help has no Examples section:\n" + help);
      List<String> examples = help.substring(at + "\nExamples:\n".length()).lines().map(String::strip).toList();
      assertTrue(examples.size() >= 1 && examples.size() <= 3, e.getKey() + ": " + examples);
      boolean direct = false;
      for (String ex : examples) {
        List<String> words = words(ex);
        if (!words.get(0).equals("r1")) {
          continue; // e.g. "source <(r1 completion)"
        }
        direct = true;
        assertEquals("r1 " + e.getKey(), String.join(" ", words.subList(0, 1 + e.getKey().split(" ").length)), ex);
        int end = words.indexOf(">");
        List<String> args = words.subList(1, end < 0 ? words.size() : end);
        R1.commandLine().parseArgs(args.toArray(String[]::new)); // throws on an unknown option or a missing value
      }
      assertTrue(direct, e.getKey() + ": no example runs r1 itself");
    }
  }

  /** Splits a shell line into words, honouring single quotes. */
  private static List<String> words(String line) {
    List<String> out = new ArrayList<>();
    StringBuilder w = new StringBuilder();
    boolean quoted = false;
    boolean any = false;
    for (char c : line.toCharArray()) {
      if (c == '\'') {
        quoted = !quoted;
        any = true;
      } else if (c == ' ' && !quoted) {
        if (any) {
          out.add(w.toString());
        }
        w.setLength(0);
        any = false;
      } else {
        w.append(c);
        any = true;
      }
    }
    if (any) {
      out.add(w.toString());
    }
    return out;
  }

  @Test
  void completionScriptCompletesSubcommandsAndOptionsInBash(@TempDir Path dir) throws Exception {
    String script = run("completion");
    assertTrue(script.startsWith("#!/usr/bin/env bash"), script.substring(0, 40));
    Path f = dir.resolve("r1-completion.bash");
    Files.writeString(f, script);
    assertEquals("validate", bash(f, "r1 va", 1).strip());
    assertTrue(bash(f, "r1 eval --max-n", 2).contains("--max-new-tokens"));
    assertTrue(bash(f, "r1 data d", 2).contains("demo"));
  }

  /** Sources the script in a real bash and asks its completion function for the words of {@code line}. */
  private static String bash(Path script, String line, int cword) throws Exception {
    // compopt only works inside a real completion; a no-op stands in for it here
    String cmd = "source '" + script + "'; compopt() { :; }; COMP_LINE='" + line + "'; COMP_WORDS=(" + line + "); COMP_CWORD=" + cword
        + "; COMP_POINT=${#COMP_LINE}; _complete_r1; printf '%s\\n' \"${COMPREPLY[@]}\"";
    Process p = new ProcessBuilder("bash", "-c", cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }
}
