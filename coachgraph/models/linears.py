"""Linear layers whose output rows depend only on their own input rows.

A generation batch mixes rows of unrelated requests, so a row's logits must not change with
what else shares its matrix products. Three facts, each checked by the tests, decide how:

- dynamic int8 quantization as PyTorch ships it (`quantize_dynamic`) gives the whole activation
  matrix one scale, taken from its largest value, so one request's outlier coarsens every
  other row. `Int8Linear` quantizes each row with its own scale (its largest magnitude over
  127), multiplies in int8 with exact int32 sums, and scales each output row back: nothing
  crosses rows, and per-row scales are also finer than one shared scale;
- float GEMM kernels round differently for rows in a ragged edge block (MKL computes one row,
  two or three rows, and full blocks of four rows with different code), so float layers are
  called with a row count padded to `ROW_BLOCK`; whole blocks give every row the same result
  wherever it sits (bf16 only differs for a single row, which the padding also covers);
- the decoder does the padding once per forward pass (`Linear.row_block`), not per layer.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
import torch.nn.functional as F

__all__ = ["BF16Linear", "FP32Linear", "Int8Linear", "Linear", "PRECISIONS", "ROW_BLOCK"]

ROW_BLOCK = 4
"""Rows per float GEMM block on the CPUs measured: float layers see a multiple of this."""


class Linear(ABC):
    """``y = x @ W.T`` for a 2-D `x` (rows, in_features), with row-independent rounding."""

    row_block: int = 1
    """The row count the caller pads `x` to a multiple of, so that rows stay independent."""
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

    row_block = ROW_BLOCK
    takes_weights = True

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight.detach().to(torch.float32, copy=True).contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x, self.weight)


class BF16Linear(Linear):
    """The weight stored in bfloat16 (half the bytes read per token); returns float32."""

    row_block = ROW_BLOCK
    takes_weights = True

    def __init__(self, weight: torch.Tensor) -> None:
        self.weight = weight.detach().to(torch.bfloat16).contiguous()

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.to(torch.bfloat16), self.weight).float()


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
