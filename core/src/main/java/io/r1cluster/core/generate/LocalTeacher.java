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
 * {@code maxPromptLength} tokens, as in GRPO) and sampled with {@link Sampler}, all n answers of a
 * batch of prompts in one batched generation.
 */
public final class LocalTeacher implements TraceTeacher {
  private final Models.Loaded model;
  private final String name;
  private final ChatTemplate template;
  private final SamplingParams params;
  private final int maxPromptLength;
  private final Sampler sampler;

  /** Takes ownership of {@code model} (closed with this teacher). */
  public LocalTeacher(Models.Loaded model, String name, ChatTemplate template, SamplingParams params, int maxPromptLength) {
    this.model = model;
    this.name = name;
    this.template = template;
    this.params = params;
    this.maxPromptLength = maxPromptLength;
    this.sampler = new Sampler(model.model(), ids -> model.tokenizer().decode(ids, true));
  }

  @Override
  public String describe() {
    return "local checkpoint " + name;
  }

  @Override
  public List<List<Answer>> answer(List<Prompt> prompts, int n, long seed) {
    List<int[]> ids = new ArrayList<>();
    for (Prompt p : prompts) {
      int[] e = model.tokenizer().encode(template.render(p.messages(), true));
      if (e.length > maxPromptLength) {
        e = Arrays.copyOfRange(e, e.length - maxPromptLength, e.length);
      }
      for (int k = 0; k < n; k++) {
        ids.add(e);
      }
    }
    List<Completion> comps = sampler.generate(ids, params, seed, 0);
    List<List<Answer>> out = new ArrayList<>();
    for (int p = 0; p < prompts.size(); p++) {
      List<Answer> a = new ArrayList<>();
      for (Completion c : comps.subList(p * n, (p + 1) * n)) {
        a.add(new Answer(c.text(), c.tokenIds()));
      }
      out.add(a);
    }
    return out;
  }

  @Override
  public void close() {
    model.close();
  }
}
