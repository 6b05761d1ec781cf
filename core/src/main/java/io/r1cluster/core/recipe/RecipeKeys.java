package io.r1cluster.core.recipe;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The recipe key tables: every key of transformers' {@code TrainingArguments} (4.52–4.57), TRL 0.18's
 * {@code SFTConfig}, {@code GRPOConfig}, {@code ModelConfig}, {@code ScriptArguments}, open-r1's
 * {@code configs.py}, a few legacy keys open-r1 recipes still carry, and r1-cluster's own keys.
 *
 * <p>Each entry says whether this project acts on the key; the others are accepted and reported once
 * as ignored. Upstream defaults are kept as the source text (for printing); the typed default a
 * recipe gets ({@link #defaultFor}) is read from that text, with r1-cluster's few deliberate
 * differences listed once at the end of this class. {@code RecipeSettings} takes every default from here.
 */
public final class RecipeKeys {
  private static final Map<String, List<String>> CHOICES = Map.ofEntries(
      Map.entry("lr_scheduler_type", List.of("linear", "cosine", "cosine_with_restarts", "polynomial", "constant",
          "constant_with_warmup", "inverse_sqrt", "reduce_lr_on_plateau", "cosine_with_min_lr", "warmup_stable_decay")),
      Map.entry("eval_strategy", List.of("no", "steps", "epoch")),
      Map.entry("evaluation_strategy", List.of("no", "steps", "epoch")),
      Map.entry("logging_strategy", List.of("no", "steps", "epoch")),
      Map.entry("save_strategy", List.of("no", "steps", "epoch", "best")),
      Map.entry("hub_strategy", List.of("end", "every_save", "checkpoint", "all_checkpoints")),
      Map.entry("log_level", List.of("debug", "info", "warning", "error", "critical", "passive")),
      Map.entry("log_level_replica", List.of("debug", "info", "warning", "error", "critical", "passive")),
      Map.entry("vllm_mode", List.of("server", "colocate")),
      Map.entry("loss_type", List.of("grpo", "bnpo", "dr_grpo", "dapo")),
      Map.entry("scale_rewards", List.of("group", "batch", "none")),
      Map.entry("importance_sampling_level", List.of("token", "sequence")),
      Map.entry("code_eval_scoring_mode", List.of("pass_fail", "partial", "weighted_sum")),
      Map.entry("code_provider", List.of("e2b", "local", "morph")),
      Map.entry("ioi_provider", List.of("piston", "morph")),
      Map.entry("torch_dtype", List.of("auto", "bfloat16", "float16", "float32")),
      Map.entry("transport", List.of("ipc", "udp")),
      Map.entry("code_sandbox", List.of("bwrap", "unsafe-local")),
      Map.entry("type", List.of("generate", "sft", "grpo", "combined", "distill", "eval")));

  private static final Map<String, KeySpec> TOP = new LinkedHashMap<>();
  private static final Map<String, KeySpec> CLUSTER = new LinkedHashMap<>();
  private static final Map<String, KeySpec> STAGE_ONLY = new LinkedHashMap<>();
  private static final Map<String, KeySpec> MIXTURE = new LinkedHashMap<>();
  private static final Map<String, KeySpec> MIXTURE_DATASET = new LinkedHashMap<>();

  static {
    // Generated from the dataclass sources (name, type, nullable, upstream default, acted on, sources, other defaults).
    k(TOP, "output_dir", ValueType.STRING, true, "None", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "overwrite_output_dir", ValueType.BOOL, false, "False", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "do_train", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "do_eval", ValueType.BOOL, false, "False", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "do_predict", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "eval_strategy", ValueType.ENUM, false, "no", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "prediction_loss_only", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "per_device_train_batch_size", ValueType.INT, false, "8", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "per_device_eval_batch_size", ValueType.INT, false, "8", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "per_gpu_train_batch_size", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "per_gpu_eval_batch_size", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "gradient_accumulation_steps", ValueType.INT, false, "1", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "eval_accumulation_steps", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "eval_delay", ValueType.FLOAT, false, "0", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "torch_empty_cache_steps", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "learning_rate", ValueType.FLOAT, false, "5e-05", true, "TRAINING_ARGUMENTS TRL_SFT TRL_GRPO", "TRL_SFT=2e-05 TRL_GRPO=1e-06");
    k(TOP, "weight_decay", ValueType.FLOAT, false, "0.0", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "adam_beta1", ValueType.FLOAT, false, "0.9", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "adam_beta2", ValueType.FLOAT, false, "0.999", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "adam_epsilon", ValueType.FLOAT, false, "1e-08", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "max_grad_norm", ValueType.FLOAT, false, "1.0", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "num_train_epochs", ValueType.FLOAT, false, "3.0", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "max_steps", ValueType.INT, false, "-1", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "lr_scheduler_type", ValueType.ENUM, false, "linear", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "lr_scheduler_kwargs", ValueType.DICT_OR_STRING, true, "None", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "warmup_ratio", ValueType.FLOAT, false, "0.0", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "warmup_steps", ValueType.INT, false, "0", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "log_level", ValueType.ENUM, false, "passive", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "log_level_replica", ValueType.ENUM, false, "warning", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "log_on_each_node", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "logging_dir", ValueType.STRING, true, "None", true, "TRAINING_ARGUMENTS", "TensorBoard event files (report_to)");
    k(TOP, "logging_strategy", ValueType.ENUM, false, "steps", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "logging_first_step", ValueType.BOOL, false, "False", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "logging_steps", ValueType.FLOAT, false, "500", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "logging_nan_inf_filter", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "save_strategy", ValueType.ENUM, false, "steps", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "save_steps", ValueType.FLOAT, false, "500", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "save_total_limit", ValueType.INT, true, "None", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "save_safetensors", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "save_on_each_node", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "save_only_model", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "restore_callback_states_from_checkpoint", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "no_cuda", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "use_cpu", ValueType.BOOL, false, "False", true, "TRAINING_ARGUMENTS", "everything on the CPU even with a GPU (--device wins, then use_cpu, then R1_DEVICE)");
    k(TOP, "use_mps_device", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "seed", ValueType.INT, false, "42", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "data_seed", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "jit_mode_eval", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "bf16", ValueType.BOOL, false, "False", true, "TRAINING_ARGUMENTS", "bf16 compute in training, float32 master weights and optimizer state");
    k(TOP, "fp16", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "fp16_opt_level", ValueType.STRING, false, "O1", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "half_precision_backend", ValueType.STRING, false, "auto", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "bf16_full_eval", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "fp16_full_eval", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "tf32", ValueType.BOOL, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "local_rank", ValueType.INT, false, "-1", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "ddp_backend", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "tpu_num_cores", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "tpu_metrics_debug", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "debug", ValueType.STRING_OR_LIST, false, "", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "dataloader_drop_last", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "eval_steps", ValueType.FLOAT, true, "None", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "dataloader_num_workers", ValueType.INT, false, "0", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "dataloader_prefetch_factor", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "past_index", ValueType.INT, false, "-1", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "run_name", ValueType.STRING, true, "None", true, "TRAINING_ARGUMENTS", "r1 run: the run folder runs/<run_name>");
    k(TOP, "disable_tqdm", ValueType.BOOL, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "remove_unused_columns", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS TRL_GRPO", "TRL_GRPO=False");
    k(TOP, "label_names", ValueType.STRING_LIST, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "load_best_model_at_end", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "metric_for_best_model", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "greater_is_better", ValueType.BOOL, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "ignore_data_skip", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "fsdp", ValueType.STRING_OR_LIST, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "fsdp_min_num_params", ValueType.INT, false, "0", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "fsdp_config", ValueType.DICT_OR_STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "fsdp_transformer_layer_cls_to_wrap", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "accelerator_config", ValueType.DICT_OR_STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "parallelism_config", ValueType.DICT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "deepspeed", ValueType.DICT_OR_STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "label_smoothing_factor", ValueType.FLOAT, false, "0.0", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "optim", ValueType.STRING, false, "default_optim", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "optim_args", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "adafactor", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "group_by_length", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "length_column_name", ValueType.STRING, false, "length", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "report_to", ValueType.STRING_OR_LIST, true, "None", true, "TRAINING_ARGUMENTS",
        "tensorboard | all: event files in logging_dir; wandb: the same files for wandb sync --sync-tensorboard; none");
    k(TOP, "project", ValueType.STRING, false, "huggingface", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "trackio_space_id", ValueType.STRING, true, "trackio", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "ddp_find_unused_parameters", ValueType.BOOL, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "ddp_bucket_cap_mb", ValueType.INT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "ddp_broadcast_buffers", ValueType.BOOL, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "dataloader_pin_memory", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "dataloader_persistent_workers", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "skip_memory_metrics", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "use_legacy_prediction_loop", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "push_to_hub", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "resume_from_checkpoint", ValueType.STRING, true, "None", true, "TRAINING_ARGUMENTS", "");
    k(TOP, "hub_model_id", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "hub_strategy", ValueType.ENUM, false, "every_save", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "hub_token", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "hub_private_repo", ValueType.BOOL, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "hub_always_push", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "hub_revision", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "gradient_checkpointing", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "gradient_checkpointing_kwargs", ValueType.DICT_OR_STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "include_inputs_for_metrics", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "include_for_metrics", ValueType.STRING_LIST, false, "list()", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "eval_do_concat_batches", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "fp16_backend", ValueType.STRING, false, "auto", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "push_to_hub_model_id", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "push_to_hub_organization", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "push_to_hub_token", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "mp_parameters", ValueType.STRING, false, "", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "auto_find_batch_size", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "full_determinism", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "torchdynamo", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "ray_scope", ValueType.STRING, true, "last", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "ddp_timeout", ValueType.INT, false, "1800", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "torch_compile", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "torch_compile_backend", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "torch_compile_mode", ValueType.STRING, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "include_tokens_per_second", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "include_num_input_tokens_seen", ValueType.BOOL_OR_STRING, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "neftune_noise_alpha", ValueType.FLOAT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "optim_target_modules", ValueType.STRING_OR_LIST, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "batch_eval_metrics", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "eval_on_start", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "use_liger_kernel", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "liger_kernel_config", ValueType.DICT, true, "None", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "eval_use_gather_object", ValueType.BOOL, false, "False", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "average_tokens_across_devices", ValueType.BOOL, false, "True", false, "TRAINING_ARGUMENTS", "");
    k(TOP, "model_init_kwargs", ValueType.DICT, true, "None", false, "TRL_SFT TRL_GRPO", "");
    k(TOP, "dataset_text_field", ValueType.STRING, false, "text", false, "TRL_SFT", "");
    k(TOP, "dataset_kwargs", ValueType.DICT, true, "None", false, "TRL_SFT", "");
    k(TOP, "dataset_num_proc", ValueType.INT, true, "None", false, "TRL_SFT", "");
    k(TOP, "eos_token", ValueType.STRING, true, "None", true, "TRL_SFT", "");
    k(TOP, "pad_token", ValueType.STRING, true, "None", false, "TRL_SFT", "");
    k(TOP, "max_length", ValueType.INT, true, "1024", true, "TRL_SFT", "");
    k(TOP, "packing", ValueType.BOOL, false, "False", true, "TRL_SFT", "");
    k(TOP, "padding_free", ValueType.BOOL, false, "False", false, "TRL_SFT", "");
    k(TOP, "pad_to_multiple_of", ValueType.INT, true, "None", false, "TRL_SFT", "");
    k(TOP, "eval_packing", ValueType.BOOL, true, "None", false, "TRL_SFT", "");
    k(TOP, "completion_only_loss", ValueType.BOOL, true, "None", true, "TRL_SFT", "");
    k(TOP, "activation_offloading", ValueType.BOOL, false, "False", false, "TRL_SFT", "");
    k(TOP, "max_seq_length", ValueType.INT, true, "None", true, "TRL_SFT", "");
    k(TOP, "disable_dropout", ValueType.BOOL, false, "False", false, "TRL_GRPO", "");
    k(TOP, "max_prompt_length", ValueType.INT, true, "512", true, "TRL_GRPO", "");
    k(TOP, "num_generations", ValueType.INT, true, "8", true, "TRL_GRPO", "");
    k(TOP, "max_completion_length", ValueType.INT, true, "256", true, "TRL_GRPO", "");
    k(TOP, "ds3_gather_for_generation", ValueType.BOOL, false, "True", false, "TRL_GRPO", "");
    k(TOP, "shuffle_dataset", ValueType.BOOL, true, "True", true, "TRL_GRPO", "");
    k(TOP, "generation_batch_size", ValueType.INT, true, "None", true, "TRL_GRPO", "");
    k(TOP, "steps_per_generation", ValueType.INT, true, "None", true, "TRL_GRPO", "only = gradient_accumulation_steps (one generation per optimizer step); other values are rejected");
    k(TOP, "temperature", ValueType.FLOAT, false, "1.0", true, "TRL_GRPO", "");
    k(TOP, "top_p", ValueType.FLOAT, false, "1.0", true, "TRL_GRPO", "");
    k(TOP, "top_k", ValueType.INT, true, "None", true, "TRL_GRPO", "");
    k(TOP, "min_p", ValueType.FLOAT, true, "None", true, "TRL_GRPO", "");
    k(TOP, "repetition_penalty", ValueType.FLOAT, false, "1.0", false, "TRL_GRPO", "");
    k(TOP, "cache_implementation", ValueType.STRING, true, "None", false, "TRL_GRPO", "");
    k(TOP, "use_vllm", ValueType.BOOL, false, "False", false, "TRL_GRPO", "");
    k(TOP, "vllm_server_base_url", ValueType.STRING, true, "None", false, "TRL_GRPO", "");
    k(TOP, "vllm_mode", ValueType.ENUM, false, "server", false, "TRL_GRPO", "");
    k(TOP, "vllm_guided_decoding_regex", ValueType.STRING, true, "None", false, "TRL_GRPO", "");
    k(TOP, "vllm_server_host", ValueType.STRING, false, "0.0.0.0", false, "TRL_GRPO", "");
    k(TOP, "vllm_server_port", ValueType.INT, false, "8000", false, "TRL_GRPO", "");
    k(TOP, "vllm_server_timeout", ValueType.FLOAT, false, "240.0", false, "TRL_GRPO", "");
    k(TOP, "vllm_gpu_memory_utilization", ValueType.FLOAT, false, "0.3", false, "TRL_GRPO", "");
    k(TOP, "vllm_tensor_parallel_size", ValueType.INT, false, "1", false, "TRL_GRPO", "");
    k(TOP, "beta", ValueType.FLOAT, false, "0.04", true, "TRL_GRPO", "");
    k(TOP, "num_iterations", ValueType.INT, false, "1", true, "TRL_GRPO", "");
    k(TOP, "epsilon", ValueType.FLOAT, false, "0.2", true, "TRL_GRPO", "");
    k(TOP, "delta", ValueType.FLOAT, true, "None", true, "TRL_GRPO", "");
    k(TOP, "epsilon_high", ValueType.FLOAT, true, "None", true, "TRL_GRPO", "");
    k(TOP, "reward_weights", ValueType.FLOAT_LIST, true, "None", true, "TRL_GRPO", "");
    k(TOP, "scale_rewards", ValueType.ENUM_OR_BOOL, false, "True", true, "TRL_GRPO", "");
    k(TOP, "loss_type", ValueType.ENUM, false, "bnpo", true, "TRL_GRPO", "");
    k(TOP, "mask_truncated_completions", ValueType.BOOL, false, "False", true, "TRL_GRPO", "");
    k(TOP, "sync_ref_model", ValueType.BOOL, false, "False", true, "TRL_GRPO", "");
    k(TOP, "ref_model_mixup_alpha", ValueType.FLOAT, false, "0.6", true, "TRL_GRPO", "");
    k(TOP, "ref_model_sync_steps", ValueType.INT, false, "512", true, "TRL_GRPO", "");
    k(TOP, "use_liger_loss", ValueType.BOOL, false, "False", false, "TRL_GRPO", "");
    k(TOP, "log_completions", ValueType.BOOL, false, "False", true, "TRL_GRPO", "");
    k(TOP, "top_entropy_quantile", ValueType.FLOAT, false, "1.0", true, "TRL_GRPO", "");
    k(TOP, "num_completions_to_print", ValueType.INT, true, "None", false, "TRL_GRPO OPEN_R1", "OPEN_R1=0");
    k(TOP, "wandb_log_unique_prompts", ValueType.BOOL, true, "False", false, "TRL_GRPO OPEN_R1", "OPEN_R1=True");
    k(TOP, "model_name_or_path", ValueType.STRING, true, "None", true, "TRL_MODEL", "");
    k(TOP, "model_revision", ValueType.STRING, false, "main", true, "TRL_MODEL", "");
    k(TOP, "torch_dtype", ValueType.ENUM, true, "None", true, "TRL_MODEL", "bfloat16: rollouts, evaluation, weight pushes and saved checkpoints in bf16; training keeps float32 weights");
    k(TOP, "trust_remote_code", ValueType.BOOL, false, "False", false, "TRL_MODEL", "");
    k(TOP, "attn_implementation", ValueType.STRING, true, "None", false, "TRL_MODEL", "");
    k(TOP, "use_peft", ValueType.BOOL, false, "False", false, "TRL_MODEL", "");
    k(TOP, "lora_r", ValueType.INT, false, "16", false, "TRL_MODEL", "");
    k(TOP, "lora_alpha", ValueType.INT, false, "32", false, "TRL_MODEL", "");
    k(TOP, "lora_dropout", ValueType.FLOAT, false, "0.05", false, "TRL_MODEL", "");
    k(TOP, "lora_target_modules", ValueType.STRING_LIST, true, "None", false, "TRL_MODEL", "");
    k(TOP, "lora_modules_to_save", ValueType.STRING_LIST, true, "None", false, "TRL_MODEL", "");
    k(TOP, "lora_task_type", ValueType.STRING, false, "CAUSAL_LM", false, "TRL_MODEL", "");
    k(TOP, "use_rslora", ValueType.BOOL, false, "False", false, "TRL_MODEL", "");
    k(TOP, "use_dora", ValueType.BOOL, false, "False", false, "TRL_MODEL", "");
    k(TOP, "load_in_8bit", ValueType.BOOL, false, "False", false, "TRL_MODEL", "");
    k(TOP, "load_in_4bit", ValueType.BOOL, false, "False", false, "TRL_MODEL", "");
    k(TOP, "bnb_4bit_quant_type", ValueType.STRING, false, "nf4", false, "TRL_MODEL", "");
    k(TOP, "use_bnb_nested_quant", ValueType.BOOL, false, "False", false, "TRL_MODEL", "");
    k(TOP, "dataset_name", ValueType.STRING, true, "None", true, "TRL_SCRIPT OPEN_R1", "");
    k(TOP, "dataset_config", ValueType.STRING, true, "None", true, "TRL_SCRIPT", "");
    k(TOP, "dataset_train_split", ValueType.STRING, false, "train", true, "TRL_SCRIPT", "");
    k(TOP, "dataset_test_split", ValueType.STRING, false, "test", true, "TRL_SCRIPT", "");
    k(TOP, "gradient_checkpointing_use_reentrant", ValueType.BOOL, false, "False", false, "TRL_SCRIPT", "");
    k(TOP, "ignore_bias_buffers", ValueType.BOOL, false, "False", false, "TRL_SCRIPT", "");
    k(TOP, "dataset_mixture", ValueType.DICT, true, "None", true, "OPEN_R1", "");
    k(TOP, "benchmarks", ValueType.STRING_LIST, false, "[]", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "callbacks", ValueType.STRING_LIST, false, "[]", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "chat_template", ValueType.STRING, true, "None", true, "OPEN_R1 OPEN_R1", "");
    k(TOP, "chat_template_kwargs", ValueType.DICT_OR_STRING, true, "None", true, "TRL_GRPO", "");
    k(TOP, "hub_model_revision", ValueType.STRING, true, "main", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "overwrite_hub_revision", ValueType.BOOL, false, "False", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "push_to_hub_revision", ValueType.BOOL, false, "False", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "system_prompt", ValueType.STRING, true, "None", true, "OPEN_R1 OPEN_R1", "");
    k(TOP, "wandb_entity", ValueType.STRING, true, "None", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "wandb_project", ValueType.STRING, true, "None", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "wandb_run_group", ValueType.STRING, true, "None", false, "OPEN_R1 OPEN_R1", "");
    k(TOP, "reward_funcs", ValueType.STRING_LIST, false, "['accuracy', 'format', 'tag_count']", true, "OPEN_R1", "");
    k(TOP, "cosine_min_value_wrong", ValueType.FLOAT, false, "0.0", true, "OPEN_R1", "");
    k(TOP, "cosine_max_value_wrong", ValueType.FLOAT, false, "-0.5", true, "OPEN_R1", "");
    k(TOP, "cosine_min_value_correct", ValueType.FLOAT, false, "0.5", true, "OPEN_R1", "");
    k(TOP, "cosine_max_value_correct", ValueType.FLOAT, false, "1.0", true, "OPEN_R1", "");
    k(TOP, "cosine_max_len", ValueType.INT, false, "1000", true, "OPEN_R1", "");
    k(TOP, "repetition_n_grams", ValueType.INT, false, "3", true, "OPEN_R1", "");
    k(TOP, "repetition_max_penalty", ValueType.FLOAT, false, "-1.0", true, "OPEN_R1", "");
    k(TOP, "code_language", ValueType.STRING, false, "python", true, "OPEN_R1", "");
    k(TOP, "code_eval_test_batch_size", ValueType.INT, false, "1", false, "OPEN_R1", "");
    k(TOP, "code_eval_scoring_mode", ValueType.ENUM, false, "weighted_sum", false, "OPEN_R1", "");
    k(TOP, "parallel_code_exec_per_proc", ValueType.INT, false, "2", false, "OPEN_R1", "");
    k(TOP, "dataset_prompt_column", ValueType.STRING, false, "prompt", true, "OPEN_R1", "");
    k(TOP, "e2b_router_url", ValueType.STRING, true, "None", false, "OPEN_R1", "");
    k(TOP, "morph_router_url", ValueType.STRING, true, "None", false, "OPEN_R1", "");
    k(TOP, "code_provider", ValueType.ENUM, true, "e2b", false, "OPEN_R1", "");
    k(TOP, "ioi_provider", ValueType.ENUM, true, "piston", false, "OPEN_R1", "");
    k(TOP, "max_completion_len", ValueType.INT, false, "16384", true, "OPEN_R1", "");
    k(TOP, "soft_punish_cache", ValueType.INT, false, "4096", true, "OPEN_R1", "");

    // Legacy keys (older TRL / transformers) that open-r1 recipes still carry.
    legacy("vllm_device", ValueType.STRING, "auto", "TRL <= 0.15");
    legacy("vllm_dtype", ValueType.STRING, "auto", "TRL <= 0.15");
    legacy("vllm_max_model_len", ValueType.INT, null, "TRL <= 0.15");
    legacy("vllm_enable_prefix_caching", ValueType.BOOL, "True", "TRL <= 0.15");
    legacy("evaluation_strategy", ValueType.ENUM, "no", "transformers < 4.46 name of eval_strategy");

    // r1-cluster keys at the top level (and in pipeline stages).
    own(TOP, "pipeline", ValueType.LIST, null, "stages: {name, type, from, ...overrides}");
    own(TOP, "cluster", ValueType.DICT, null, "cluster section (see the cluster keys)");
    own(TOP, "skip_bad_rows", ValueType.BOOL, "false", "skip and count malformed dataset rows instead of failing");
    own(TOP, "sft_loss_weight", ValueType.FLOAT, "0.1", "combined stage: weight of the SFT loss added to the GRPO loss");
    own(TOP, "eval_after_stage", ValueType.BOOL, "false", "run the eval stage after every training stage");
    own(TOP, "demo_data_train", ValueType.INT, null, "r1 run: when dataset_name does not exist yet, write the demo task there first with this many training rows");
    own(TOP, "demo_data_test", ValueType.INT, "200", "r1 run: test rows of the demo dataset written for demo_data_train");
    own(TOP, "demo_data_error_rate", ValueType.FLOAT, "0.3",
        "r1 run: the demo teacher's chance of forgetting a carry, a borrow or a sign at each hard step, in [0, 1]");
    own(TOP, "eval_num_samples", ValueType.INT, "1", "samples per prompt in eval: 1 = greedy pass@1; n > 1 = pass@1 as the mean over n samples (DeepSeek-R1's protocol) and pass@n, plus greedy pass@1");
    own(TOP, "eval_temperature", ValueType.FLOAT, "0.6", "eval sampling temperature when eval_num_samples > 1 (DeepSeek-R1 / open-r1 use 0.6)");
    own(TOP, "eval_top_p", ValueType.FLOAT, "0.95", "eval nucleus sampling when eval_num_samples > 1 (DeepSeek-R1 / open-r1 use 0.95)");
    own(TOP, "eval_max_new_tokens", ValueType.INT, "max_completion_length", "longest eval completion in tokens (no other cap; at most the model's max_position_embeddings minus the prompt; open-r1's lighteval runs use 32768)");
    own(TOP, "alpha", ValueType.FLOAT, "0.5", "distill: weight of the soft (KL) loss; 1 - alpha on hard-target CE");
    own(TOP, "teacher_model", ValueType.STRING, null, "distill/generate: teacher checkpoint (earlier stage name, path, hub id or demo); default the stage's input model (previous training stage). With teacher_url: the model name sent to the endpoint");
    own(TOP, "teacher_url", ValueType.STRING, null, "generate: OpenAI-compatible endpoint of the teacher, the base URL as the OpenAI client takes it (e.g. http://host:8000/v1; POST {url}/chat/completions) or the full .../chat/completions URL");
    own(TOP, "teacher_api_key_env", ValueType.STRING, "OPENAI_API_KEY", "generate with teacher_url: the environment variable holding the endpoint's API key, sent as 'Authorization: Bearer KEY' when the variable is set");
    own(TOP, "max_prompts", ValueType.INT, null, "generate: use only the first N prompts of the train split (default all)");
    own(TOP, "importance_sampling_level", ValueType.ENUM, "token", "GRPO ratio per token or per sequence (GSPO)");
    own(TOP, "off_policy_is_cap", ValueType.FLOAT, "2.0", "cap of the truncated importance weight for stale groups");
    own(TOP, "dynamic_sampling", ValueType.BOOL, "false", "DAPO: drop groups whose rewards all agree, sample more");
    own(TOP, "max_num_gen_batches", ValueType.INT, "10", "DAPO: most generation batches per step (0 = unlimited)");
    own(TOP, "code_timeout_s", ValueType.FLOAT, "10.0", "code rewards: wall-clock limit per test run");
    own(TOP, "code_memory_mb", ValueType.INT, "1024", "code rewards: memory limit of the sandbox");
    own(TOP, "code_sandbox", ValueType.ENUM, "bwrap", "code rewards: bwrap = user+pid+mount+net namespaces, refuse to run when they cannot be set up; unsafe-local = no isolation (trusted completions only)");
    own(TOP, "language", ValueType.STRING, "en", "language_consistency reward: the language the reasoning should be written in (en, zh, ja, ko, ru, …; a dataset column 'language' overrides it per row)");
    own(TOP, "teacher_allow_insecure_http", ValueType.BOOL, "false", "generate with teacher_url: allow sending the API key over plain http to a non-loopback host");

    own(CLUSTER, "max_staleness", ValueType.INT, "1", "policy versions a group may lag the learner (0 = synchronous)");
    own(CLUSTER, "prompts_per_step", ValueType.INT, null, "prompts per learner step (default: batch x accumulation / num_generations)");
    own(CLUSTER, "rollout_slots", ValueType.INT, "1", "threads a rollout node uses to wait for and load new weights; the generation itself is one continuous batch per device (r1 member --slots N wins over it)");
    own(CLUSTER, "weight_sync_steps", ValueType.INT, "1", "learner steps between weight broadcasts");
    own(CLUSTER, "dynamic_sampling", ValueType.BOOL, "false", "same as the top-level key");
    own(CLUSTER, "max_num_gen_batches", ValueType.INT, "10", "same as the top-level key");
    own(CLUSTER, "off_policy_is_cap", ValueType.FLOAT, "2.0", "same as the top-level key");
    own(CLUSTER, "inflight_weight_update", ValueType.BOOL, "false",
        "swap new weights into the running batch between token steps without draining it (PipelineRL); a completion keeps the oldest version that wrote any of its tokens");
    own(CLUSTER, "transport", ValueType.ENUM, "ipc", "weight transport between JVMs on one host (ipc) or across hosts (udp)");

    own(STAGE_ONLY, "name", ValueType.STRING, null, "stage name, unique in the pipeline");
    own(STAGE_ONLY, "type", ValueType.ENUM, null, "generate | sft | grpo | combined | distill | eval");
    own(STAGE_ONLY, "from", ValueType.STRING, "previous", "input checkpoint: previous | <stage name> | <path>");
    own(STAGE_ONLY, "from_dataset", ValueType.STRING, null, "train on the dataset an earlier generate stage wrote (its name) instead of dataset_name; eval still uses dataset_name's test split");

    openR1(MIXTURE, "datasets", ValueType.LIST, null, "list of {id, config, split, columns, weight}");
    openR1(MIXTURE, "seed", ValueType.INT, "0", "shuffle seed of the mixture");
    openR1(MIXTURE, "test_split_size", ValueType.FLOAT, null, "fraction held out as the test split");
    openR1(MIXTURE_DATASET, "id", ValueType.STRING, null, "dataset (hub id or local path)");
    openR1(MIXTURE_DATASET, "config", ValueType.STRING, null, "dataset config (subset)");
    openR1(MIXTURE_DATASET, "split", ValueType.STRING, "train", "split to read");
    openR1(MIXTURE_DATASET, "columns", ValueType.STRING_LIST, null, "columns to keep");
    openR1(MIXTURE_DATASET, "weight", ValueType.FLOAT, null, "fraction of the rows to keep (subsample)");
  }

  private RecipeKeys() {}

  private static void k(Map<String, KeySpec> table, String name, ValueType type, boolean nullable, String def,
      boolean acted, String sources, String note) {
    Set<KeySource> src = EnumSet.noneOf(KeySource.class);
    for (String s : sources.split(" ")) {
      src.add(KeySource.valueOf(s));
    }
    table.put(name, new KeySpec(name, type, nullable, def, acted, src, note, CHOICES.getOrDefault(name, List.of())));
  }

  private static void legacy(String name, ValueType type, String def, String note) {
    TOP.put(name, new KeySpec(name, type, true, def, false, Set.of(KeySource.LEGACY), note,
        CHOICES.getOrDefault(name, List.of())));
  }

  private static void own(Map<String, KeySpec> table, String name, ValueType type, String def, String note) {
    table.put(name, new KeySpec(name, type, true, def, true, Set.of(KeySource.R1_CLUSTER), note,
        CHOICES.getOrDefault(name, List.of())));
  }

  private static void openR1(Map<String, KeySpec> table, String name, ValueType type, String def, String note) {
    table.put(name, new KeySpec(name, type, true, def, true, Set.of(KeySource.OPEN_R1), note, List.of()));
  }

  /** Keys allowed at the top level of a recipe and as stage overrides. */
  public static Map<String, KeySpec> topLevel() {
    return Collections.unmodifiableMap(TOP);
  }

  /** Keys of the {@code cluster:} section. */
  public static Map<String, KeySpec> cluster() {
    return Collections.unmodifiableMap(CLUSTER);
  }

  /** Keys only a pipeline stage has ({@code name}, {@code type}, {@code from}). */
  public static Map<String, KeySpec> stageOnly() {
    return Collections.unmodifiableMap(STAGE_ONLY);
  }

  /** Keys of {@code dataset_mixture:}. */
  public static Map<String, KeySpec> mixture() {
    return Collections.unmodifiableMap(MIXTURE);
  }

  /** Keys of one {@code dataset_mixture.datasets} entry. */
  public static Map<String, KeySpec> mixtureDataset() {
    return Collections.unmodifiableMap(MIXTURE_DATASET);
  }

  /** The closest key by edit distance, or {@code null} when none is close enough to be a typo. */
  public static String suggest(String unknown, Iterable<String> known) {
    String best = null;
    int bestDist = Integer.MAX_VALUE;
    for (String k : known) {
      int d = editDistance(unknown.toLowerCase(java.util.Locale.ROOT), k);
      if (d < bestDist) {
        bestDist = d;
        best = k;
      }
    }
    int limit = Math.max(2, Math.min(4, unknown.length() / 3));
    return bestDist <= limit ? best : null;
  }

  /** Damerau–Levenshtein distance (optimal string alignment: insert, delete, substitute, swap neighbours). */
  public static int editDistance(String a, String b) {
    int[][] d = new int[a.length() + 1][b.length() + 1];
    for (int i = 0; i <= a.length(); i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= b.length(); j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[a.length()][b.length()];
  }

  static List<String> choices(String key) {
    return CHOICES.getOrDefault(key, List.of());
  }

  static List<String> all(Map<String, KeySpec> table) {
    return Arrays.asList(table.keySet().toArray(new String[0]));
  }

  // ---- Typed defaults: what a recipe gets for a key it leaves out (the one place that says it) ----

  /**
   * r1-cluster's default where it is not the upstream text of the tables above; each is a deliberate
   * difference, said once here.
   */
  private static final Map<String, Object> R1_DEFAULTS = Map.of(
      "output_dir", "trainer_output", // transformers >= 4.50 turns None into "trainer_output"
      "save_total_limit", 0L, // None: keep every checkpoint
      "scale_rewards", "group", // TRL 0.18's True: scale by the group's std
      "cosine_min_value_wrong", -1.0); // get_cosine_scaled_reward's own default (open-r1's dataclass says 0.0)

  /** Defaults of r1-cluster's own stage types, where they differ from the trainer config the stage takes. */
  private static final Map<StageType, Map<String, Object>> STAGE_DEFAULTS = Map.of(
      StageType.DISTILL, Map.of("temperature", 2.0), // the distillation (softmax) temperature
      StageType.GENERATE, Map.of("reward_funcs", List.of("accuracy", "format"))); // teacher traces: no tag count

  /** The upstream config whose defaults a stage type takes (e.g. {@code learning_rate}: TRL_SFT=2e-05). */
  private static KeySource trainerOf(StageType kind) {
    return switch (kind) {
      case SFT, DISTILL -> KeySource.TRL_SFT;
      case GRPO, COMBINED -> KeySource.TRL_GRPO;
      default -> KeySource.TRAINING_ARGUMENTS;
    };
  }

  /**
   * The default of a top-level key in a stage of type {@code kind}, typed: {@link Boolean} (BOOL),
   * {@link Long} (INT), {@link Double} (FLOAT), {@link String} (STRING, ENUM), {@code List<String>}
   * (STRING_LIST) or {@code null} (none). In order: the stage type's own default, r1-cluster's
   * default, the stage's trainer config's default (the key's note, e.g. {@code TRL_GRPO=1e-06}), the
   * upstream default text.
   */
  public static Object defaultFor(String key, StageType kind) {
    Object own = STAGE_DEFAULTS.getOrDefault(kind, Map.of()).get(key);
    if (own != null) {
      return own;
    }
    KeySpec spec = TOP.get(key);
    if (spec == null) {
      throw new IllegalArgumentException("not a recipe key: " + key);
    }
    String text = spec.defaultText();
    KeySource trainer = trainerOf(kind);
    if (spec.sources().contains(trainer)) {
      for (String part : spec.note().split(" ")) {
        if (part.startsWith(trainer.name() + "=")) {
          text = part.substring(trainer.name().length() + 1);
        }
      }
    }
    return typed(spec, text);
  }

  /** The default of a key of the {@code cluster:} section (see {@link #defaultFor}). */
  public static Object clusterDefault(String key) {
    KeySpec spec = CLUSTER.get(key);
    if (spec == null) {
      throw new IllegalArgumentException("not a cluster key: " + key);
    }
    return typed(spec, spec.defaultText());
  }

  /** The default of a key of {@code dataset_mixture:} or of one of its datasets (see {@link #defaultFor}). */
  public static Object mixtureDefault(String key) {
    KeySpec spec = MIXTURE.containsKey(key) ? MIXTURE.get(key) : MIXTURE_DATASET.get(key);
    if (spec == null) {
      throw new IllegalArgumentException("not a dataset_mixture key: " + key);
    }
    return typed(spec, spec.defaultText());
  }

  private static Object typed(KeySpec spec, String text) {
    if (R1_DEFAULTS.containsKey(spec.name())) {
      return R1_DEFAULTS.get(spec.name());
    }
    if (text == null || text.equals("None")) {
      return null;
    }
    try {
      return switch (spec.type()) {
        case BOOL -> Boolean.parseBoolean(text.toLowerCase(java.util.Locale.ROOT));
        case INT -> Long.parseLong(text);
        case FLOAT -> Double.parseDouble(text);
        case STRING_LIST -> pythonStrings(text);
        default -> text;
      };
    } catch (NumberFormatException e) {
      throw new IllegalStateException("recipe key " + spec.name() + ": default '" + text + "' is not a "
          + spec.type(), e);
    }
  }

  /** {@code ['a', 'b']} as written in Python sources. */
  private static List<String> pythonStrings(String text) {
    String body = text.trim();
    if (!body.startsWith("[") || !body.endsWith("]")) {
      throw new NumberFormatException("not a list: " + text);
    }
    body = body.substring(1, body.length() - 1).trim();
    if (body.isEmpty()) {
      return List.of();
    }
    return Arrays.stream(body.split(",")).map(x -> x.trim().replaceAll("^['\"]|['\"]$", "")).toList();
  }
}
