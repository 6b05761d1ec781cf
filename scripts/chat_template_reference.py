#!/usr/bin/python3
"""Renders the chat-template fixtures with Python jinja2 configured as transformers configures it.

Reference for core/src/test/.../ChatTemplateFamiliesTest: for every template x case listed in
core/src/test/resources/chat_templates/families/cases.json, writes the rendered string (or the
error the template raises) to expected.json next to it.

The environment mirrors transformers' `_compile_jinja_template` / `apply_chat_template`
(transformers 4.4x, src/transformers/utils/chat_template_utils.py):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols, the
{% generation %} tag]), filters["tojson"] = json.dumps(ensure_ascii=False, ...),
globals raise_exception and strftime_now, and render(messages=..., tools=..., documents=None,
add_generation_prompt=..., bos_token/eos_token (when the tokenizer has them), **kwargs).
strftime_now reads a fixed time ("now" in cases.json) so the output is reproducible.

Run with Debian's jinja2:  /usr/bin/python3 scripts/chat_template_reference.py
"""
import json
import os
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "core", "src", "test", "resources",
                    "chat_templates", "families")


class GenerationTag(Extension):
    """transformers' AssistantTracker without the tracking: {% generation %} renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def environment(now):
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return now.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[GenerationTag, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def token(v):
    return v.get("content") if isinstance(v, dict) else v


def load_template(spec):
    if "source" in spec:
        return spec["source"], spec.get("bos"), spec.get("eos")
    if "file" in spec:
        with open(os.path.join(HERE, spec["file"]), encoding="utf-8") as f:
            return f.read(), spec.get("bos"), spec.get("eos")
    with open(os.path.join(HERE, spec["config"]), encoding="utf-8") as f:
        cfg = json.load(f)
    return cfg["chat_template"], token(cfg.get("bos_token")), token(cfg.get("eos_token"))


def main():
    with open(os.path.join(HERE, "cases.json"), encoding="utf-8") as f:
        spec = json.load(f)
    env = environment(datetime.fromisoformat(spec["now"]))
    out = {}
    for tname, tspec in spec["templates"].items():
        source, bos, eos = load_template(tspec)
        compiled = env.from_string(source)
        for case in spec["cases"]:
            if "only" in tspec and case["name"] not in tspec["only"]:
                continue
            kwargs = {}
            if bos is not None:
                kwargs["bos_token"] = bos
            if eos is not None:
                kwargs["eos_token"] = eos
            kwargs.update(case.get("kwargs", {}))
            try:
                text = compiled.render(messages=case["messages"], tools=case.get("tools"), documents=None,
                                       add_generation_prompt=case["add_generation_prompt"], **kwargs)
                out[tname + "/" + case["name"]] = {"text": text}
            except Exception as e:  # the Java side must fail too, never render something else
                out[tname + "/" + case["name"]] = {"error": type(e).__name__ + ": " + str(e)}
    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"jinja2": jinja2.__version__, "python": sys.version.split()[0], "results": out}, f,
                  ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    print(f"{len(out)} renderings, {sum('error' in v for v in out.values())} errors, jinja2 {jinja2.__version__}")


if __name__ == "__main__":
    main()
