package io.r1cluster.actors.transport;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * One Aeron client per JVM, with its own embedded media driver (directory
 * {@code <dir-root>/r1-aeron-<pid>-<random>}, deleted on start and close; directories that killed
 * processes left behind are removed when the next driver starts, {@link #sweepStale}) or — when
 * {@link AeronSettings#externalDir()} is set — attached to a driver that another JVM on this host
 * embeds (needed to subscribe to that JVM's {@code aeron:ipc} publication).
 *
 * <p>Driver threads use backing-off idle strategies so that several drivers on a 2-core host do not
 * starve each other.
 */
public final class EmbeddedAeron implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EmbeddedAeron.class);
  /** Prefix of every driver directory this class creates (and the only ones {@link #sweepStale} touches). */
  static final String DIR_PREFIX = "r1-aeron-";
  /**
   * A driver whose heartbeat in its CnC file is older than this is gone: Aeron's own default driver
   * timeout, after which its clients give up on it too.
   */
  static final java.time.Duration STALE_AFTER = java.time.Duration.ofSeconds(10);
  private final AeronSettings settings;
  private final MediaDriver driver;
  private final Aeron aeron;
  private final String directory;

  private EmbeddedAeron(AeronSettings settings, MediaDriver driver, Aeron aeron, String directory) {
    this.settings = settings;
    this.driver = driver;
    this.aeron = aeron;
    this.directory = directory;
  }

  /** Starts a media driver (unless an external one is configured) and connects a client. */
  public static EmbeddedAeron launch(AeronSettings s) {
    MediaDriver driver = null;
    String dir = s.externalDir();
    if (dir.isEmpty()) {
      sweepStale(java.nio.file.Path.of(s.dirRoot()), STALE_AFTER);
      dir = s.dirRoot() + "/" + DIR_PREFIX + ProcessHandle.current().pid() + "-"
          + Long.toHexString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE);
      MediaDriver.Context ctx = new MediaDriver.Context()
          .aeronDirectoryName(dir)
          .dirDeleteOnStart(true)
          .dirDeleteOnShutdown(true)
          .threadingMode(s.threadingMode())
          .sharedIdleStrategy(idle())
          .conductorIdleStrategy(idle())
          .senderIdleStrategy(idle())
          .receiverIdleStrategy(idle())
          .sharedNetworkIdleStrategy(idle())
          .publicationTermBufferLength(s.termLength())
          .ipcTermBufferLength(s.termLength())
          .mtuLength(s.mtu())
          .ipcMtuLength(s.ipcMtu())
          .socketRcvbufLength(s.socketRcvbuf())
          .socketSndbufLength(s.socketSndbuf())
          .initialWindowLength(s.receiverWindow())
          .clientLivenessTimeoutNs(TimeUnit.SECONDS.toNanos(10))
          .imageLivenessTimeoutNs(TimeUnit.SECONDS.toNanos(10))
          .publicationUnblockTimeoutNs(TimeUnit.SECONDS.toNanos(30))
          .termBufferSparseFile(true)
          .warnIfDirectoryExists(false);
      driver = MediaDriver.launchEmbedded(ctx);
      dir = driver.aeronDirectoryName();
    }
    try {
      // Aeron's default client error handler exits the JVM when the driver goes away (e.g. the
      // learner JVM that hosts the driver of an IPC receiver closed it): log instead
      String where = dir;
      Aeron aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir)
          // fault a log buffer's pages in when the client maps it, not on the first write (or read) of
          // each page during a publish: a 3.2 MB snapshot took 13-25 ms to publish until its log's
          // three terms had all been written once (60 versions of the demo model), 3-6 ms pre-touched
          // (2 cores, /dev/shm); the log is resident after one pass over it either way
          .preTouchMappedMemory(true)
          .idleSleepDurationNs(TimeUnit.MILLISECONDS.toNanos(1))
          .errorHandler(t -> clientError(where, t)));
      return new EmbeddedAeron(s, driver, aeron, dir);
    } catch (RuntimeException e) {
      CloseHelper.quietClose(driver);
      throw e;
    }
  }

  /**
   * Removes the {@code r1-aeron-*} directories below {@code root} whose driver no longer runs. A driver
   * deletes its directory when it closes, but a process killed with SIGKILL, by the OOM killer or by a
   * container restart leaves it behind, and on tmpfs its log buffers stay in memory: 239 MiB per
   * directory with the default 64 MiB terms (pre-touched), and a pod's {@code /dev/shm} emptyDir
   * survives a container restart. A directory is stale when the driver heartbeat in its {@code cnc.dat}
   * is older than {@code staleAfter} (Aeron's own liveness test, which works across PID namespaces),
   * or when it has no readable CnC file and was last modified longer ago than that (a process killed
   * while its driver started). A directory named after another process that is still alive on this
   * host is kept whatever its heartbeat says (a paused JVM).
   *
   * @return the directories removed
   */
  public static java.util.List<java.nio.file.Path> sweepStale(java.nio.file.Path root, java.time.Duration staleAfter) {
    java.util.List<java.nio.file.Path> removed = new java.util.ArrayList<>();
    java.io.File[] entries = root.toFile().listFiles((d, name) -> name.startsWith(DIR_PREFIX));
    if (entries == null) {
      return removed;
    }
    long self = ProcessHandle.current().pid();
    long bytes = 0;
    for (java.io.File d : entries) {
      if (!d.isDirectory() || !isStale(d, staleAfter, self)) {
        continue;
      }
      long size = sizeOf(d);
      org.agrona.IoUtil.delete(d, true); // another driver starting at the same moment may race us to it
      if (!d.exists()) {
        removed.add(d.toPath());
        bytes += size;
      }
    }
    if (!removed.isEmpty()) {
      LOG.info("removed {} Aeron director{} of drivers that no longer run ({} MiB, apparent size): {}", removed.size(),
          removed.size() == 1 ? "y" : "ies", bytes >> 20, removed);
    }
    return removed;
  }

  private static boolean isStale(java.io.File dir, java.time.Duration staleAfter, long self) {
    String rest = dir.getName().substring(DIR_PREFIX.length());
    int dash = rest.indexOf('-');
    try {
      long pid = Long.parseLong(dash < 0 ? rest : rest.substring(0, dash));
      if (pid != self && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
        return false;
      }
    } catch (NumberFormatException e) {
      return false; // not a name this class made
    }
    boolean old = System.currentTimeMillis() - lastModified(dir) > staleAfter.toMillis();
    java.io.File cnc = new java.io.File(dir, io.aeron.CncFileDescriptor.CNC_FILE);
    if (!cnc.isFile() || cnc.length() <= io.aeron.CncFileDescriptor.META_DATA_LENGTH) {
      return old;
    }
    java.nio.MappedByteBuffer buf = null;
    try {
      buf = org.agrona.IoUtil.mapExistingFile(cnc, "CnC file");
      int version = io.aeron.CncFileDescriptor.createMetaDataBuffer(buf)
          .getIntVolatile(io.aeron.CncFileDescriptor.cncVersionOffset(0));
      if (version == 0) {
        return old; // never initialised: its driver died while starting (Aeron's own test would wait for it)
      }
      return !io.aeron.CommonContext.isDriverActive(staleAfter.toMillis(), msg -> { }, buf);
    } catch (RuntimeException e) {
      return false; // e.g. another Aeron version's layout: not ours to judge
    } finally {
      if (buf != null) {
        org.agrona.IoUtil.unmap(buf);
      }
    }
  }

  private static long lastModified(java.io.File dir) {
    long t = dir.lastModified();
    java.io.File[] files = dir.listFiles();
    if (files != null) {
      for (java.io.File f : files) {
        t = Math.max(t, f.lastModified());
      }
    }
    return t;
  }

  private static long sizeOf(java.io.File f) {
    if (f.isFile()) {
      return f.length();
    }
    long n = 0;
    java.io.File[] files = f.listFiles();
    if (files != null) {
      for (java.io.File c : files) {
        n += sizeOf(c);
      }
    }
    return n;
  }

  /**
   * A client whose driver was closed on purpose (the run hosting it ended before this node's engine
   * was closed, e.g. an embedded stage closes its job before its actor system) gets a timeout and then
   * its conductor's termination: expected at the end of a run, so logged at INFO, not as a "FATAL" warning.
   */
  static void clientError(String dir, Throwable t) {
    boolean driverGone = (t instanceof io.aeron.exceptions.DriverTimeoutException
        && String.valueOf(t.getMessage()).contains("has been shutdown"))
        || t instanceof org.agrona.concurrent.AgentTerminationException;
    if (driverGone) {
      LOG.info("Aeron client of {}: the driver has shut down (its run ended); this client stops", dir);
    } else {
      LOG.warn("Aeron client of {}: {}", dir, t.toString());
    }
  }

  /** The idle strategy of every r1 Aeron loop: the driver, publishers, receivers and the weights benchmark. */
  public static BackoffIdleStrategy idle() {
    return new BackoffIdleStrategy(64, 16, TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MILLISECONDS.toNanos(1));
  }

  public Aeron aeron() {
    return aeron;
  }

  public AeronSettings settings() {
    return settings;
  }

  /** The driver directory (pass it as {@code external-dir} to IPC receivers in other JVMs). */
  public String directory() {
    return directory;
  }

  /** Whether this instance embeds the driver. */
  public boolean embedsDriver() {
    return driver != null;
  }

  @Override
  public void close() {
    CloseHelper.closeAll(aeron, driver);
  }
}
