package io.r1cluster.core.pipeline;

import io.r1cluster.core.InputException;
import io.r1cluster.core.dataset.Datasets;
import io.r1cluster.core.dataset.Loaded;
import io.r1cluster.core.recipe.DataSettings;
import io.r1cluster.core.recipe.Recipe;
import io.r1cluster.core.recipe.RecipeSettings;
import io.r1cluster.core.recipe.Stage;
import io.r1cluster.core.recipe.StageType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Reads every dataset split the pipeline's stages will read, before the first stage starts, so a bad
 * row in stage 3's data is found in seconds rather than after stages 1 and 2 trained. A split that
 * will be read for evaluation must have rows (an empty one would report pass@1 0.000 as a result).
 * Errors are {@code file:row: column: message} with the stage named (exit 2).
 *
 * <p>Skipped: a stage's training split when it trains on an earlier generate stage's output
 * ({@code from_dataset}), and datasets the run writes itself ({@code demo_data_train}) that do not
 * exist yet.
 */
public final class DatasetPreflight {
  private DatasetPreflight() {}

  /** Checks every stage of {@code recipe}; {@code evalAfterStage} adds each training stage's test split. */
  public static void check(Recipe recipe, List<Stage> stages) {
    boolean evalAfter = recipe.settings().eval().evalAfterStage();
    for (Stage st : stages) {
      RecipeSettings s = st.settings();
      DataSettings d = s.data();
      if (willBeWritten(s)) {
        continue;
      }
      try {
        boolean ownTrain = st.fromDataset() == null;
        switch (st.type()) {
          case SFT, DISTILL -> {
            if (ownTrain) {
              nonEmpty(Datasets.sft(d, d.trainSplit()), "dataset_train_split", d.trainSplit());
            }
          }
          case GRPO, GENERATE -> {
            if (ownTrain) {
              nonEmpty(Datasets.prompts(d, d.trainSplit()), "dataset_train_split", d.trainSplit());
            }
          }
          case COMBINED -> {
            if (ownTrain) {
              nonEmpty(Datasets.prompts(d, d.trainSplit()), "dataset_train_split", d.trainSplit());
              nonEmpty(Datasets.sft(d, d.trainSplit()), "dataset_train_split", d.trainSplit());
            }
          }
          case EVAL -> { }
        }
        if (st.type() == StageType.EVAL || (evalAfter && st.type().trains())) {
          nonEmpty(Datasets.prompts(d, d.testSplit()), "dataset_test_split", d.testSplit());
        }
      } catch (InputException e) {
        Path f = e.file() != null ? e.file() : recipe.file();
        int line = e.file() != null ? e.line() : st.line();
        throw new InputException(f, line, e.key(), "stage '" + st.name() + "': " + e.detail(), e);
      }
    }
  }

  private static void nonEmpty(Loaded<?> data, String key, String split) {
    if (data.items().isEmpty()) {
      throw new InputException(null, 0, key, "split '" + split + "' has no usable rows"
          + (data.skipped() > 0 ? " (" + data.skipped() + " bad rows skipped)" : ""));
    }
  }

  /** {@code demo_data_train} writes the dataset at the start of the run when it is missing. */
  private static boolean willBeWritten(RecipeSettings s) {
    var v = s.values().get("demo_data_train");
    String ds = s.data().datasetName();
    return v != null && v.value() != null && ds != null && !Files.exists(Path.of(ds).resolve("train.jsonl"));
  }
}
