package io.r1cluster.core.recipe;

/**
 * SFT keys (TRL {@code SFTConfig}).
 *
 * @param maxLength {@code max_length} (1024; {@code max_seq_length} is its older name)
 * @param packing {@code packing}
 * @param completionOnlyLoss {@code completion_only_loss} (null = TRL's default: on for prompt/completion data)
 * @param datasetTextField {@code dataset_text_field} ("text")
 * @param sftLossWeight {@code sft_loss_weight} (combined stage)
 */
public record SftSettings(int maxLength, boolean packing, Boolean completionOnlyLoss, String datasetTextField,
    double sftLossWeight) {}
