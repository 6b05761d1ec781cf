package io.r1cluster.actors.transport;

import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import org.agrona.concurrent.IdleStrategy;

/**
 * A receiver process for {@code bench weights}: {@code java -cp … WeightReceiverMain MODE CHANNEL
 * EXTERNAL_DIR PUBLISHER_ID_OR_BYTES}.
 *
 * <ul>
 *   <li>{@code weights}: a {@link WeightReceiver} for publisher id {@code arg3}; prints
 *       {@code DONE <version>} each time a version is complete and verified.
 *   <li>{@code raw}: Aeron's own throughput baseline — a plain subscription on stream id + 1 that
 *       only counts bytes; prints {@code DONE <n>} after every {@code arg3} bytes.
 * </ul>
 * In {@code weights} mode the first stdin line is the stream key in hex ({@link WeightKey#toHex()}).
 * It prints {@code READY} once a publication is connected and exits when stdin closes.
 * {@code EXTERNAL_DIR} is the publisher's driver directory for IPC, {@code -} to embed a driver.
 */
public final class WeightReceiverMain {
  private WeightReceiverMain() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    String channel = args[1];
    AeronSettings settings = AeronSettings.defaults();
    if (!"-".equals(args[2])) {
      settings = settings.withExternalDir(args[2]);
    }
    long arg = Long.parseLong(args[3]);
    try (EmbeddedAeron aeron = EmbeddedAeron.launch(settings)) {
      Thread work;
      if (mode.equals("weights")) {
        // the key comes as the first line on stdin (never on the command line, where ps shows it)
        BufferedReader keyIn = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        WeightKey key = WeightKey.ofHex(keyIn.readLine());
        WeightReceiver receiver = WeightReceiver.create(aeron.aeron(), channel, settings, arg, key);
        // the benchmark measures the stream: every authenticated version counts as announced
        receiver.announced(Long.MAX_VALUE);
        receiver.onComplete(v -> say("DONE " + v));
        receiver.start();
        awaitConnected(receiver::isConnected);
        say("READY");
        waitForStdinClose(keyIn);
        receiver.close();
        return;
      }
      Subscription sub = aeron.aeron().addSubscription(channel, settings.streamId() + 1);
      long[] count = new long[2];
      FragmentHandler counter = (buffer, offset, length, header) -> {
        count[0] += length;
        if (count[0] >= arg) {
          count[0] -= arg;
          say("DONE " + (++count[1]));
        }
      };
      work = new Thread(() -> {
        IdleStrategy idle = EmbeddedAeron.idle();
        while (!Thread.currentThread().isInterrupted()) {
          idle.idle(sub.poll(counter, 64));
        }
      }, "raw-receiver");
      work.setDaemon(true);
      work.start();
      awaitConnected(sub::isConnected);
      say("READY");
      waitForStdinClose(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)));
      work.interrupt();
      work.join(1000);
    }
  }

  private static void awaitConnected(java.util.function.BooleanSupplier connected) throws InterruptedException {
    while (!connected.getAsBoolean()) {
      Thread.sleep(1);
    }
  }

  private static void waitForStdinClose(BufferedReader in) throws Exception {
    while (in.readLine() != null) {
      // ignore
    }
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
