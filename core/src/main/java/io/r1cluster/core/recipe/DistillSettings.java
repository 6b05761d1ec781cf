package io.r1cluster.core.recipe;

/**
 * Keys of {@code distill} and {@code generate} stages.
 *
 * @param alpha weight of the soft-target loss: L = alpha · T² · KL(p_teacher^T ‖ p_student^T) + (1 − alpha) · CE
 * @param temperature distillation temperature T ({@code temperature})
 * @param teacherModel teacher checkpoint (earlier stage name, path, hub id, {@code demo}), or the model name
 *     sent to {@code teacherUrl}; null = the stage's input model
 * @param teacherUrl OpenAI-compatible chat-completions endpoint of the teacher (generate), or null
 * @param maxPrompts generate: prompts taken from the train split (null = all)
 * @param teacherApiKeyEnv generate with {@code teacherUrl}: the environment variable that holds the
 *     endpoint's API key, sent as {@code Authorization: Bearer …} when set (keys never go in recipes)
 * @param teacherAllowInsecureHttp {@code teacher_allow_insecure_http}: allow sending that key over plain
 *     http to a non-loopback host (off: https or loopback only)
 */
public record DistillSettings(double alpha, double temperature, String teacherModel, String teacherUrl,
    Integer maxPrompts, String teacherApiKeyEnv, boolean teacherAllowInsecureHttp) {}
