package io.r1cluster.actors.serve;

import io.r1cluster.core.data.FinishReason;
import io.r1cluster.core.model.Qwen2Model;
import io.r1cluster.core.serve.ContinuousBatcher;
import java.util.ArrayList;
import java.util.List;

/** {@link ServeBackend} over a {@link ContinuousBatcher} (one running batch for the model). */
public final class BatcherBackend implements ServeBackend {
  private final ContinuousBatcher engine;

  public BatcherBackend(Qwen2Model model, ContinuousBatcher.Options options) {
    this.engine = new ContinuousBatcher(model, options);
  }

  @Override
  public List<Ticket> submit(List<Job> jobs) {
    List<ContinuousBatcher.Request> reqs = new ArrayList<>();
    for (Job j : jobs) {
      TokenSink sink = j.sink();
      reqs.add(new ContinuousBatcher.Request(j.prompt(), j.params(), j.seed(), j.topLogprobs(),
          new ContinuousBatcher.Listener() {
            @Override
            public void onToken(int tokenId, float logprob, int[] topIds, float[] topLogprobs) {
              sink.onToken(tokenId, logprob, topIds, topLogprobs);
            }

            @Override
            public void onFinish(FinishReason reason) {
              sink.onFinish(reason);
            }

            @Override
            public void onError(Throwable error) {
              sink.onError(error);
            }
          }));
    }
    try {
      List<Ticket> out = new ArrayList<>();
      for (ContinuousBatcher.Handle h : engine.submit(reqs)) {
        out.add(h::cancel);
      }
      return out;
    } catch (ContinuousBatcher.QueueFullException e) {
      return reject(e);
    }
  }

  private static List<Ticket> reject(ContinuousBatcher.QueueFullException e) {
    throw new Busy(e.getMessage(), 1);
  }

  @Override
  public int waiting() {
    return engine.waiting();
  }

  @Override
  public int running() {
    return engine.running();
  }

  @Override
  public long tokensGenerated() {
    return engine.tokensGenerated();
  }

  @Override
  public void close() {
    engine.close();
  }
}
