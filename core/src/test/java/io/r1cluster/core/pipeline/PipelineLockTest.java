package io.r1cluster.core.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.r1cluster.core.InputException;
import io.r1cluster.core.checkpoint.RunFolderLock;
import io.r1cluster.core.recipe.Recipe;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A second run on a folder in use is bad input (exit 2) and touches nothing there. */
@Timeout(120)
class PipelineLockTest {
  @TempDir Path dir;

  @Test
  void secondRunOnABusyFolderFailsBeforeWritingAnything() throws Exception {
    Path data = PipelineTest.data(dir);
    Path r = PipelineTest.recipe(dir, data, 2, false, "");
    Path run = dir.resolve("run");
    try (RunFolderLock first = RunFolderLock.acquire(run)) { // the first `r1 run`, still working
      InputException e = assertThrows(InputException.class,
          () -> new Pipeline(Recipe.load(r), run, new PrintStream(OutputStream.nullOutputStream())).run());
      assertTrue(e.getMessage().contains("run folder is in use by another r1 process (pid "
          + ProcessHandle.current().pid()), e.getMessage());
      try (Stream<Path> s = Files.list(run)) {
        assertEquals(List.of(RunFolderLock.FILE), s.map(p -> p.getFileName().toString()).toList(),
            "no state.json, no stage folder");
      }
    }
  }
}
