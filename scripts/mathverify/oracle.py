#!/usr/bin/env python3
"""Adds Math-Verify's own verdict to each JSONL line ({"gold","pred","precision"} -> "mv").

Usage: PYTHONPATH=<latex2sympy2_extended/src>:<Math-Verify/src> oracle.py < in.jsonl > out.jsonl

Runs huggingface/Math-Verify as the r1 verify interface uses it: both strings parsed with LaTeX and
plain-expression targets (boxed first), verify(..., float_rounding=precision, strict=True).
Only for measuring agreement; nothing in the build depends on it.
"""
import json
import sys

from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

TARGETS = [LatexExtractionConfig(boxed_match_priority=0), ExprExtractionConfig()]

for line in sys.stdin:
    if not line.strip():
        continue
    d = json.loads(line)
    try:
        g = parse(d["gold"], TARGETS)
        p = parse(d["pred"], TARGETS)
        d["mv"] = bool(verify(g, p, float_rounding=int(d.get("precision", 6))))
    except Exception as e:  # Math-Verify itself failing counts as "not verified"
        d["mv"] = False
    print(json.dumps(d, ensure_ascii=False), flush=True)
