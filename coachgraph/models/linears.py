"""Linear layers whose output rows depend only on their own input rows.

A generation batch mixes rows of unrelated requests, so a row's logits must not change with
what else shares its matrix products. Three facts, each checked by the tests, decide how:

- dynamic int8 quantization as PyTorch ships it (`quantize_dynamic`) gives the whole activation
  matrix one scale, taken from its largest value, so one request's outlier coarsens every
  other row. `Int8Linear` quantizes each row with its own scale (its largest magnitude over
  127), multiplies in int8 with exact int32 sums, and scales each output row back: nothing
  crosses rows, and per-row scales are also finer than one shared scale;
- float GEMM kernels pick their code by the row count: MKL computes one row, two or three rows
  and full blocks of four rows with different code, and on CPUs with AVX-512 and AMX both the
  bf16 and the fp32 kernels (and how they split rows between threads) change with the row count
  at any padding. So a float layer calls its GEMM only ever with `CHUNK_ROWS` rows, zero rows
  filling the last call: one row count, one code path, and every row the same result wherever it
  sits;
- int8 rows are independent at any row count, so nothing is padded: a caller passes any number
  of rows to any layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["BF16Linear", "CHUNK_ROWS", "FP32Linear", "Int8Linear", "Linear", "PRECISIONS"]

CHUNK_ROWS = 16
"""Rows of every float GEMM call: a single row costs about what 16 do (the weight is read once
either way), and a long prompt is a few calls of it."""


def _in_chunks(x: torch.Tensor, gemm: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """`gemm` of `x`, called on `CHUNK_ROWS` rows at a time (the last filled with zero rows)."""
    rows = x.shape[0]
    extra = -rows % CHUNK_ROWS
    if extra:
        x = torch.cat([x, x.new_zeros(extra, x.shape[1])])
    return torch.cat([gemm(part) for part in x.split(CHUNK_ROWS)])[:rows]


class Linear(ABC):
    """``y = x @ W.T`` for a 2-D `x` (rows, in_features), with row-independent rounding."""

    takes_weights: bool = False
    """Whether it keeps its weight as a float tensor, ``weight``, that a new weight of the same
    shape can be copied into in place (converted to its dtype), giving the layer that building
    it afresh from that weight gives."""

    @abstractmethod
    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """The output rows (rows, out_features), float32."""


class FP32Linear(Linear):
    """The float32 weight as it is (the transformers forward's arithmetic), in a copy of its own
    (smoothing rescales it in place)."""

    takes_weights = True

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight.detach().to(torch.float32, copy=True).contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return _in_chunks(x, lambda part: F.linear(part, self.weight))


class BF16Linear(Linear):
    """The weight stored in bfloat16 (half the bytes read per token); returns float32."""

    takes_weights = True

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight.detach().to(torch.bfloat16).contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return _in_chunks(x.to(torch.bfloat16), lambda part: F.linear(part, self.weight)).float()


class Int8Linear(Linear):
    """int8 weights (one scale per output channel) times int8 activations (one scale per row),
    accumulated exactly in int32 by `torch._int_mm`."""

    def __init__(self, weight: torch.Tensor) -> None:
        weight = weight.detach().float()
        self.weight_scale = weight.abs().amax(dim=1).clamp(min=1e-8) / 127.0  # (out,)
        # (in, out) as a transposed view: the layout the int8 GEMM reads fastest for one row.
        self.qweight = (weight / self.weight_scale[:, None]).round().to(torch.int8).t()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        scale = torch.linalg.vector_norm(x, float("inf"), dim=-1, keepdim=True).clamp_(min=1e-30) / 127.0
        q = torch.div(x, scale).round_().to(torch.int8)
        return (torch._int_mm(q, self.qweight) * self.weight_scale).mul_(scale)


PRECISIONS: dict[str, Callable[[torch.Tensor], Linear]] = {
    "fp32": FP32Linear,
    "bf16": BF16Linear,
    "int8": Int8Linear,
}
"""How a lean decoder stores its linear layers, by name: each builds a `Linear` from a float
weight of shape (out_features, in_features)."""
