#!/usr/bin/env python3
"""Agreement of `r1 verify --jsonl` output with Math-Verify's verdicts.

Usage: agreement.py VERIFIED.jsonl [--show]
Each line carries "expected" (the Math-Verify test's verdict), optionally "mv" (Math-Verify run with
the r1 verify interface's options, see oracle.py) and "verified" (ours).
"""
import json
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
show = "--show" in sys.argv
for ref in ("expected", "mv"):
    have = [r for r in rows if ref in r]
    if not have:
        continue
    agree = sum(r["verified"] == r[ref] for r in have)
    fn = sum(r[ref] and not r["verified"] for r in have)
    fp = sum(r["verified"] and not r[ref] for r in have)
    print(f"vs {ref}: {agree}/{len(have)} = {100.0 * agree / len(have):.1f}%  (false negatives {fn}, false positives {fp})")
if show:
    for r in rows:
        if r["verified"] != r["expected"]:
            print(f'{r.get("source","")}\t{r["expected"]}\t{r["gold"]!r}\t{r["pred"]!r}'[:300])
