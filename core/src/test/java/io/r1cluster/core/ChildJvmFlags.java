package io.r1cluster.core;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** JVM flags a test passes on to a child JVM it starts, so the child runs as this test JVM does. */
public final class ChildJvmFlags {
  private ChildJvmFlags() {}

  /**
   * The {@code --add-exports} / {@code --add-opens} flags this JVM runs with (the actors' Aeron and
   * Agrona need them), each with its value, followed by a {@code -Dkey=value} for every {@code r1.*}
   * system property set here (e.g. {@code r1.grpo.*} timing of a test).
   */
  public static List<String> inherited() {
    List<String> out = new ArrayList<>();
    List<String> jvmArgs = ManagementFactory.getRuntimeMXBean().getInputArguments();
    for (int i = 0; i < jvmArgs.size(); i++) {
      String arg = jvmArgs.get(i);
      if (arg.startsWith("--add-exports") || arg.startsWith("--add-opens")) {
        out.add(arg);
        if (!arg.contains("=") && i + 1 < jvmArgs.size()) {
          out.add(jvmArgs.get(++i));
        }
      }
    }
    for (String k : System.getProperties().stringPropertyNames()) {
      if (k.startsWith("r1.")) {
        out.add("-D" + k + "=" + System.getProperty(k));
      }
    }
    return out;
  }
}
