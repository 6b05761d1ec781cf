package io.r1cluster.core.device;

/**
 * Gives the native memory a finished run has freed back to the operating system.
 *
 * <p>The launcher (and surefire) run the JVM with glibc's automatic trimming turned off
 * ({@code MALLOC_TRIM_THRESHOLD_} very large, {@code MALLOC_TOP_PAD_} 256 MiB): PyTorch frees and
 * re-allocates a step's activations every step, and returning them to the kernel after each use made
 * each step page-fault them in again (docs/benchmarks.md). The price is that freed memory stays in
 * the process, in each of glibc's per-thread arenas (up to 8 per core), so a JVM that runs one run
 * after another, each on new threads, holds the peak of every arena it has used: the
 * {@code grpo-engine} benchmark (17 runs in one JVM) reached 12 GiB resident with under 1 GiB in
 * use, and was OOM-killed once. Calling glibc's {@code malloc_trim(0)} when a run ends (not between
 * steps) returns the free pages of every arena; in that benchmark 9.2 GiB resident fell to 2.3 GiB.
 *
 * <p>A no-op (returning false) where there is no glibc {@code malloc_trim}: macOS, Windows, musl.
 */
public final class NativeHeap {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(NativeHeap.class);
  private static volatile com.sun.jna.Function mallocTrim;
  private static volatile boolean looked;

  private NativeHeap() {}

  /** Calls glibc's {@code malloc_trim(0)}; false where the C library has none. */
  public static boolean trim() {
    com.sun.jna.Function f = function();
    if (f == null) {
      return false;
    }
    f.invokeInt(new Object[] {0});
    return true;
  }

  /**
   * {@link #trim()}, logged at INFO with the resident set before and after when it released at least
   * 64 MiB ({@code what}: the run that ended).
   */
  public static void releaseAfter(String what) {
    long before = residentBytes();
    if (!trim()) {
      return;
    }
    long after = residentBytes();
    if (before > 0 && after > 0 && before - after >= 64L << 20) {
      LOG.info("{} ended: returned {} MiB of freed native memory to the OS (resident {} -> {} MiB)", what,
          (before - after) >> 20, before >> 20, after >> 20);
    }
  }

  /** This process's resident set ({@code VmRSS}) in bytes, or -1 where /proc is not there. */
  public static long residentBytes() {
    return io.r1cluster.core.generate.CheckpointDecode.status(ProcessHandle.current().pid(), "VmRSS");
  }

  private static com.sun.jna.Function function() {
    if (!looked) {
      synchronized (NativeHeap.class) {
        if (!looked) {
          try {
            if (System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
              mallocTrim = com.sun.jna.NativeLibrary.getInstance("c").getFunction("malloc_trim");
            }
          } catch (UnsatisfiedLinkError | RuntimeException e) {
            LOG.debug("no malloc_trim in this C library: freed native memory stays in the process", e);
          }
          looked = true;
        }
      }
    }
    return mallocTrim;
  }
}
