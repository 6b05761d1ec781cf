package io.r1cluster.actors.serve;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.serve.TextStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * One API call in flight: its n choices, their text streams, and the response they make — one
 * JSON document ({@link #result()}) or a stream of server-sent-event payloads (the {@code events}
 * consumer, then {@code [DONE]}).
 *
 * <p>All token callbacks come from the engine's single thread, so a choice's state needs no lock;
 * {@link #cancel} (from the HTTP side) only flips the tickets' flags.
 */
final class Generation {
  /** The SSE end marker's payload. */
  static final String DONE = "[DONE]";

  private final ApiRequest req;
  private final ServedModel model;
  private final ObjectMapper json;
  private final String id;
  private final long created;
  private final Consumer<String> events; // null: not streaming
  private final Runnable onFirstToken;
  private final CompletableFuture<ObjectNode> result = new CompletableFuture<>();
  private final List<Choice> choices = new ArrayList<>();
  private List<ServeBackend.Ticket> tickets = List.of(); // guarded by this
  private boolean cancelled; // guarded by this
  private int open;
  private boolean firstToken = true;

  Generation(ApiRequest req, ServedModel model, ObjectMapper json, String id, long created, Consumer<String> events,
      Runnable onFirstToken) {
    this.req = req;
    this.model = model;
    this.json = json;
    this.id = id;
    this.created = created;
    this.events = events;
    this.onFirstToken = onFirstToken;
    for (int i = 0; i < req.n(); i++) {
      choices.add(new Choice(i));
    }
    open = req.n();
  }

  /** The jobs to submit, one per choice; seeds derive from the request's seed and the choice index. */
  List<ServeBackend.Job> jobs(long seed) {
    List<ServeBackend.Job> out = new ArrayList<>();
    for (Choice c : choices) {
      out.add(new ServeBackend.Job(req.promptIds(), req.params(), seed + 0x9E3779B97F4A7C15L * c.index,
          req.logprobs() ? req.topLogprobs() : -1, c));
    }
    return out;
  }

  /** Hands over the tickets; stops or cancels asked for before they existed take effect now. */
  synchronized void attach(List<ServeBackend.Ticket> t) {
    tickets = t;
    for (Choice c : choices) {
      if (c.stopRequested) {
        t.get(c.index).stop();
      }
    }
    if (cancelled) {
      t.forEach(ServeBackend.Ticket::cancel);
    }
  }

  /**
   * Frees every choice's row (client gone). A non-streaming {@link #result()} that is not done yet
   * completes with a {@link CancellationException}, so nothing waits for an answer nobody reads.
   */
  synchronized void cancel() {
    cancelled = true;
    for (ServeBackend.Ticket t : tickets) {
      t.cancel();
    }
    if (events == null) {
      result.completeExceptionally(new CancellationException("the client closed its connection"));
    }
  }

  private synchronized void requestStop(Choice c) {
    if (tickets.isEmpty()) {
      c.stopRequested = true;
    } else {
      tickets.get(c.index).stop();
    }
  }

  /** The whole response of a non-streaming call; completes exceptionally when the engine fails. */
  CompletableFuture<ObjectNode> result() {
    return result;
  }

  private ObjectNode chunk() {
    ObjectNode o = json.createObjectNode();
    o.put("id", id);
    o.put("object", req.chat() ? "chat.completion.chunk" : "text_completion");
    o.put("created", created);
    o.put("model", model.id());
    return o;
  }

  private void send(ObjectNode o) {
    events.accept(o.toString());
  }

  /** The first chunk of each choice in a chat stream carries the role. */
  void start() {
    if (events != null && req.chat()) {
      for (Choice c : choices) {
        ObjectNode o = chunk();
        ObjectNode ch = o.putArray("choices").addObject();
        ch.put("index", c.index);
        ch.putObject("delta").put("role", "assistant").put("content", "");
        ch.putNull("logprobs");
        ch.putNull("finish_reason");
        send(o);
      }
    }
  }

  private ObjectNode usage() {
    int completion = 0;
    for (Choice c : choices) {
      completion += c.tokens;
    }
    ObjectNode u = json.createObjectNode();
    u.put("prompt_tokens", req.promptIds().length);
    u.put("completion_tokens", completion);
    u.put("total_tokens", req.promptIds().length + completion);
    return u;
  }

  private void allDone() {
    if (events != null) {
      if (req.includeUsage()) {
        ObjectNode o = chunk();
        o.putArray("choices");
        o.set("usage", usage());
        send(o);
      }
      events.accept(DONE);
      result.complete(null);
      return;
    }
    ObjectNode o = json.createObjectNode();
    o.put("id", id);
    o.put("object", req.chat() ? "chat.completion" : "text_completion");
    o.put("created", created);
    o.put("model", model.id());
    ArrayNode cs = o.putArray("choices");
    for (Choice c : choices) {
      ObjectNode ch = cs.addObject();
      ch.put("index", c.index);
      TextStream.Parts parts = c.text.parts();
      if (req.chat()) {
        ObjectNode msg = ch.putObject("message");
        msg.put("role", "assistant");
        msg.put("content", parts.content());
        if (parts.reasoning() != null) {
          msg.put("reasoning_content", parts.reasoning());
        }
      } else {
        ch.put("text", parts.content());
      }
      if (req.logprobs()) {
        ch.set("logprobs", c.logprobs(c.allLogprobs));
      } else {
        ch.putNull("logprobs");
      }
      ch.put("finish_reason", c.finish);
    }
    o.set("usage", usage());
    result.complete(o);
  }

  private void fail(Throwable error) {
    if (result.isDone()) {
      return;
    }
    if (events != null) {
      ApiException e = new ApiException(500, "server_error", null, null, "generation failed: " + error);
      events.accept(e.body(json).toString());
      events.accept(DONE);
      result.complete(null);
    } else {
      result.completeExceptionally(error);
    }
  }

  /** One choice: its text stream and log-probs; the engine's sink for its sequence. */
  private final class Choice implements ServeBackend.TokenSink {
    final int index;
    final TextStream text;
    final List<ObjectNode> allLogprobs = new ArrayList<>();
    final List<ObjectNode> pendingLogprobs = new ArrayList<>();
    final List<Integer> deferredIds = new ArrayList<>();
    final List<Integer> deferredOffsets = new ArrayList<>();
    int tokens;
    String finish;
    boolean stopRequested; // guarded by Generation.this

    Choice(int index) {
      this.index = index;
      this.text = new TextStream(model::decode, req.params().stop(), req.chat() && model.reasoning(),
          req.promptOpensThinking());
    }

    @Override
    public void onToken(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {
      if (finish != null || text.stopped()) {
        return;
      }
      if (firstToken) {
        firstToken = false;
        onFirstToken.run();
      }
      tokens++;
      if (req.logprobs()) {
        if (topIds != null) {
          (events == null ? allLogprobs : pendingLogprobs).add(entry(tokenId, logprob, topIds, topLogprobs,
              text.text().length()));
        } else {
          deferredIds.add(tokenId);
          deferredOffsets.add(text.text().length());
        }
      }
      TextStream.Delta d = model.eosIds().contains(tokenId) ? new TextStream.Delta("", "") : text.add(tokenId);
      if (events != null && (!d.isEmpty() || text.stopped())) {
        sendDelta(d, null);
      }
      if (text.stopped()) {
        requestStop(this); // onFinish(STOP) follows
      }
    }

    @Override
    public void onLogprobs(float[] logprobs, int[][] topIds, float[][] topLogprobs) {
      for (int i = 0; i < deferredIds.size() && i < logprobs.length; i++) {
        (events == null ? allLogprobs : pendingLogprobs).add(entry(deferredIds.get(i), logprobs[i], topIds[i],
            topLogprobs[i], deferredOffsets.get(i)));
      }
      deferredIds.clear();
      deferredOffsets.clear();
    }

    @Override
    public void onFinish(FinishReason reason) {
      if (finish == null) {
        end(text.stopped() || reason == FinishReason.STOP ? "stop" : "length");
      }
    }

    @Override
    public void onError(Throwable error) {
      finish = "error";
      fail(error);
    }

    private void end(String reason) {
      finish = reason;
      TextStream.Delta d = text.finish();
      if (events != null) {
        if (!d.isEmpty() || !pendingLogprobs.isEmpty()) {
          sendDelta(d, null);
        }
        sendDelta(new TextStream.Delta("", ""), reason);
      }
      if (--open == 0) {
        allDone();
      }
    }

    private void sendDelta(TextStream.Delta d, String finishReason) {
      ObjectNode o = chunk();
      ObjectNode ch = o.putArray("choices").addObject();
      ch.put("index", index);
      if (req.chat()) {
        ObjectNode delta = ch.putObject("delta");
        if (!d.reasoning().isEmpty()) {
          delta.put("reasoning_content", d.reasoning());
        }
        if (!d.content().isEmpty()) {
          delta.put("content", d.content());
        }
      } else {
        ch.put("text", d.content() + d.reasoning());
      }
      if (req.logprobs() && !pendingLogprobs.isEmpty()) {
        ch.set("logprobs", logprobs(pendingLogprobs));
        pendingLogprobs.clear();
      } else {
        ch.putNull("logprobs");
      }
      if (finishReason == null) {
        ch.putNull("finish_reason");
      } else {
        ch.put("finish_reason", finishReason);
      }
      send(o);
    }

    /** An entry {token, logprob, bytes, top_logprobs, (text_offset)}; reshaped per endpoint in {@link #logprobs}. */
    private ObjectNode entry(int tokenId, float logprob, int[] topIds, float[] topLps, int offset) {
      ObjectNode e = json.createObjectNode();
      String tok = model.tokenizer().decode(new int[] {tokenId}, false);
      e.put("token", tok);
      e.put("logprob", logprob);
      bytes(e, tok);
      ArrayNode top = e.putArray("top_logprobs");
      for (int i = 0; i < topIds.length; i++) {
        ObjectNode t = top.addObject();
        String s = model.tokenizer().decode(new int[] {topIds[i]}, false);
        t.put("token", s);
        t.put("logprob", topLps[i]);
        bytes(t, s);
      }
      e.put("text_offset", offset);
      return e;
    }

    private void bytes(ObjectNode e, String s) {
      ArrayNode b = e.putArray("bytes");
      for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
        b.add(x & 0xff);
      }
    }

    /** Chat: {"content": [entries]}; completions: {"tokens", "token_logprobs", "top_logprobs", "text_offset"}. */
    private ObjectNode logprobs(List<ObjectNode> entries) {
      ObjectNode lp = json.createObjectNode();
      if (req.chat()) {
        ArrayNode content = lp.putArray("content");
        for (ObjectNode e : entries) {
          ObjectNode c = e.deepCopy();
          c.remove("text_offset");
          content.add(c);
        }
        return lp;
      }
      ArrayNode tokens = lp.putArray("tokens");
      ArrayNode tlp = lp.putArray("token_logprobs");
      ArrayNode top = lp.putArray("top_logprobs");
      ArrayNode off = lp.putArray("text_offset");
      for (ObjectNode e : entries) {
        tokens.add(e.get("token"));
        tlp.add(e.get("logprob"));
        ObjectNode m = top.addObject();
        e.get("top_logprobs").forEach(t -> m.set(t.get("token").asText(), t.get("logprob")));
        off.add(e.get("text_offset"));
      }
      return lp;
    }
  }
}
