#!/usr/bin/env python3
"""Writes the tiny random Qwen2 checkpoints + reference logits used by TransformersParityTest.

Run on a machine with torch, transformers and safetensors:
    python3 scripts/make_transformers_fixture.py OUT_DIR
Writes OUT_DIR/tiny-qwen2 (untied, float32), OUT_DIR/tiny-qwen2-tied (tied embeddings, float32)
and OUT_DIR/tiny-qwen2-bf16 (bf16 weights; logits computed from the bf16 weights upcast to float32).
Each holds config.json + model.safetensors (save_pretrained), inputs.json and logits.safetensors.
"""
import json, os, sys
import torch
from safetensors.torch import save_file
from transformers import Qwen2Config, Qwen2ForCausalLM

out = sys.argv[1]
input_ids = [[5, 17, 3, 44, 9, 60, 2, 31], [0, 0, 12, 7, 51, 23, 8, 40]]
attention_mask = [[1] * 8, [0, 0, 1, 1, 1, 1, 1, 1]]

def make(name, tied, dtype, seed):
    torch.manual_seed(seed)
    cfg = Qwen2Config(vocab_size=64, hidden_size=32, intermediate_size=80, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=tied,
                      initializer_range=0.2, attn_implementation="eager")
    model = Qwen2ForCausalLM(cfg).eval()
    # random (non-trivial) norms and biases so that every parameter matters
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("norm.weight"):
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            elif n.endswith(".bias"):
                p.copy_(0.2 * torch.randn_like(p))
    d = os.path.join(out, name)
    model.to(dtype).save_pretrained(d, safe_serialization=True)
    model = Qwen2ForCausalLM.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager").eval()
    ids = torch.tensor(input_ids)
    mask = torch.tensor(attention_mask)
    pos = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float().contiguous()
    save_file({"logits": logits}, os.path.join(d, "logits.safetensors"))
    with open(os.path.join(d, "inputs.json"), "w") as f:
        json.dump({"input_ids": input_ids, "attention_mask": attention_mask,
                   "position_ids": pos.tolist(), "dtype": str(dtype)}, f)
    print(name, "logits", tuple(logits.shape), "abs mean", logits.abs().mean().item())

make("tiny-qwen2", False, torch.float32, 1)
make("tiny-qwen2-tied", True, torch.float32, 2)
make("tiny-qwen2-bf16", False, torch.bfloat16, 3)
import transformers; print("transformers", transformers.__version__, "torch", torch.__version__)
