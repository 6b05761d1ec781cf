package io.r1cluster.actors.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A real HTTP client on loopback (java.net.http) with the small JSON and SSE helpers the tests use. */
final class Http {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(10)).build();
  final String root; // http://127.0.0.1:PORT
  final String key;

  Http(Serving s, String key) {
    this(s.address(), key);
  }

  Http(java.net.InetSocketAddress a, String key) {
    this.root = "http://127.0.0.1:" + a.getPort();
    this.key = key;
  }

  /** Status and parsed JSON body (null when the body is not JSON). */
  record Reply(int status, JsonNode body, HttpResponse<String> raw) {}

  Reply get(String path) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(root + path)).GET());
  }

  Reply post(String path, String body) throws Exception {
    return send(HttpRequest.newBuilder(URI.create(root + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private Reply send(HttpRequest.Builder b) throws Exception {
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    HttpResponse<String> r = client.send(b.timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    JsonNode n;
    try {
      n = JSON.readTree(r.body());
    } catch (IOException e) {
      n = null;
    }
    return new Reply(r.statusCode(), n, r);
  }

  /** Opens a streaming POST; the caller reads events with {@link #events}. */
  HttpResponse<InputStream> open(String path, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(root + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(Duration.ofSeconds(60));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
  }

  /**
   * Parses a server-sent-event stream: each event is its {@code data:} lines joined; stops after
   * {@code [DONE]} (included) or after {@code limit} events.
   */
  static List<String> events(InputStream in, int limit) throws IOException {
    List<String> out = new ArrayList<>();
    BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    StringBuilder data = new StringBuilder();
    String line;
    while (out.size() < limit && (line = r.readLine()) != null) {
      if (line.isEmpty()) {
        if (data.length() > 0) {
          out.add(data.toString());
          if (data.toString().equals("[DONE]")) {
            break;
          }
          data.setLength(0);
        }
      } else if (line.startsWith("data:")) {
        if (data.length() > 0) {
          data.append('\n');
        }
        data.append(line.substring(5).stripLeading());
      } else if (!line.startsWith(":")) {
        throw new IOException("not an SSE line: " + line);
      }
    }
    return out;
  }

  /**
   * A POST written by hand on a plain socket, for tests that must decide when the client hangs up
   * (java.net.http may keep the connection open after its body stream is closed). The caller reads
   * the raw response from the socket and closes it.
   */
  java.net.Socket rawPost(String path, String body) throws IOException {
    java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), java.net.URI.create(root).getPort());
    s.setSoTimeout(60_000);
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    String head = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + (key != null ? "Authorization: Bearer " + key + "\r\n" : "") + "Content-Length: " + b.length + "\r\n\r\n";
    s.getOutputStream().write(head.getBytes(StandardCharsets.US_ASCII));
    s.getOutputStream().write(b);
    s.getOutputStream().flush();
    return s;
  }

  /** Reads raw bytes from {@code in} until {@code marker} has been seen (or the stream ends); returns them. */
  static String readUntil(InputStream in, String marker) throws IOException {
    StringBuilder seen = new StringBuilder();
    byte[] buf = new byte[512];
    int n;
    while (seen.indexOf(marker) < 0 && (n = in.read(buf)) > 0) {
      seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
    }
    return seen.toString();
  }

  /** Streams a request to the end: the parsed JSON chunks (the [DONE] marker checked and dropped). */
  List<JsonNode> stream(String path, String body) throws Exception {
    HttpResponse<InputStream> r = open(path, body);
    if (r.statusCode() != 200) {
      throw new AssertionError("HTTP " + r.statusCode() + ": " + new String(r.body().readAllBytes(), StandardCharsets.UTF_8));
    }
    if (!r.headers().firstValue("Content-Type").orElse("").startsWith("text/event-stream")) {
      throw new AssertionError("content type " + r.headers().firstValue("Content-Type"));
    }
    List<String> ev;
    try (InputStream in = r.body()) {
      ev = events(in, Integer.MAX_VALUE);
    }
    if (ev.isEmpty() || !ev.get(ev.size() - 1).equals("[DONE]")) {
      throw new AssertionError("the stream did not end with [DONE]: " + ev);
    }
    List<JsonNode> chunks = new ArrayList<>();
    for (String e : ev.subList(0, ev.size() - 1)) {
      chunks.add(JSON.readTree(e));
    }
    return chunks;
  }
}
