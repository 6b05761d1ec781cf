package io.r1cluster.actors.metrics;

import com.typesafe.config.Config;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * {@code r1.metrics} read once and checked: where this node's Prometheus endpoint listens.
 *
 * @param port TCP port of {@code GET /metrics}; 0 means no endpoint
 * @param bindHostname the address to bind, already resolved from {@code r1.metrics.bind-hostname}
 *     (empty there: this node's Artery canonical hostname, i.e. the pod IP on Kubernetes)
 */
public record MetricsSettings(int port, String bindHostname) {
  public MetricsSettings {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("r1.metrics.port must be 0 (off) or a TCP port, got " + port);
    }
    if (bindHostname == null || bindHostname.isBlank()) {
      throw new IllegalArgumentException("r1.metrics bind address is empty");
    }
  }

  public boolean enabled() {
    return port != 0;
  }

  /** Reads {@code r1.metrics} from the ActorSystem's (or any fully resolved) config. */
  public static MetricsSettings fromConfig(Config root) {
    Config c = root.getConfig("r1.metrics");
    int port = c.getInt("port");
    String bind = c.getString("bind-hostname").trim();
    if (bind.isEmpty()) {
      bind = defaultBindHostname(root);
    }
    return new MetricsSettings(port, bind);
  }

  /**
   * The address the node is known by in the cluster (Artery's canonical hostname: POD_IP on
   * Kubernetes), else this host's address — never the wildcard address, which would publish the
   * metrics on every interface of the machine.
   */
  static String defaultBindHostname(Config root) {
    String path = "pekko.remote.artery.canonical.hostname";
    if (root.hasPath(path)) {
      String h = root.getString(path).trim();
      if (!h.isEmpty() && !h.startsWith("<")) { // "<getHostAddress>" / "<getHostName>" are Pekko's own markers
        return h;
      }
    }
    try {
      return InetAddress.getLocalHost().getHostAddress();
    } catch (UnknownHostException e) {
      return InetAddress.getLoopbackAddress().getHostAddress();
    }
  }

  public InetSocketAddress bindAddress() {
    return new InetSocketAddress(bindHostname, port);
  }
}
