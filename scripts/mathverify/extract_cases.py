#!/usr/bin/env python3
"""Collect the (gold, pred, expected) comparisons of Math-Verify's own test suite into JSONL.

Usage: extract_cases.py MATH_VERIFY_TESTS_DIR > cases.jsonl

Reads every ``@pytest.mark.parametrize`` table whose argument names include ``gold`` and ``pred``
(with the tests' optional ``precision``, ``strict`` and ``allow_set_relation_comp`` columns) and the
``match_types`` the test passes to its helper. One JSON line per case:
``{"gold", "pred", "precision", "expected", "source", "match_types", "strict", "allow_set_relation_comp"}``.
The tables are facts (inputs and verdicts) from huggingface/Math-Verify, Apache-2.0.
"""
import ast
import json
import math
import pathlib
import sys


def call_kwargs(fn):
    """match_types / precision / strict / allow_set_relation_comp given to compare_strings in the body."""
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("compare_strings", "verify"):
            out = {"helper": node.func.id}
            for kw in node.keywords:
                try:
                    out[kw.arg] = ast.literal_eval(kw.value)
                except ValueError:
                    out[kw.arg] = ast.unparse(kw.value)
            return out
    return None


def main(root):
    for path in sorted(pathlib.Path(root).glob("test_*.py")):
        tree = ast.parse(path.read_text())
        for fn in tree.body:
            if not isinstance(fn, ast.FunctionDef):
                continue
            kwargs = call_kwargs(fn)
            if kwargs is None:
                continue
            for dec in fn.decorator_list:
                if not (isinstance(dec, ast.Call) and ast.unparse(dec.func).endswith("parametrize")):
                    continue
                names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
                if "gold" not in names or "pred" not in names:
                    continue
                rows = eval(compile(ast.Expression(dec.args[1]), str(path), "eval"), {"math": math})
                for i, row in enumerate(rows):
                    r = dict(zip(names, row))
                    expected = r.get("expected", r.get("result"))
                    precision = r.get("precision", kwargs.get("precision", 6))
                    if isinstance(precision, str):
                        precision = 6
                    match_types = kwargs.get("match_types", ["latex", "expr"])
                    if kwargs["helper"] == "verify":
                        match_types = "parse-default"
                    line = {"gold": r["gold"], "pred": r["pred"], "precision": precision,
                            "expected": bool(expected), "source": f"{path.name}::{fn.name}[{i}]",
                            "match_types": match_types,
                            "strict": r.get("strict", kwargs.get("strict", True)),
                            "allow_set_relation_comp": r.get("allow_set_relation_comp", kwargs.get("allow_set_relation_comp", False))}
                    print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1])
