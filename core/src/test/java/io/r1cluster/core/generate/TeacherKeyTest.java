package io.r1cluster.core.generate;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The teacher API key goes only over https or to a loopback host, unless the recipe allows http. */
class TeacherKeyTest {
  static final ChatCompletionsTeacher.Options FAST = new ChatCompletionsTeacher.Options(Duration.ofSeconds(5), 1,
      Duration.ofMillis(10), 1);

  @Test
  void whereAKeyMayTravel() {
    Map<String, Boolean> cases = Map.ofEntries(
        Map.entry("https://api.openai.com/v1", true),
        Map.entry("HTTPS://example.org:8443/v1", true),
        Map.entry("http://localhost:8000/v1", true),
        Map.entry("http://LOCALHOST/v1", true),
        Map.entry("http://127.0.0.1:8000/v1", true),
        Map.entry("http://127.8.9.10/v1", true),
        Map.entry("http://[::1]:8000/v1", true),
        Map.entry("http://10.0.0.5:8000/v1", false),
        Map.entry("http://192.168.1.20/v1", false),
        Map.entry("http://teacher.internal:8000/v1", false),
        Map.entry("http://localhost.evil.example/v1", false),
        Map.entry("http://127.0.0.1.nip.io/v1", false),
        Map.entry("http://[::ffff:10.0.0.1]/v1", false),
        Map.entry("ftp://localhost/v1", false));
    cases.forEach((url, safe) -> assertEquals(safe, ChatCompletionsTeacher.keyTravelsSafely(url), url));
  }

  @Test
  void keyOverPlainHttpToARemoteHostIsRefusedUnlessAllowed() {
    String secret = "sk-very-secret-4711";
    try (ChatCompletionsTeacher t = new ChatCompletionsTeacher("http://10.0.0.5:8000/v1", "m", 1, 1, 8, FAST)) {
      ChatCompletionsTeacher.TeacherException e = assertThrows(ChatCompletionsTeacher.TeacherException.class,
          () -> t.withApiKey(secret));
      assertTrue(e.getMessage().contains("teacher_allow_insecure_http: true"), e.getMessage());
      assertFalse(e.getMessage().contains(secret), e.getMessage());
      assertFalse(t.describe().contains(secret));
      assertDoesNotThrow(() -> t.withApiKey(secret, true)); // the recipe said so
      assertDoesNotThrow(() -> t.withApiKey(null)); // no key, nothing to protect
    }
    try (ChatCompletionsTeacher t = new ChatCompletionsTeacher("https://10.0.0.5:8000/v1", "m", 1, 1, 8, FAST)) {
      assertDoesNotThrow(() -> t.withApiKey(secret));
    }
  }

  @Test
  void recipeValidationRefusesAKeyOverHttpToARemoteHost(@TempDir Path dir) throws Exception {
    // HOME is set in every test JVM: it plays the API key variable (its value must not be printed)
    String home = System.getenv("HOME");
    assertTrue(home != null && !home.isBlank());
    String base = """
        model_name_or_path: demo
        dataset_name: demo
        pipeline:
          - name: traces
            type: generate
            teacher_api_key_env: HOME
            teacher_url: %s
        """;
    Path f = dir.resolve("r.yaml");
    Files.writeString(f, base.formatted("http://10.0.0.5:8000/v1"));
    RecipeException e = assertThrows(RecipeException.class, () -> Recipe.load(f));
    assertTrue(e.getMessage().contains(":7: teacher_url: the API key in $HOME would be sent over plain http"), e.getMessage());
    assertFalse(e.getMessage().contains(home), e.getMessage());

    Files.writeString(f, base.formatted("http://10.0.0.5:8000/v1") + "    teacher_allow_insecure_http: true\n");
    assertDoesNotThrow(() -> Recipe.load(f));
    Files.writeString(f, base.formatted("https://10.0.0.5:8000/v1"));
    assertDoesNotThrow(() -> Recipe.load(f));
    Files.writeString(f, base.formatted("http://127.0.0.1:8000/v1"));
    assertDoesNotThrow(() -> Recipe.load(f));
  }
}
