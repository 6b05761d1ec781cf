package io.r1cluster.actors.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.actors.cli.R1;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Bad `r1 serve` / `r1 chat` / `r1 member --roles serve` input exits with code 2 and names what is wrong, before anything starts. */
class ServeCommandTest {
  static String[] run(String... args) {
    CommandLine cl = R1.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err));
    int rc = cl.execute(args);
    return new String[] {String.valueOf(rc), err.toString()};
  }

  @Test
  void badInputExitsWith2NamingTheOption() {
    String unset = "R1_SERVE_TEST_UNSET_" + System.nanoTime();
    List<String[]> cases = List.of(
        new String[] {"--api-key-env", "serve", "demo", "--api-key-env", unset},
        new String[] {"--port", "serve", "demo", "--port", "70000"},
        new String[] {"--max-rows", "serve", "demo", "--max-rows", "0"},
        new String[] {"--max-model-len", "serve", "demo", "--max-model-len", "1"},
        new String[] {"neither an existing directory", "serve", "/no/such/checkpoint-dir"},
        new String[] {"--temperature", "chat", "demo", "--temperature", "5"},
        new String[] {"--max-tokens", "chat", "demo", "--max-tokens", "0"},
        new String[] {"--serve-model", "member", "--roles", "serve"},
        new String[] {"--serve-model", "member", "--roles", "rollout", "--serve-model", "demo"},
        new String[] {"--served-model-name", "member", "--roles", "reward", "--served-model-name", "x"},
        new String[] {"--serve-port", "member", "--roles", "serve", "--serve-model", "demo", "--serve-port", "70000"},
        new String[] {"--serve-max-rows", "member", "--roles", "rollout,serve", "--serve-model", "demo", "--serve-max-rows", "0"},
        new String[] {"--api-key-env", "member", "--roles", "serve", "--serve-model", "demo", "--api-key-env", unset},
        new String[] {"unknown role 'serving'", "member", "--roles", "serving"});
    for (String[] c : cases) {
      String[] args = java.util.Arrays.copyOfRange(c, 1, c.length);
      String[] r = run(args);
      assertEquals("2", r[0], String.join(" ", args) + " → " + r[1]);
      assertTrue(r[1].contains(c[0]) || r[1].toLowerCase().contains(c[0]), String.join(" ", args) + " → " + r[1]);
    }
  }
}
