package io.r1cluster.core.recipe;

import java.nio.file.Path;

/** Where a pipeline stage takes its input model from ({@code from:}). */
public sealed interface From {
  /** The output of the stage before (or {@code model_name_or_path} for the first stage). */
  record Previous() implements From {}

  /** The output of an earlier stage, by name. */
  record Stage(String name) implements From {}

  /** A checkpoint directory (or hub id resolved through the local cache). */
  record Checkpoint(Path path) implements From {}
}
