"""Activation smoothing before int8 quantization of a lean Llama decoder.

Int8 quantization gives each activation row a single scale, so a few outlier channels (small
LMs have them) crush every other channel of the row to a handful of levels. Smoothing
divides each input channel ``j`` of a linear layer by ``s_j = max|X_j|^a / max|W_j|^(1-a)``
and multiplies the layer's weight column ``j`` by ``s_j``: the float function is unchanged,
but the activations become flat enough for one scale per row. The division is folded into whatever
produces the input, so it costs nothing at run time:

- q/k/v and gate/up read RMS-normed hidden states: divide the norm weights;
- o reads the attention output, linear in v: divide v's output rows (shared within a
  key-value head group, since several query heads read the same v);
- down reads ``silu(gate) * up``: divide up's output rows;
- the LM head reads the final norm: divide the final norm weight.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from coachgraph.models.linears import Linear

__all__ = ["PeakRecorder", "calibrate", "smooth"]


class PeakRecorder(Linear):
    """Wraps a linear layer and keeps the largest |input| seen on each input channel."""

    def __init__(self, inner: Linear) -> None:
        self.inner = inner
        self.peak: torch.Tensor | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        peak = x.detach().abs().reshape(-1, x.shape[-1]).amax(dim=0)
        self.peak = peak if self.peak is None else torch.maximum(self.peak, peak)
        return self.inner(x)


def calibrate(decoder: Any, forward: Callable[[], object]) -> dict[str, torch.Tensor]:
    """Per-input-channel max |activation| of each of `decoder`'s linear layers over `forward()`."""
    original = decoder.linears()
    recorders = {name: PeakRecorder(layer) for name, layer in original.items()}
    decoder.replace_linears(recorders)
    try:
        forward()
    finally:
        decoder.replace_linears(original)
    return {name: r.peak for name, r in recorders.items() if r.peak is not None}


def _factors(act_max: torch.Tensor, weight: torch.Tensor, alpha: float) -> torch.Tensor:
    w_max = weight.abs().amax(dim=0).clamp(min=1e-5)
    return (act_max.clamp(min=1e-5) ** alpha / w_max ** (1 - alpha)).clamp(min=1e-2, max=1e2)


def smooth(decoder: Any, stats: dict[str, torch.Tensor], alpha: float = 0.5) -> None:
    """Apply smoothing in place to an fp32 `LlamaDecoder` (before it is quantized)."""
    hd, n_head, n_kv = decoder.head_dim, decoder.n_head, decoder.n_kv
    for i, blk in enumerate(decoder.blocks):
        with torch.no_grad():
            s = _factors(stats[f"{i}.qkv"], blk.qkv.weight, alpha)
            blk.norm_in.div_(s)
            blk.qkv.weight.mul_(s)
            s = _factors(stats[f"{i}.gate_up"], blk.gate_up.weight, alpha)
            blk.norm_post.div_(s)
            blk.gate_up.weight.mul_(s)
            _smooth_o(blk, stats[f"{i}.o"], alpha, hd, n_head, n_kv)
            s = _factors(stats[f"{i}.down"], blk.down.weight, alpha)
            inter = blk.down.weight.shape[1]
            blk.gate_up.weight[inter:].div_(s[:, None])  # the `up` half produces down's input
            blk.down.weight.mul_(s)
    with torch.no_grad():
        s = _factors(stats["head"], decoder.head.weight, alpha)
        decoder.norm_final.div_(s)
        decoder.head.weight.mul_(s)


def _smooth_o(blk: Any, act_max: torch.Tensor, alpha: float, hd: int, n_head: int, n_kv: int) -> None:
    s = _factors(act_max, blk.o.weight, alpha).view(n_head, hd)  # (nh, hd)
    group = n_head // n_kv
    s_kv = s.view(n_kv, group, hd).amax(dim=1)  # one factor per (kv head, dim): (nkv, hd)
    v_start = (n_head + n_kv) * hd
    blk.qkv.weight[v_start:].div_(s_kv.reshape(-1)[:, None])
    blk.o.weight.mul_(s_kv.repeat_interleave(group, dim=0).reshape(-1))
