package io.r1cluster.core.generate;

import io.r1cluster.core.data.Completion;
import io.r1cluster.core.data.Prompt;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.tokenizer.ChatTemplate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A local checkpoint as teacher: prompts rendered with its chat template (left-truncated to
 * {@code maxPromptLength} tokens, as in GRPO) and sampled by a {@link BatchEngine}: all n answers of
 * every prompt of a batch run in the engine's one continuous batch (answer k of prompt p draws what
 * row p·n + k of {@code Sampler.generate(…, seed, …)} would).
 */
public final class LocalTeacher implements TraceTeacher {
  private final Models.Loaded model;
  private final String name;
  private final ChatTemplate template;
  private final SamplingParams params;
  private final int maxPromptLength;
  private final BatchEngine engine;

  /** Sequences the teacher's engine runs at once. */
  static final int ROWS = 128;

  /** Takes ownership of {@code model} (closed with this teacher). */
  public LocalTeacher(Models.Loaded model, String name, ChatTemplate template, SamplingParams params, int maxPromptLength) {
    this.model = model;
    this.name = name;
    this.template = template;
    this.params = params;
    this.maxPromptLength = maxPromptLength;
    this.engine = new BatchEngine(model.model(), false, 0, ids -> model.tokenizer().decode(ids, true),
        new BatchEngine.Options(ROWS, maxPromptLength + params.maxNewTokens(), false), "teacher");
  }

  @Override
  public String describe() {
    return "local checkpoint " + name;
  }

  @Override
  public List<List<Answer>> answer(List<Prompt> prompts, int n, long seed) {
    List<List<BatchEngine.Handle>> handles = new ArrayList<>();
    int row = 0;
    for (Prompt p : prompts) {
      int[] e = model.tokenizer().encode(template.render(p.messages(), true));
      if (e.length > maxPromptLength) {
        e = Arrays.copyOfRange(e, e.length - maxPromptLength, e.length);
      }
      List<BatchEngine.Request> rs = new ArrayList<>();
      for (int k = 0; k < n; k++) {
        rs.add(new BatchEngine.Request(e, params, Sampler.rowSeed(seed, row++), null));
      }
      for (int from = 0; from < n; from += ROWS) { // the n answers of a prompt join together when they fit
        handles.add(engine.submitAll(rs.subList(from, Math.min(n, from + ROWS))));
      }
    }
    List<List<Answer>> out = new ArrayList<>();
    List<Answer> a = new ArrayList<>();
    for (List<BatchEngine.Handle> hs : handles) {
      for (BatchEngine.Handle h : hs) {
        Completion c = h.result().join();
        a.add(new Answer(c.text(), c.tokenIds()));
        if (a.size() == n) {
          out.add(a);
          a = new ArrayList<>();
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    engine.close();
    model.close();
  }
}
