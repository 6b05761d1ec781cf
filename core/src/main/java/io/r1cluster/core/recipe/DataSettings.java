package io.r1cluster.core.recipe;

/**
 * Dataset keys (TRL/open-r1 {@code ScriptArguments}).
 *
 * @param datasetName {@code dataset_name}: hub id (local cache), folder or file; null when a mixture is given
 * @param datasetConfig {@code dataset_config}
 * @param trainSplit {@code dataset_train_split} ("train")
 * @param testSplit {@code dataset_test_split} ("test")
 * @param promptColumn {@code dataset_prompt_column} ("prompt")
 * @param systemPrompt {@code system_prompt}, prepended as a system message (null = none)
 * @param mixture {@code dataset_mixture}, or null
 * @param skipBadRows {@code skip_bad_rows}: skip and count malformed rows instead of failing
 */
public record DataSettings(
    String datasetName, String datasetConfig, String trainSplit, String testSplit, String promptColumn,
    String systemPrompt, DatasetMixture mixture, boolean skipBadRows) {}
