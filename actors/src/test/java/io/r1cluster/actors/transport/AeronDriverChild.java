package io.r1cluster.actors.transport;

/**
 * A process that embeds an Aeron media driver below {@code r1.transport.aeron.dir-root}, prints
 * {@code DIR <its directory>} and then waits to be killed: the victim of {@link EmbeddedAeronSweepTest}.
 */
public final class AeronDriverChild {
  private AeronDriverChild() {}

  public static void main(String[] args) throws Exception {
    try {
      EmbeddedAeron aeron = EmbeddedAeron.launch(AeronSettings.defaults().withTermLength(1 << 20));
      aeron.aeron().addPublication("aeron:ipc", 7); // a log buffer in the directory, as a weight publisher has
      System.out.println("DIR " + aeron.directory());
      System.out.flush();
    } catch (Throwable t) {
      t.printStackTrace();
      System.exit(1); // the driver's threads would keep the JVM alive
    }
    Thread.sleep(Long.MAX_VALUE);
  }
}
