package io.r1cluster.core.generate;

import io.r1cluster.core.data.Prompt;
import java.util.List;

/** A teacher for trace generation: answers each chat prompt {@code n} times. */
public interface TraceTeacher extends AutoCloseable {
  /** One completion of a prompt: its text and token ids (empty when the teacher gives none). */
  record Answer(String text, int[] tokenIds) {}

  /** What the teacher is, for logs and the stats file. */
  String describe();

  /**
   * {@code n} answers for each prompt, in prompt order.
   *
   * @param seed sampling seed of this call (a local teacher is reproducible with it)
   */
  List<List<Answer>> answer(List<Prompt> prompts, int n, long seed);

  @Override
  default void close() {}
}
