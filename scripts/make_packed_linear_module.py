#!/usr/bin/python3
"""Writes core/src/main/resources/io/r1cluster/core/device/packed_linear.pt, the TorchScript module behind
io.r1cluster.core.device.PackedLinear: bf16 linear layers on oneDNN with weights packed once.

Why: at batch 1 a bf16 `linear` through aten (what DJL's Linear.linear reaches) runs oneDNN's brgemm
matmul on the plain [out, in] weight, which repacks the weight into oneDNN's blocked VNNI layout on
every call: one extra pass over the weights per token, so bf16 was barely faster than float32's sgemv
(measured 1 thread, [1,896]x[896,4864]: float32 0.99 ms, bf16 0.68 ms; packed bf16 0.42 ms). PyTorch's
own CPU inference path (inductor's weight prepacking) packs the weight once with
mkldnn::_reorder_linear_weight and runs mkldnn::_linear_pointwise on it; DJL's JNI has neither op.

  forward(x, w)      x @ w.T with w packed, no bias       (mkldnn::_linear_pointwise)
  biased(x, w, b)    the same with a bias
  pack(w, batch)     w [out, in] bf16 -> oneDNN blocked layout for `batch` rows (an opaque mkldnn tensor)
  unpack(w)          the packed weight back to a plain [out, in] tensor (exact: a reorder)

The ops exist in the libtorch DJL loads (2.5.1) but not in the Debian torch 1.13 that writes the file,
so this script declares their schemas (a FRAGMENT library, no kernel) only to compile the calls; the
saved module is TorchScript source that libtorch resolves by name when it loads it. The Scalar?[]
argument needs a List[Optional[number]] literal, which only TorchScript's own source syntax can spell,
hence the small rewrite of the saved code below.

Run with the Debian torch (1.13): /usr/bin/python3 scripts/make_packed_linear_module.py
"""
import os
import re
import tempfile
import zipfile

import torch

lib = torch._C._dispatch_library("FRAGMENT", "mkldnn", "", __file__, 1)
for schema in ("_linear_pointwise(Tensor X, Tensor W, Tensor? B, str attr, Scalar?[] scalars, str? algorithm) -> Tensor Y",
               "_reorder_linear_weight(Tensor self, int? batch_size=None) -> Tensor Y"):
    try:
        lib.define(schema, "")
    except RuntimeError:
        pass  # a torch that has the op already

# a stand-in the rewrite below replaces with the real call (see the module docstring)
cu = torch.jit.CompilationUnit('''
def lin(x: Tensor, w: Tensor, b: Optional[Tensor]) -> Tensor:
    return x
''')
lin = cu.lin


class PackedLinear(torch.nn.Module):
    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return lin(x, w, None)

    @torch.jit.export
    def biased(self, x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return lin(x, w, b)

    @torch.jit.export
    def pack(self, w: torch.Tensor, batch: int) -> torch.Tensor:
        return torch.ops.mkldnn._reorder_linear_weight(w, batch)

    @torch.jit.export
    def unpack(self, w: torch.Tensor) -> torch.Tensor:
        return w.to_dense()


here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "core", "src", "main", "resources", "io", "r1cluster", "core", "device", "packed_linear.pt")
with tempfile.TemporaryDirectory() as tmp:
    raw = os.path.join(tmp, "raw.pt")
    torch.jit.script(PackedLinear()).save(raw)
    src = zipfile.ZipFile(raw)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            name = info.filename
            # debug tables index the stand-in's source; the free function `lin` is inlined below
            if name.endswith(".debug_pkl") or name.endswith("/code/.py"):
                continue
            data = src.read(name)
            if name.endswith("/code/__torch__.py"):
                code, n = re.subn(r"\blin\(([^,()]+), ([^,()]+), ([^,()]+), \)",
                                  r'ops.mkldnn._linear_pointwise(\1, \2, \3, "none", annotate(List[Optional[number]], []), "")',
                                  data.decode())
                assert n == 2, code
                data = code.encode()
            dst.writestr(info, data)
print(os.path.normpath(out), os.path.getsize(out), "bytes, torch", torch.__version__)
