#!/usr/bin/env bash
# GPU check (issue 16): run on a machine with an NVIDIA GPU and the CUDA jar (mvn -Pcuda -DskipTests package).
#
#   scripts/gpu-check.sh [--device cuda:0] [--out DIR] [--quick] [--only logits,generate,learner,grpo]
#
# Prints one table:
#   - logits on the device vs float32 on the CPU, on the transformers fixtures (float32 <= 1e-3;
#     bf16 <= 0.05 x max |logit|, the bound Bf16Test holds on the CPU)       (r1 bench logits)
#   - decode tokens/s, demo model and a Qwen2.5-0.5B-shaped random checkpoint, float32 and bf16
#                                                                             (r1 bench generate)
#   - learner tokens/s, demo model and the 0.5B-shaped checkpoint (bf16 compute) (r1 bench learner)
#   - 20 GRPO steps of the demo recipe on the actors (embedded cluster)       (r1 grpo)
#   - peak GPU memory over the whole run (nvidia-smi, sampled every 200 ms)
# Every figure is also under DIR (default target/gpu-check) as the bench's --json file.
# --device cpu runs the same steps on the CPU (that is how the script is tested); --quick uses a tiny
# random checkpoint instead of the 0.5B-shaped one, --quick benches and 2 GRPO steps.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
device=cuda:0
out="$here/target/gpu-check"
quick=0
only="logits,generate,learner,grpo"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) device="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --only) only="$2"; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "gpu-check: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$device" in
  cpu|cuda|cuda:[0-9]*) ;;
  *) echo "gpu-check: --device '$device': use cpu, cuda or cuda:N" >&2; exit 2 ;;
esac
want() { [[ ",$only," == *",$1,"* ]]; }
mkdir -p "$out"
out="$(cd "$out" && pwd)"
r1="${R1_CMD:-$here/r1}" # tests point R1_CMD at the CLI on their class path
py=/usr/bin/python3
[[ -x "$py" ]] || py=python3
q=(); [[ $quick == 1 ]] && q=(--quick)

# peak GPU memory: sample nvidia-smi in the background for the whole run
smi_pid=""
if [[ "$device" != cpu ]] && command -v nvidia-smi >/dev/null; then
  idx="${device#cuda}"; idx="${idx#:}"; idx="${idx:-0}"
  nvidia-smi --id="$idx" --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 > "$out/gpu-mem.txt" 2>/dev/null &
  smi_pid=$!
  trap '[[ -n "$smi_pid" ]] && kill "$smi_pid" 2>/dev/null || true' EXIT
  nvidia-smi --id="$idx" --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$out/gpu-name.txt"
fi

ckpt="$out/random-checkpoint"
if want generate || want learner; then
  if [[ ! -f "$ckpt/model.safetensors" ]]; then
    shape=qwen2.5-0.5b; [[ $quick == 1 ]] && shape=tiny
    "$py" "$here/scripts/make_random_qwen.py" "$ckpt" --shape "$shape"
  fi
fi

if want logits; then
  for fx in tiny-qwen2 tiny-qwen2-tied tiny-qwen2-bf16; do
    $r1 --device "$device" bench logits --model "$here/core/src/test/resources/fixtures/$fx" --json "$out/logits-$fx.json"
  done
fi
if want generate; then
  $r1 --device "$device" bench generate "${q[@]}" --json "$out/generate-demo.json"
  $r1 --device "$device" bench generate "${q[@]}" --model "$ckpt" --json "$out/generate-checkpoint.json"
fi
if want learner; then
  $r1 --device "$device" bench learner "${q[@]}" --json "$out/learner-demo.json"
  $r1 --device "$device" bench learner "${q[@]}" --model "$ckpt" --param bf16=true --param completion_len=64 \
    --json "$out/learner-checkpoint.json"
fi
if want grpo; then
  steps=20; [[ $quick == 1 ]] && steps=2
  [[ -f "$out/data/train.jsonl" ]] || $r1 data demo --out "$out/data"
  start=$(date +%s)
  $r1 --device "$device" grpo "$here/recipes/demo/grpo.yaml" --dataset_name "$out/data" --max_steps "$steps" \
    --output_dir "$out/grpo" --overwrite_output_dir > "$out/grpo.log" 2>&1 || { tail -30 "$out/grpo.log"; exit 1; }
  echo "{\"steps\": $steps, \"seconds\": $(( $(date +%s) - start ))}" > "$out/grpo.json"
fi
if [[ -n "$smi_pid" ]]; then
  kill "$smi_pid" 2>/dev/null || true
  smi_pid=""
fi

# the table
"$py" - "$out" "$device" <<'EOF'
import json, os, sys
out, device = sys.argv[1], sys.argv[2]
def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None
def figs(j):
    return j.get("figures", j) if j else None
rows = []
for fx in ("tiny-qwen2", "tiny-qwen2-tied", "tiny-qwen2-bf16"):
    f = figs(load(f"logits-{fx}.json"))
    if f:
        for t in ("float32", "bfloat16"):
            rows.append((f"logits {fx} {t}", f"max |diff| {f[t + '.max_abs_diff']:.3g}",
                         f"tol {f[t + '.tolerance']:.3g} {'ok' if f[t + '.ok'] else 'OVER'}"))
f = figs(load("generate-demo.json"))
if f:
    for k, v in f.items():
        if k.endswith("kv_tokens_per_s"):
            rows.append((f"generate demo {k.split('.')[0]}", f"{v:.0f} tok/s", "KV cache"))
f = figs(load("generate-checkpoint.json"))
if f:
    for k, v in f.items():
        if k.endswith("decode_tokens_per_s"):
            rows.append((f"generate checkpoint {k.rsplit('.', 1)[0]}", f"{v:.2f} tok/s", ""))
        if k.endswith("peak_rss_mib"):
            rows.append((f"generate checkpoint {k.split('.')[0]} peak RSS", f"{v:.0f} MiB", ""))
for name in ("learner-demo.json", "learner-checkpoint.json"):
    f = figs(load(name))
    if f:
        for k, v in f.items():
            if k.endswith("tokens_per_s"):
                rows.append((f"learner {name[8:-5]} {k.split('.')[0]}", f"{v:.0f} tok/s", ""))
g = load("grpo.json")
if g:
    rows.append((f"GRPO demo on the actors", f"{g['steps']} steps in {g['seconds']} s", f"{g['seconds'] / g['steps']:.1f} s/step"))
mem = os.path.join(out, "gpu-mem.txt")
if os.path.exists(mem):
    vals = [int(x) for x in open(mem).read().split() if x.strip().isdigit()]
    if vals:
        rows.append(("peak GPU memory (nvidia-smi)", f"{max(vals)} MiB", "whole run"))
name = open(os.path.join(out, "gpu-name.txt")).read().strip() if os.path.exists(os.path.join(out, "gpu-name.txt")) else device
print(f"\n## gpu-check on {name} (device {device})")
print("| check | figure | note |")
print("| --- | --- | --- |")
for r in rows:
    print("| " + " | ".join(r) + " |")
EOF
