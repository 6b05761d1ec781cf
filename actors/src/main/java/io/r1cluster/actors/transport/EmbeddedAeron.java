package io.r1cluster.actors.transport;

import io.aeron.Aeron;
import io.aeron.driver.MediaDriver;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * One Aeron client per JVM, with its own embedded media driver (directory
 * {@code <dir-root>/r1-aeron-<pid>-<random>}, deleted on start and close) or — when
 * {@link AeronSettings#externalDir()} is set — attached to a driver that another JVM on this host
 * embeds (needed to subscribe to that JVM's {@code aeron:ipc} publication).
 *
 * <p>Driver threads use backing-off idle strategies so that several drivers on a 2-core host do not
 * starve each other.
 */
public final class EmbeddedAeron implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EmbeddedAeron.class);
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
      dir = s.dirRoot() + "/r1-aeron-" + ProcessHandle.current().pid() + "-"
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
