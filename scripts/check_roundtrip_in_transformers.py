#!/usr/bin/env python3
"""Loads checkpoints written by r1-cluster (Qwen2Model.save) with transformers and compares the
logits with the reference logits of the fixture they came from.

    python3 scripts/check_roundtrip_in_transformers.py SAVED_DIR FIXTURES_DIR
"""
import json, os, sys
import torch
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM

saved, fixtures = sys.argv[1], sys.argv[2]
worst = 0.0
for name in sorted(os.listdir(saved)):
    model = AutoModelForCausalLM.from_pretrained(os.path.join(saved, name), torch_dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    inp = json.load(open(os.path.join(fixtures, name, "inputs.json")))
    ids, mask, pos = (torch.tensor(inp[k]) for k in ("input_ids", "attention_mask", "position_ids"))
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=mask, position_ids=pos).logits.float()
    ref = load_file(os.path.join(fixtures, name, "logits.safetensors"))["logits"]
    keep = mask.bool()
    diff = (logits - ref).abs()[keep].max().item()
    worst = max(worst, diff)
    print(f"{name}: loaded by {type(model).__name__}, max |logits - reference| = {diff:.3g}")
print("WORST", worst)
sys.exit(0 if worst <= 1e-4 else 1)
