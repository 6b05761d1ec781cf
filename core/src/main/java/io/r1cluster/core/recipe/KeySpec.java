package io.r1cluster.core.recipe;

import java.util.List;
import java.util.Set;

/**
 * One recognised recipe key.
 *
 * @param name the YAML key
 * @param type accepted value shape
 * @param nullable whether {@code null} is accepted (Python {@code Optional[...]})
 * @param defaultText the upstream default as written in its source ({@code null} when none)
 * @param acted whether r1-cluster acts on it; keys not acted on are reported as ignored
 * @param sources the dataclasses declaring it
 * @param note other defaults (e.g. GRPO's learning rate) or a remark
 * @param choices allowed values for {@link ValueType#ENUM}/{@link ValueType#ENUM_OR_BOOL} (lower case)
 */
public record KeySpec(
    String name, ValueType type, boolean nullable, String defaultText, boolean acted, Set<KeySource> sources,
    String note, List<String> choices) {
  public KeySpec {
    sources = Set.copyOf(sources);
    choices = List.copyOf(choices);
  }
}
