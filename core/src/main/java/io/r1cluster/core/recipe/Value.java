package io.r1cluster.core.recipe;

/**
 * A validated recipe value and the line it came from.
 *
 * @param spec the key it belongs to
 * @param value the converted value: Integer, Double, Boolean, String, List, Map (or {@code null})
 * @param line 1-based line in the recipe file
 */
public record Value(KeySpec spec, Object value, int line) {}
