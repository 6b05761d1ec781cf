package io.r1cluster.actors.transport;

/**
 * Aeron channel strings for the weight stream.
 *
 * <ul>
 *   <li>One host: {@link #ipc} on both sides (receivers in other JVMs attach to the publisher's
 *       driver via {@code external-dir}).
 *   <li>Several hosts: UDP multi-destination-cast with dynamic control — the publisher listens on a
 *       control endpoint, each receiver subscribes with its own data endpoint and that control
 *       address; the publisher sends every datagram to every receiver that has joined. No IP
 *       multicast is needed. {@code fc=min}: the publication advances at the slowest receiver's
 *       pace, so nobody falls out of the term window.
 * </ul>
 */
public final class WeightChannels {
  private WeightChannels() {}

  /** IPC publication/subscription channel with the configured term length and IPC MTU. */
  public static String ipc(AeronSettings s) {
    return "aeron:ipc?term-length=" + s.termLength() + "|mtu=" + s.ipcMtu();
  }

  /**
   * MDC publication channel.
   *
   * @param controlEndpoint {@code host:port} the publisher binds for receivers' status messages
   */
  public static String udpPublication(AeronSettings s, String controlEndpoint) {
    return "aeron:udp?control=" + controlEndpoint + "|control-mode=dynamic|fc=min"
        + "|term-length=" + s.termLength() + "|mtu=" + s.mtu();
  }

  /**
   * MDC subscription channel.
   *
   * @param dataEndpoint {@code host:port} this receiver binds for data ({@code host:0}: any free port)
   * @param controlEndpoint the publisher's control endpoint
   */
  public static String udpSubscription(AeronSettings s, String dataEndpoint, String controlEndpoint) {
    return "aeron:udp?endpoint=" + dataEndpoint + "|control=" + controlEndpoint + "|control-mode=dynamic"
        + "|rcv-wnd=" + s.receiverWindow();
  }

  /** Whether a channel is IPC. */
  public static boolean isIpc(String channel) {
    return channel.startsWith("aeron:ipc");
  }
}
