package io.r1cluster.core.pipeline;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ServiceLoader;

/**
 * Where a pipeline's {@code grpo} and {@code combined} stages run when nobody installs a runner
 * ({@link Pipeline#grpoRunner}): a service the actors module provides (the embedded actor system —
 * every role in one JVM, weights over Aeron IPC, the same code as a cluster), found with
 * {@link ServiceLoader}. {@code core} does not depend on the actors: without a provider on the class
 * path (core's own tests) the stages run on the in-process {@link io.r1cluster.core.grpo.GrpoTrainer}.
 * {@code -Dr1.grpo.runtime=in-process} (or {@code R1_GRPO_RUNTIME=in-process}) chooses the in-process
 * trainer even when a provider is present.
 */
public interface GrpoStageRuntime {
  /** System property (and, upper-cased with '_', environment variable) that picks a runtime by name. */
  String PROPERTY = "r1.grpo.runtime";
  /** The name that selects the in-process trainer. */
  String IN_PROCESS = "in-process";

  /** Short name, shown in the pipeline's log ({@code actors}). */
  String name();

  /** The runner of GRPO / combined stages of the pipeline of {@code recipeFile}, logging to {@code log}. */
  Pipeline.StageRunner runner(Path recipeFile, PrintStream log);

  /** The runtime chosen for this process: by {@link #PROPERTY} when set, else the first provider; null = in-process. */
  static GrpoStageRuntime find() {
    String want = System.getProperty(PROPERTY, System.getenv("R1_GRPO_RUNTIME"));
    if (IN_PROCESS.equals(want)) {
      return null;
    }
    for (GrpoStageRuntime r : ServiceLoader.load(GrpoStageRuntime.class)) {
      if (want == null || want.isBlank() || want.equals(r.name())) {
        return r;
      }
    }
    if (want != null && !want.isBlank()) {
      throw new io.r1cluster.core.InputException(null, 0, PROPERTY, "no GRPO runtime named '" + want
          + "' on the class path (known: " + IN_PROCESS + names() + ")");
    }
    return null;
  }

  private static String names() {
    StringBuilder b = new StringBuilder();
    for (GrpoStageRuntime r : ServiceLoader.load(GrpoStageRuntime.class)) {
      b.append(", ").append(r.name());
    }
    return b.toString();
  }
}
