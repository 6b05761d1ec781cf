package io.r1cluster.actors.transport;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import io.aeron.driver.ThreadingMode;
import io.r1cluster.core.InputException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Aeron settings of the weight transport, read once from {@code r1.transport.aeron} (see
 * {@code reference.conf} for meaning and defaults) and validated like {@code Aeron.Context.conclude()}:
 * a bad value fails at start-up with the file, line and key.
 *
 * @param dirRoot parent directory of the embedded driver's directory (tmpfs: /dev/shm)
 * @param externalDir directory of a driver to connect to instead of embedding one; empty = embed
 * @param threadingMode driver threading
 * @param termLength term buffer length of the weight publication (power of two)
 * @param mtu UDP frame length
 * @param ipcMtu IPC frame length
 * @param socketRcvbuf SO_RCVBUF
 * @param socketSndbuf SO_SNDBUF
 * @param receiverWindow initial receiver window
 * @param streamId Aeron stream id of the weight stream
 * @param backPressureTimeout how long a publish may stay back-pressured before it fails
 */
public record AeronSettings(
    String dirRoot,
    String externalDir,
    ThreadingMode threadingMode,
    int termLength,
    int mtu,
    int ipcMtu,
    int socketRcvbuf,
    int socketSndbuf,
    int receiverWindow,
    int streamId,
    Duration backPressureTimeout) {

  public static final String PATH = "r1.transport.aeron";

  public AeronSettings {
    check(Integer.bitCount(termLength) == 1 && termLength >= 64 * 1024 && termLength <= 1 << 30,
        "term-length", "must be a power of two in [64 KiB, 1 GiB], got " + termLength);
    check(mtu % 32 == 0 && mtu >= 64 && mtu <= 65504, "mtu", "must be a multiple of 32 in [64, 65504], got " + mtu);
    check(ipcMtu % 32 == 0 && ipcMtu >= 64 && ipcMtu <= 65504, "ipc-mtu",
        "must be a multiple of 32 in [64, 65504], got " + ipcMtu);
    check(receiverWindow <= socketRcvbuf, "receiver-window",
        receiverWindow + " exceeds socket-rcvbuf " + socketRcvbuf + " (the driver refuses it)");
    check(receiverWindow <= termLength / 2, "receiver-window",
        receiverWindow + " exceeds term-length / 2 = " + termLength / 2);
    check(receiverWindow >= mtu, "receiver-window", receiverWindow + " is smaller than mtu " + mtu);
    check(streamId != 0, "stream-id", "must not be 0");
  }

  private static void check(boolean ok, String key, String detail) {
    if (!ok) {
      throw new IllegalArgumentException(PATH + "." + key + ": " + detail);
    }
  }

  /** The defaults from {@code reference.conf}. */
  public static AeronSettings defaults() {
    return fromConfig(ConfigFactory.load());
  }

  /** Reads {@code r1.transport.aeron} from a resolved config (e.g. the ActorSystem's). */
  public static AeronSettings fromConfig(Config root) {
    Config c = root.getConfig(PATH);
    try {
      return new AeronSettings(
          c.getString("dir-root"),
          c.getString("external-dir"),
          ThreadingMode.valueOf(c.getString("threading-mode")),
          intBytes(c, "term-length"),
          intBytes(c, "mtu"),
          intBytes(c, "ipc-mtu"),
          intBytes(c, "socket-rcvbuf"),
          intBytes(c, "socket-sndbuf"),
          intBytes(c, "receiver-window"),
          c.getInt("stream-id"),
          c.getDuration("back-pressure-timeout"));
    } catch (IllegalArgumentException e) {
      String msg = e.getMessage();
      String key = msg != null && msg.startsWith(PATH + ".") ? msg.substring(PATH.length() + 1, msg.indexOf(':')) : null;
      if (key != null && c.hasPath(key)) {
        ConfigValue v = c.getValue(key);
        String file = v.origin().filename() != null ? v.origin().filename() : v.origin().description();
        throw new InputException(Path.of(file), v.origin().lineNumber(), PATH + "." + key,
            msg.substring(msg.indexOf(':') + 2), e);
      }
      throw e;
    }
  }

  private static int intBytes(Config c, String key) {
    return Math.toIntExact(c.getBytes(key));
  }

  /** A copy with another term length (tests and benchmarks). */
  public AeronSettings withTermLength(int length) {
    return new AeronSettings(dirRoot, externalDir, threadingMode, length, mtu, ipcMtu, socketRcvbuf, socketSndbuf,
        Math.min(receiverWindow, length / 2), streamId, backPressureTimeout);
  }

  /** A copy that connects to the driver in {@code dir} instead of embedding one. */
  public AeronSettings withExternalDir(String dir) {
    return new AeronSettings(dirRoot, dir, threadingMode, termLength, mtu, ipcMtu, socketRcvbuf, socketSndbuf,
        receiverWindow, streamId, backPressureTimeout);
  }
}
