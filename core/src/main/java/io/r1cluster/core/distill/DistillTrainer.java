package io.r1cluster.core.distill;

import io.r1cluster.core.InputException;
import io.r1cluster.core.model.Models;
import io.r1cluster.core.recipe.DistillSettings;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.sft.SftTrainer;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The {@code distill} stage: trains the student ({@code model_name_or_path}) on the dataset's
 * completions with {@link DistillLoss} against a frozen {@code teacher_model}. Everything else —
 * data order, optimizer, checkpoints, exact resume, metrics ({@code loss}, {@code distill/kl},
 * {@code distill/ce}, …), eval loss, progress — is the SFT trainer's. The caller checks that the
 * two tokenizers agree (the pipeline does so before any stage runs).
 */
public final class DistillTrainer {
  private final RecipeSettings settings;
  private final PrintStream log;
  private long stopAfterSteps = Long.MAX_VALUE;
  private java.util.function.BooleanSupplier stopWhen = () -> false;

  public DistillTrainer(RecipeSettings settings, PrintStream log) {
    this.settings = settings;
    this.log = log;
  }

  /** Stops (as if killed) after this many steps, without the final save: for resume tests. */
  public DistillTrainer stopAfter(long steps) {
    this.stopAfterSteps = steps;
    return this;
  }

  /** Stops before the next step once {@code signal} is true (see {@link SftTrainer#stopWhen}). */
  public DistillTrainer stopWhen(java.util.function.BooleanSupplier signal) {
    this.stopWhen = signal;
    return this;
  }

  public SftTrainer.Result train() {
    DistillSettings d = settings.distill();
    String teacherName = d.teacherModel();
    if (teacherName == null) {
      throw new InputException(null, 0, "teacher_model", "a distill run needs a teacher_model");
    }
    Path out = Path.of(settings.training().outputDir());
    Models.Loaded teacher = Files.isDirectory(Path.of(teacherName)) ? Models.loadCheckpoint(Path.of(teacherName))
        : Models.load(teacherName, settings.model().modelRevision(), settings.training().seed(), out.resolve("teacher"));
    try (teacher) {
      log.printf(Locale.ROOT, "distill: teacher %s (%d layers, hidden %d), alpha %.2f, temperature %.2f%n", teacherName,
          teacher.model().config().numHiddenLayers(), teacher.model().config().hiddenSize(), d.alpha(), d.temperature());
      return new SftTrainer(settings, log).stopAfter(stopAfterSteps).stopWhen(stopWhen)
          .withLoss(new DistillLoss(teacher.model(), d.alpha(), d.temperature()), "distill").train();
    }
  }
}
