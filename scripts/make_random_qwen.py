#!/usr/bin/python3
"""Writes a randomly initialised checkpoint with Qwen2.5-0.5B's shapes (or a named smaller one).

    /usr/bin/python3 scripts/make_random_qwen.py OUT_DIR [--dtype bf16|f32] [--shape qwen2.5-0.5b|tiny]

OUT_DIR gets config.json (Qwen2ForCausalLM, transformers keys) and model.safetensors written by hand
(8-byte little-endian header length, JSON header, raw little-endian tensor data), so only numpy is
needed. Weights: normal(0, 0.02) for matrices, 1 for norms, 0 for biases, the seed fixed, tied
embeddings as Qwen2.5-0.5B has them. bf16 is float32 rounded to nearest even (what torch does).
Peak memory is one tensor: the header is computed from the shapes first, then each tensor is
generated and appended. Used by `./r1 bench generate --model OUT_DIR` and scripts/gpu-check.sh;
the output is large (~1 GB in bf16) and belongs in an ignored folder (target/, runs/).
"""
import argparse
import json
import os
import sys

import numpy as np

SHAPES = {
    # hidden, intermediate, layers, heads, kv heads, vocab, tied, max positions, rope theta
    "qwen2.5-0.5b": dict(hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                         num_key_value_heads=2, vocab_size=151936, tie_word_embeddings=True,
                         max_position_embeddings=32768, rope_theta=1000000.0),
    "tiny": dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                 num_key_value_heads=2, vocab_size=256, tie_word_embeddings=True,
                 max_position_embeddings=512, rope_theta=10000.0),
}


def parameter_shapes(c):
    h = c["hidden_size"]
    kv = c["num_key_value_heads"] * (h // c["num_attention_heads"])
    f = c["intermediate_size"]
    out = [("model.embed_tokens.weight", (c["vocab_size"], h))]
    for l in range(c["num_hidden_layers"]):
        p = f"model.layers.{l}."
        out += [(p + "input_layernorm.weight", (h,)),
                (p + "self_attn.q_proj.weight", (h, h)), (p + "self_attn.q_proj.bias", (h,)),
                (p + "self_attn.k_proj.weight", (kv, h)), (p + "self_attn.k_proj.bias", (kv,)),
                (p + "self_attn.v_proj.weight", (kv, h)), (p + "self_attn.v_proj.bias", (kv,)),
                (p + "self_attn.o_proj.weight", (h, h)),
                (p + "post_attention_layernorm.weight", (h,)),
                (p + "mlp.gate_proj.weight", (f, h)), (p + "mlp.up_proj.weight", (f, h)),
                (p + "mlp.down_proj.weight", (h, f))]
    out.append(("model.norm.weight", (h,)))
    if not c["tie_word_embeddings"]:
        out.append(("lm_head.weight", (c["vocab_size"], h)))
    return out


def to_bf16_bits(x):
    """float32 -> bfloat16 bits, round to nearest even (no NaNs here)."""
    b = x.astype(np.float32).view(np.uint32)
    rounding = np.uint32(0x7FFF) + ((b >> np.uint32(16)) & np.uint32(1))
    return ((b + rounding) >> np.uint32(16)).astype(np.uint16)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--dtype", choices=["bf16", "f32"], default="bf16")
    ap.add_argument("--shape", choices=sorted(SHAPES), default="qwen2.5-0.5b")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    c = SHAPES[a.shape]
    size = 2 if a.dtype == "bf16" else 4
    st_dtype = "BF16" if a.dtype == "bf16" else "F32"
    params = parameter_shapes(c)
    header, off = {}, 0
    for name, shape in params:
        n = int(np.prod(shape)) * size
        header[name] = {"dtype": st_dtype, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hb += b" " * ((8 - len(hb) % 8) % 8)  # data starts 8-byte aligned, as the safetensors writer pads
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    tmp = os.path.join(a.out, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(len(hb).to_bytes(8, "little"))
        f.write(hb)
        for name, shape in params:
            if name.endswith("norm.weight"):
                x = np.ones(shape, np.float32)
            elif name.endswith(".bias"):
                x = np.zeros(shape, np.float32)
            else:
                x = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
            f.write((to_bf16_bits(x) if a.dtype == "bf16" else x.astype("<f4")).tobytes())
    os.replace(tmp, os.path.join(a.out, "model.safetensors"))
    config = dict(architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_act="silu",
                  rms_norm_eps=1e-6, initializer_range=0.02, use_cache=True, use_sliding_window=False,
                  attention_dropout=0.0, bos_token_id=151643, eos_token_id=151643,
                  torch_dtype="bfloat16" if a.dtype == "bf16" else "float32", **c)
    if a.shape == "tiny":
        config.update(bos_token_id=0, eos_token_id=1)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    total = sum(int(np.prod(s)) for _, s in params)
    print(f"{a.out}: {a.shape}, {total:,} parameters, {a.dtype}, {off / 2**20:.0f} MiB of weights", file=sys.stderr)


if __name__ == "__main__":
    main()
