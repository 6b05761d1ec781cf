package io.r1cluster.core.dataset;

import java.nio.file.Path;
import java.util.Map;

/**
 * One raw dataset row and where it came from.
 *
 * @param file the file it was read from
 * @param number 1-based row number in that file (for JSON Lines: the line number)
 * @param columns column name → plain JSON value (String, Number, Boolean, List, Map, null)
 */
public record Row(Path file, int number, Map<String, Object> columns) {}
