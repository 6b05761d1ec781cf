package io.r1cluster.core.generate;

import io.r1cluster.core.data.Prompt;
import java.util.List;

/** A teacher for trace generation: answers each chat prompt {@code n} times. */
public interface TraceTeacher extends AutoCloseable {
  /** One completion of a prompt: its text and token ids (empty when the teacher gives none). */
  record Answer(String text, int[] tokenIds) {}

  /**
   * Thrown by {@link #answer} when the run is cancelled while the teacher waits for its answers (a
   * teacher served by other processes): the generator stops as it does between two batches,
   * writing nothing.
   */
  final class Cancelled extends RuntimeException {
    public Cancelled(String message) {
      super(message, null, false, false);
    }
  }

  /** What the teacher is, for logs and the stats file. */
  String describe();

  /**
   * {@code n} answers for each prompt, in prompt order.
   *
   * @param seed sampling seed of this call (a local teacher is reproducible with it)
   * @throws Cancelled when the run was cancelled before the answers came
   */
  List<List<Answer>> answer(List<Prompt> prompts, int n, long seed);

  @Override
  default void close() {}
}
