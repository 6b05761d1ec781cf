package io.r1cluster.core.data;

import java.util.List;

/**
 * One prompt and its G completions, all sampled from the same policy version.
 *
 * @param prompt the prompt
 * @param promptTokenIds the rendered (chat-templated) prompt's token ids
 * @param completions the G completions
 * @param policyVersion the policy version that produced every completion
 */
public record Group(Prompt prompt, int[] promptTokenIds, List<Completion> completions, long policyVersion) {
  public Group {
    completions = List.copyOf(completions);
    for (Completion c : completions) {
      if (c.policyVersion() != policyVersion) {
        throw new IllegalArgumentException(
            "completion from version " + c.policyVersion() + " in a group of version " + policyVersion);
      }
    }
  }

  public int size() {
    return completions.size();
  }
}
