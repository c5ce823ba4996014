"""Activation smoothing before int8 quantization of a lean Llama decoder.

Dynamic int8 quantization gives each activation tensor a single scale, so a few outlier
channels (small LMs have them) crush every other channel to a handful of levels. Smoothing
divides each input channel ``j`` of a linear layer by ``s_j = max|X_j|^a / max|W_j|^(1-a)``
and multiplies the layer's weight column ``j`` by ``s_j``: the float function is unchanged,
but the activations become flat enough for one scale. The division is folded into whatever
produces the input, so it costs nothing at run time:

- q/k/v and gate/up read RMS-normed hidden states: divide the norm weights;
- o reads the attention output, linear in v: divide v's output rows (shared within a
  key-value head group, since several query heads read the same v);
- down reads ``silu(gate) * up``: divide up's output rows;
- the LM head reads the final norm: divide the final norm weight.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

__all__ = ["calibrate", "smooth"]


def calibrate(forward: Callable[[], object], layers: dict[str, nn.Linear]) -> dict[str, torch.Tensor]:
    """Per-input-channel max |activation| of each named linear layer over one `forward()` run."""
    stats: dict[str, torch.Tensor] = {}
    hooks = []
    for name, layer in layers.items():
        def record(_: nn.Module, args: tuple[torch.Tensor, ...], name: str = name) -> None:
            peak = args[0].detach().abs().reshape(-1, args[0].shape[-1]).amax(dim=0)
            stats[name] = torch.maximum(stats[name], peak) if name in stats else peak
        hooks.append(layer.register_forward_pre_hook(record))
    try:
        forward()
    finally:
        for hook in hooks:
            hook.remove()
    return stats


def _factors(act_max: torch.Tensor, weight: torch.Tensor, alpha: float) -> torch.Tensor:
    w_max = weight.abs().amax(dim=0).clamp(min=1e-5)
    return (act_max.clamp(min=1e-5) ** alpha / w_max ** (1 - alpha)).clamp(min=1e-2, max=1e2)


def smooth(decoder: object, stats: dict[str, torch.Tensor], alpha: float = 0.5) -> None:
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


def _smooth_o(blk: nn.Module, act_max: torch.Tensor, alpha: float, hd: int, n_head: int, n_kv: int) -> None:
    s = _factors(act_max, blk.o.weight, alpha).view(n_head, hd)  # (nh, hd)
    group = n_head // n_kv
    s_kv = s.view(n_kv, group, hd).amax(dim=1)  # one factor per (kv head, dim): (nkv, hd)
    v_start = (n_head + n_kv) * hd
    blk.qkv.weight[v_start:].div_(s_kv.reshape(-1)[:, None])
    blk.o.weight.mul_(s_kv.repeat_interleave(group, dim=0).reshape(-1))
