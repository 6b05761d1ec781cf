#!/usr/bin/python3
"""An independent PyTorch forward pass of the decoder families we load, written from the
transformers modelling code (models/qwen2, qwen3, llama: modeling_*.py, and
modeling_rope_utils.py for the 'llama3' and 'yarn' rope scalings; yarn as transformers >= 4.56.2:
original_max_position_embeddings sets the correction band, an explicit factor is kept).
No transformers needed: Debian's python3-torch (1.13) and numpy are enough.

  /usr/bin/python3 scripts/reference_decoder.py check-qwen2
      our reference against the logits transformers itself computed (fixtures/tiny-qwen2*).
  /usr/bin/python3 scripts/reference_decoder.py make OUT_DIR
      writes tiny random checkpoints tiny-qwen3, tiny-llama3, tiny-qwen2-yarn (config.json,
      model.safetensors, inputs.json, logits.safetensors) used by FamilyParityTest.
  /usr/bin/python3 scripts/reference_decoder.py logits CHECKPOINT_DIR 1,2,3[;4,5]
      last-position logits of each row as JSON, the format of `r1 logits`, to check parity on any
      checkpoint (float32).
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch

DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64}


# ---------------------------------------------------------------- safetensors (format by hand)
def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        a, b = meta["data_offsets"]
        raw = data[a:b]
        if meta["dtype"] == "BF16":
            u = np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16
            arr = u.view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=DTYPES[meta["dtype"]])
        out[name] = torch.from_numpy(arr.astype(np.float32).reshape(meta["shape"]).copy())
    return out


def write_safetensors(path, tensors):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------- config
class Cfg:
    def __init__(self, d):
        self.d = d
        self.model_type = d["model_type"]
        self.hidden = d["hidden_size"]
        self.heads = d["num_attention_heads"]
        self.kv = d.get("num_key_value_heads", self.heads)
        self.head_dim = d.get("head_dim") or self.hidden // self.heads
        self.layers = d["num_hidden_layers"]
        self.eps = d.get("rms_norm_eps", 1e-6)
        rp = d.get("rope_parameters") or {}
        self.theta = rp.get("rope_theta", d.get("rope_theta", 10000.0))
        self.scaling = d.get("rope_scaling") or ({k: v for k, v in rp.items() if k != "rope_theta"} or None)
        self.max_pos = d.get("max_position_embeddings", 32768)
        self.tied = d.get("tie_word_embeddings", False)
        if self.model_type == "qwen2":
            self.qkv_bias = True  # Qwen2Attention: q/k/v Linear(bias=True), o_proj bias=False
        else:
            self.qkv_bias = d.get("attention_bias", False)
        self.qk_norm = self.model_type == "qwen3"


def inv_freq_and_scale(c):
    dim = c.head_dim
    base = c.theta
    inv = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
    s = c.scaling
    rtype = None if s is None else s.get("rope_type", s.get("type"))
    if rtype in (None, "default"):
        return inv, 1.0
    if rtype == "llama3":  # _compute_llama3_parameters
        factor = s["factor"]
        low, high = s["low_freq_factor"], s["high_freq_factor"]
        old = s["original_max_position_embeddings"]
        low_wl, high_wl = old / low, old / high
        wavelen = 2 * math.pi / inv
        inv_l = torch.where(wavelen > low_wl, inv / factor, inv)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_l / factor + smooth * inv_l
        medium = ~(wavelen < high_wl) * ~(wavelen > low_wl)
        return torch.where(medium, smoothed, inv_l), 1.0
    if rtype == "yarn":  # _compute_yarn_parameters
        factor = s["factor"]
        orig = s.get("original_max_position_embeddings") or c.max_pos
        att = s.get("attention_factor")
        mscale, mscale_all = s.get("mscale"), s.get("mscale_all_dim")

        def get_mscale(scale, m=1):
            return 1.0 if scale <= 1 else 0.1 * m * math.log(scale) + 1.0

        if att is None:
            att = get_mscale(factor, mscale) / get_mscale(factor, mscale_all) if mscale and mscale_all else get_mscale(factor)
        beta_fast = s.get("beta_fast") or 32
        beta_slow = s.get("beta_slow") or 1

        def corr_dim(rot):
            return (dim * math.log(orig / (rot * 2 * math.pi))) / (2 * math.log(base))

        lo, hi = corr_dim(beta_fast), corr_dim(beta_slow)
        if s.get("truncate", True):
            lo, hi = math.floor(lo), math.ceil(hi)
        lo, hi = max(lo, 0), min(hi, dim - 1)
        if lo == hi:
            hi += 0.001
        ramp = torch.clamp((torch.arange(dim // 2, dtype=torch.float32) - lo) / (hi - lo), 0, 1)
        pos_freqs = base ** (torch.arange(0, dim, 2).float() / dim)
        extra = 1.0 / pos_freqs
        inter = 1.0 / (factor * pos_freqs)
        keep = 1 - ramp
        return inter * (1 - keep) + extra * keep, att
    raise SystemExit("unsupported rope type " + str(rtype))


# ---------------------------------------------------------------- forward
def rms(x, w, eps):
    xf = x.to(torch.float32)
    var = xf.pow(2).mean(-1, keepdim=True)
    return w * (xf * torch.rsqrt(var + eps))


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


def forward(c, w, ids, mask, pos):
    B, T = ids.shape
    x = w["model.embed_tokens.weight"][ids]
    inv, att = inv_freq_and_scale(c)
    freqs = pos[:, :, None].float() * inv[None, None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = (emb.cos() * att)[:, None], (emb.sin() * att)[:, None]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None, None] & mask[:, None, None, :].bool()
    bias = torch.zeros(B, 1, T, T).masked_fill(~allowed, torch.finfo(torch.float32).min)
    H, K, D = c.heads, c.kv, c.head_dim
    for l in range(c.layers):
        p = f"model.layers.{l}."
        h = rms(x, w[p + "input_layernorm.weight"], c.eps)

        def proj(n):
            b = w.get(p + f"self_attn.{n}_proj.bias") if c.qkv_bias else None
            return torch.nn.functional.linear(h, w[p + f"self_attn.{n}_proj.weight"], b)

        q = proj("q").view(B, T, H, D)
        k = proj("k").view(B, T, K, D)
        v = proj("v").view(B, T, K, D).transpose(1, 2)
        if c.qk_norm:
            q = rms(q, w[p + "self_attn.q_norm.weight"], c.eps)
            k = rms(k, w[p + "self_attn.k_norm.weight"], c.eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k[:, :, None].expand(B, K, H // K, T, D).reshape(B, H, T, D)
        v = v[:, :, None].expand(B, K, H // K, T, D).reshape(B, H, T, D)
        s = q @ k.transpose(2, 3) * D ** -0.5 + bias
        a = torch.softmax(s, dim=-1, dtype=torch.float32) @ v
        a = a.transpose(1, 2).reshape(B, T, H * D)
        x = x + torch.nn.functional.linear(a, w[p + "self_attn.o_proj.weight"])
        h = rms(x, w[p + "post_attention_layernorm.weight"], c.eps)
        g = torch.nn.functional.linear(h, w[p + "mlp.gate_proj.weight"])
        u = torch.nn.functional.linear(h, w[p + "mlp.up_proj.weight"])
        x = x + torch.nn.functional.linear(torch.nn.functional.silu(g) * u, w[p + "mlp.down_proj.weight"])
    x = rms(x, w["model.norm.weight"], c.eps)
    head = w["model.embed_tokens.weight"] if c.tied else w["lm_head.weight"]
    return torch.nn.functional.linear(x, head)


def load(d):
    with open(os.path.join(d, "config.json")) as f:
        c = Cfg(json.load(f))
    w = {}
    idx = os.path.join(d, "model.safetensors.index.json")
    files = sorted(set(json.load(open(idx))["weight_map"].values())) if os.path.exists(idx) else ["model.safetensors"]
    for fn in files:
        w.update(read_safetensors(os.path.join(d, fn)))
    return c, w


INPUT_IDS = [[5, 17, 3, 44, 9, 60, 2, 31], [0, 0, 12, 7, 51, 23, 8, 40]]
ATTENTION_MASK = [[1] * 8, [0, 0, 1, 1, 1, 1, 1, 1]]


def run_inputs(c, w, inputs):
    ids = torch.tensor(inputs["input_ids"])
    mask = torch.tensor(inputs["attention_mask"])
    pos = torch.tensor(inputs["position_ids"])
    with torch.no_grad():
        return forward(c, w, ids, mask, pos)


def check_qwen2(root):
    for name in ["tiny-qwen2", "tiny-qwen2-tied", "tiny-qwen2-bf16"]:
        d = os.path.join(root, name)
        c, w = load(d)
        inputs = json.load(open(os.path.join(d, "inputs.json")))
        got = run_inputs(c, w, inputs)
        want = read_safetensors(os.path.join(d, "logits.safetensors"))["logits"]
        m = torch.tensor(inputs["attention_mask"]).bool()
        print(f"{name}: max |ours - transformers| over real positions = {(got - want)[m].abs().max().item():.3g}")


FAMILIES = {
    "tiny-qwen3": dict(model_type="qwen3", architectures=["Qwen3ForCausalLM"], vocab_size=64, hidden_size=32,
                       intermediate_size=80, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                       head_dim=16, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
                       rope_scaling=None, attention_bias=False, tie_word_embeddings=True, hidden_act="silu",
                       use_sliding_window=False, sliding_window=None, max_window_layers=2,
                       attention_dropout=0.0, torch_dtype="float32", bos_token_id=None, eos_token_id=None,
                       initializer_range=0.2),
    "tiny-llama3": dict(model_type="llama", architectures=["LlamaForCausalLM"], vocab_size=64, hidden_size=32,
                        intermediate_size=80, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                        max_position_embeddings=128, rms_norm_eps=1e-5, rope_theta=500000.0,
                        rope_scaling={"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                      "original_max_position_embeddings": 16, "rope_type": "llama3"},
                        attention_bias=False, mlp_bias=False, tie_word_embeddings=False, hidden_act="silu",
                        pretraining_tp=1, attention_dropout=0.0, torch_dtype="float32", bos_token_id=1,
                        eos_token_id=2, initializer_range=0.2, head_dim=8),
    "tiny-qwen2-yarn": dict(model_type="qwen2", architectures=["Qwen2ForCausalLM"], vocab_size=64, hidden_size=32,
                            intermediate_size=80, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                            max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=10000.0,
                            rope_scaling={"factor": 4.0, "original_max_position_embeddings": 32, "type": "yarn"},
                            tie_word_embeddings=False, hidden_act="silu", use_sliding_window=False,
                            sliding_window=None, max_window_layers=2, attention_dropout=0.0,
                            torch_dtype="float32", bos_token_id=None, eos_token_id=None, initializer_range=0.2),
}


def make(out):
    for seed, (name, cfg) in enumerate(FAMILIES.items()):
        torch.manual_seed(100 + seed)
        c = Cfg(cfg)
        H, K, D, C, F = c.heads, c.kv, c.head_dim, c.hidden, cfg["intermediate_size"]
        w = {"model.embed_tokens.weight": 0.2 * torch.randn(cfg["vocab_size"], C)}
        for l in range(c.layers):
            p = f"model.layers.{l}."
            w[p + "input_layernorm.weight"] = 1 + 0.3 * torch.randn(C)
            w[p + "self_attn.q_proj.weight"] = 0.2 * torch.randn(H * D, C)
            w[p + "self_attn.k_proj.weight"] = 0.2 * torch.randn(K * D, C)
            w[p + "self_attn.v_proj.weight"] = 0.2 * torch.randn(K * D, C)
            if c.qkv_bias:
                w[p + "self_attn.q_proj.bias"] = 0.2 * torch.randn(H * D)
                w[p + "self_attn.k_proj.bias"] = 0.2 * torch.randn(K * D)
                w[p + "self_attn.v_proj.bias"] = 0.2 * torch.randn(K * D)
            w[p + "self_attn.o_proj.weight"] = 0.2 * torch.randn(C, H * D)
            if c.qk_norm:
                w[p + "self_attn.q_norm.weight"] = 1 + 0.3 * torch.randn(D)
                w[p + "self_attn.k_norm.weight"] = 1 + 0.3 * torch.randn(D)
            w[p + "post_attention_layernorm.weight"] = 1 + 0.3 * torch.randn(C)
            w[p + "mlp.gate_proj.weight"] = 0.2 * torch.randn(F, C)
            w[p + "mlp.up_proj.weight"] = 0.2 * torch.randn(F, C)
            w[p + "mlp.down_proj.weight"] = 0.2 * torch.randn(C, F)
        w["model.norm.weight"] = 1 + 0.3 * torch.randn(C)
        if not c.tied:
            w["lm_head.weight"] = 0.2 * torch.randn(cfg["vocab_size"], C)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        write_safetensors(os.path.join(d, "model.safetensors"), w)
        # positions up to 60 (> the llama3/yarn original context 16/32) so the scalings matter
        mask = torch.tensor(ATTENTION_MASK)
        pos = ((mask.cumsum(-1) - 1).clamp(min=0) * 9)
        inputs = {"input_ids": INPUT_IDS, "attention_mask": ATTENTION_MASK, "position_ids": pos.tolist(),
                  "dtype": "torch.float32"}
        c2, w2 = load(d)
        logits = run_inputs(c2, w2, inputs)
        write_safetensors(os.path.join(d, "logits.safetensors"), {"logits": logits})
        with open(os.path.join(d, "inputs.json"), "w") as f:
            json.dump(inputs, f)
        print(name, tuple(logits.shape), "abs mean", round(logits.abs().mean().item(), 4))


def last_logits(d, spec):
    c, w = load(d)
    rows = [[int(t) for t in r.split(",") if t.strip()] for r in spec.split(";")]
    out = []
    for r in rows:  # one row at a time, no padding: positions 0..n-1
        ids = torch.tensor([r])
        with torch.no_grad():
            lg = forward(c, w, ids, torch.ones_like(ids), torch.arange(len(r))[None])
        out.append([float(v) for v in lg[0, -1].tolist()])
    print(json.dumps({"logits": out}))


if __name__ == "__main__":
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "src", "test", "resources", "fixtures")
    if sys.argv[1] == "check-qwen2":
        check_qwen2(here)
    elif sys.argv[1] == "make":
        make(sys.argv[2] if len(sys.argv) > 2 else here)
    elif sys.argv[1] == "logits":
        last_logits(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
