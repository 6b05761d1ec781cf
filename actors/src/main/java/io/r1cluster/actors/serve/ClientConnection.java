package io.r1cluster.actors.serve;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.http.javadsl.model.AttributeKey;

/**
 * One client's TCP connection to the API, as seen by the requests that arrive on it (each request
 * carries it as the attribute {@link #KEY}). The server watches the connection's own streams, not
 * the writes to it: when its request side ends (the client closed, half-closed or reset its socket;
 * after a {@code Connection: close} request Pekko HTTP ends it only once the response is out) or
 * the whole connection ends, every generation still registered here is cancelled, so its rows
 * leave the running batch at the next engine step whether or not a byte was written since. A
 * failed write would tell much later: a hung-up client's socket buffers hold hundreds of KiB of
 * tokens, and a non-streaming request writes nothing until its answer is complete. Like nginx and
 * uvicorn, a client that half-closes after its request counts as gone.
 *
 * <p>Thread-safe: requests register from the HTTP dispatcher, the engine thread and stream
 * completion callbacks deregister, the connection's termination closes.
 */
final class ClientConnection {
  static final AttributeKey<ClientConnection> KEY = AttributeKey.create("r1-client-connection", ClientConnection.class);

  private final Set<Generation> open = new LinkedHashSet<>(); // guarded by this
  private boolean closed; // guarded by this

  /** Ties {@code g} to this connection; cancels it at once when the connection has already ended. */
  void register(Generation g) {
    synchronized (this) {
      if (!closed) {
        open.add(g);
        return;
      }
    }
    g.cancel();
  }

  /** {@code g} has sent its whole response (or was cancelled): nothing to do for it any more. */
  synchronized void done(Generation g) {
    open.remove(g);
  }

  /** The connection ended: cancels every generation still running for it. */
  void closed() {
    List<Generation> running;
    synchronized (this) {
      closed = true;
      running = new ArrayList<>(open);
      open.clear();
    }
    running.forEach(Generation::cancel);
  }
}
