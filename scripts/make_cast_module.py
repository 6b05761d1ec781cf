#!/usr/bin/python3
"""Writes core/src/main/resources/io/r1cluster/core/device/cast.pt, the TorchScript module behind
io.r1cluster.core.device.Casts.

DJL's PyTorch JNI (0.32, and DJL master as of 2026-12) maps only float32/float64/float16/uint8/int32/
int8/int64/bool/complex64 to torch dtypes: NDArray.toType(BFLOAT16) and create(..., BFLOAT16) reach a
bare `throw;` in GetScalarTypeFromDType and abort the JVM ("terminate called without an active
exception"), and toType is wrapped in NoGradGuard, so it also cuts the autograd graph. Ops on bf16
tensors themselves work. This module supplies the two casts DJL lacks, run through TorchScript:

  forward(x, like)  x.to(like.dtype), differentiable (the mixed-precision casts inside a training graph)
  bfloat16(x)       x.to(torch.bfloat16) (makes the bf16 `like` tensor once per device)

Run with any torch >= 1.13 (the Debian python3-torch here): /usr/bin/python3 scripts/make_cast_module.py
"""
import os
import torch


class Cast(torch.nn.Module):
    def forward(self, x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return x.to(like.dtype)

    @torch.jit.export
    def bfloat16(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.bfloat16)


here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "..", "core", "src", "main", "resources", "io", "r1cluster", "core", "device", "cast.pt")
torch.jit.script(Cast()).save(out)
print(os.path.normpath(out), os.path.getsize(out), "bytes, torch", torch.__version__)
