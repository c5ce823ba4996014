"""`LlamaDecoder`: a lean, batch-invariant forward for Llama-family models (SmolLM2, Llama, Mistral
without sliding window).

Speed comes from doing only the arithmetic: q/k/v and gate/up fused into single projections, the
attention scale folded into the q weights, rotary embeddings as one complex multiply (the q/k
weight rows are reordered so each rotated pair is adjacent), a preallocated KV cache, and the
linear layers in int8, bf16 or float32 (`coachgraph.models.linears`).

Batch invariance, a row's logits being bitwise those it gets alone, comes from the layout:

- no row is ever padded inside the arithmetic: prompts are packed one after another for the
  linear layers, and each prompt attends over its own tokens only (one attention call per prompt
  at prefill, the same call it gets alone);
- each row's keys sit at the start of its cache row, followed by masked slots, and decode steps
  attend over a key count rounded up to `KEY_BLOCK`: softmax and the value product give exactly
  zero weight to masked slots, and a whole number of key blocks keeps every score's dot product
  on the same kernel path;
- linear layers round each row independently whatever the row count (`linears`), and rotary
  tables are computed once for every position.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from coachgraph.errors import InputError
from coachgraph.models.decoders import Decoder
from coachgraph.models.linears import PRECISIONS, FP32Linear, Linear

__all__ = ["KEY_BLOCK", "LlamaDecoder"]

KEY_BLOCK = 32
"""Decode steps attend over a multiple of this many key slots (a whole number of kernel blocks)."""


@dataclass(slots=True)
class _Block:
    """One transformer layer's weights."""

    qkv: Linear
    o: Linear
    gate_up: Linear
    down: Linear
    norm_in: torch.Tensor
    norm_post: torch.Tensor


def _round_up(n: int, multiple: int) -> int:
    """
    >>> _round_up(5, 4), _round_up(8, 4), _round_up(0, 4)
    (8, 8, 0)
    """
    return -(-n // multiple) * multiple


def _pairs_adjacent(weight: torch.Tensor, heads: int, head_dim: int) -> torch.Tensor:
    """Reorder each head's output rows from ``[x_0..x_{d/2-1}, y_0..]`` to ``[x_0, y_0, x_1, ..]``,
    so that rotating pair ``(x_i, y_i)`` is one complex multiply. q and k get the same order, so
    their dot products are unchanged."""
    cols = weight.shape[1]
    return weight.view(heads, 2, head_dim // 2, cols).transpose(1, 2).reshape(heads * head_dim, cols)


def _block(layer: nn.Module, n_head: int, n_kv: int, head_dim: int) -> _Block:
    attn, mlp = layer.self_attn, layer.mlp
    projections = (attn.q_proj, attn.k_proj, attn.v_proj, attn.o_proj, mlp.gate_proj, mlp.up_proj, mlp.down_proj)
    if any(p.bias is not None for p in projections):
        raise NotImplementedError("linear biases")
    q = _pairs_adjacent(attn.q_proj.weight.detach(), n_head, head_dim) * head_dim**-0.5
    k = _pairs_adjacent(attn.k_proj.weight.detach(), n_kv, head_dim)
    return _Block(
        qkv=FP32Linear(torch.cat([q, k, attn.v_proj.weight.detach()])),
        o=FP32Linear(attn.o_proj.weight),
        gate_up=FP32Linear(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight])),
        down=FP32Linear(mlp.down_proj.weight),
        norm_in=layer.input_layernorm.weight.detach().float().clone(),
        norm_post=layer.post_attention_layernorm.weight.detach().float().clone(),
    )


def _copy_block(blk: _Block, layer: nn.Module, n_head: int, n_kv: int, head_dim: int) -> None:
    """Write `layer`'s weights into the float storage of `blk`, laid out as `_block` lays them."""
    attn, mlp = layer.self_attn, layer.mlp
    nq, nk = n_head * head_dim, n_kv * head_dim
    inter = mlp.gate_proj.weight.shape[0]
    blk.qkv.weight[:nq].copy_(_pairs_adjacent(attn.q_proj.weight.detach(), n_head, head_dim) * head_dim**-0.5)
    blk.qkv.weight[nq:nq + nk].copy_(_pairs_adjacent(attn.k_proj.weight.detach(), n_kv, head_dim))
    blk.qkv.weight[nq + nk:].copy_(attn.v_proj.weight)
    blk.gate_up.weight[:inter].copy_(mlp.gate_proj.weight)
    blk.gate_up.weight[inter:].copy_(mlp.up_proj.weight)
    blk.o.weight.copy_(attn.o_proj.weight)
    blk.down.weight.copy_(mlp.down_proj.weight)
    blk.norm_in.copy_(layer.input_layernorm.weight)
    blk.norm_post.copy_(layer.post_attention_layernorm.weight)


def _rope_table(cfg: object, head_dim: int) -> torch.Tensor:
    """``exp(i * position * inv_freq)`` for every position the model supports, (P, head_dim/2)."""
    params = getattr(cfg, "rope_parameters", None) or {}
    if params.get("rope_type", "default") != "default":
        raise NotImplementedError(f"rope_type {params['rope_type']!r}")
    theta = params.get("rope_theta", getattr(cfg, "rope_theta", 10000.0))
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    positions = torch.arange(int(getattr(cfg, "max_position_embeddings", 8192)), dtype=torch.float32)
    return torch.polar(torch.ones(()), torch.outer(positions, inv_freq))


class LlamaDecoder(Decoder):
    """Lean, batch-invariant Llama forward.

    `precision` sets the linear layers only: ``"fp32"`` (transformers' arithmetic), ``"bf16"``
    (half the weight bytes; fast on CPUs with bf16 units) or ``"int8"`` (per-channel weights,
    per-row activations; after smoothing when calibration text is given). Norms, rotary tables
    and the KV cache stay float32.
    """

    def __init__(
        self, model: nn.Module, precision: str = "int8", calibration: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> None:
        cfg = model.config
        if getattr(cfg, "sliding_window", None):
            raise NotImplementedError("sliding-window attention")
        self.n_head, self.n_kv = cfg.num_attention_heads, cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_head
        self.eps = cfg.rms_norm_eps
        self.embed = model.model.embed_tokens.weight.detach().float().clone()
        self.norm_final = model.model.norm.weight.detach().float().clone()
        self.blocks = [_block(layer, self.n_head, self.n_kv, self.head_dim) for layer in model.model.layers]
        self.head: Linear = FP32Linear(model.lm_head.weight)
        self.rope = _rope_table(cfg, self.head_dim)
        if precision == "int8" and calibration is not None:
            self._smooth(*calibration)
        self._store(PRECISIONS[precision])

    # ------------------------------------------------------------ weights
    def linears(self) -> dict[str, Linear]:
        """Every linear layer by name (``"{layer}.qkv"``, ..., ``"head"``)."""
        named: dict[str, Linear] = {"head": self.head}
        for i, blk in enumerate(self.blocks):
            named.update({f"{i}.qkv": blk.qkv, f"{i}.o": blk.o, f"{i}.gate_up": blk.gate_up, f"{i}.down": blk.down})
        return named

    def load_weights(self, model: nn.Module) -> bool:
        """Copy `model`'s current weights into this decoder's storage in place (float32, or
        bfloat16 for the bf16 linear layers): after a training step, no new buffers and the same
        numbers as a decoder built afresh. False (nothing changed) for int8 layers, whose scales
        and smoothing come from the weights and calibration text."""
        if not all(layer.takes_weights for layer in self.linears().values()):
            return False
        with torch.no_grad():
            self.embed.copy_(model.model.embed_tokens.weight)
            self.norm_final.copy_(model.model.norm.weight)
            self.head.weight.copy_(model.lm_head.weight)
            for blk, layer in zip(self.blocks, model.model.layers, strict=True):
                _copy_block(blk, layer, self.n_head, self.n_kv, self.head_dim)
        return True

    def replace_linears(self, named: dict[str, Linear]) -> None:
        """Swap linear layers by the names `linears` gives."""
        self.head = named.get("head", self.head)
        for i, blk in enumerate(self.blocks):
            for part in ("qkv", "o", "gate_up", "down"):
                setattr(blk, part, named.get(f"{i}.{part}", getattr(blk, part)))

    def _store(self, build: object) -> None:
        self.replace_linears({name: build(lin.weight) for name, lin in self.linears().items()})

    def _smooth(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        """Flatten activation outliers before int8 quantization (see `smoothing`)."""
        from coachgraph.models.smoothing import calibrate, smooth

        with torch.inference_mode():
            stats = calibrate(self, lambda: self.prefill(input_ids, attention_mask, 0))
        smooth(self, stats)

    # ------------------------------------------------------------ decoding
    def prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, max_new: int) -> torch.Tensor:
        prompts = [ids[mask.bool()] for ids, mask in zip(input_ids, attention_mask, strict=True)]
        lengths = [len(p) for p in prompts]
        size = _round_up(max(lengths) + max_new, KEY_BLOCK)
        if size > self.rope.shape[0]:
            raise InputError(f"a prompt of {max(lengths)} tokens plus {max_new} new tokens exceeds the model's "
                             f"context of {self.rope.shape[0]} tokens", source="messages")
        batch = len(prompts)
        shape = (len(self.blocks), batch, self.n_kv, size, self.head_dim)
        self.k_cache, self.v_cache = torch.zeros(shape), torch.zeros(shape)
        starts = [sum(lengths[:b]) for b in range(batch)]
        tokens = torch.cat(prompts)
        rope = self.rope[torch.cat([torch.arange(n) for n in lengths])]
        h = F.embedding(tokens, self.embed)  # (N, C): every prompt's tokens, one after another
        for i, blk in enumerate(self.blocks):
            q, k, v = self._qkv(blk, h, rope)
            y = torch.zeros(h.shape[0], self.n_head * self.head_dim)
            for b, (start, n) in enumerate(zip(starts, lengths, strict=True)):
                y[start:start + n] = self._prompt_attention(i, b, q[start:start + n], k[start:start + n],
                                                            v[start:start + n])
            h = self._mlp(blk, h + blk.o(y))
        last = torch.tensor([s + n - 1 for s, n in zip(starts, lengths, strict=True)])
        self.lengths = torch.tensor(lengths)
        self.rows = batch
        return self._logits(h[last])

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        batch = self.rows
        pos = self.lengths
        span = _round_up(int(pos.max()) + 1, KEY_BLOCK)
        hidden = torch.arange(span)[None, :] > pos[:, None]  # (B, S): slots after the new token
        bias = torch.zeros(batch, 1, 1, span).masked_fill_(hidden[:, None, None], float("-inf"))
        rows = torch.arange(batch)
        h = F.embedding(tokens, self.embed)  # (B, C)
        for i, blk in enumerate(self.blocks):
            q, k, v = self._qkv(blk, h, self.rope[pos])
            self.k_cache[i, rows, :, pos] = k
            self.v_cache[i, rows, :, pos] = v
            scores = torch.matmul(q.reshape(batch, self.n_kv, -1, self.head_dim),
                                  self.k_cache[i, :, :, :span].transpose(-1, -2)) + bias  # (B, nkv, g, S)
            y = torch.matmul(torch.softmax(scores, dim=-1), self.v_cache[i, :, :, :span])  # (B, nkv, g, hd)
            h = self._mlp(blk, h + blk.o(y.reshape(batch, -1)))
        self.lengths = pos + 1
        return self._logits(h)

    def keep(self, rows: torch.Tensor) -> None:
        self.k_cache, self.v_cache = self.k_cache[:, rows], self.v_cache[:, rows]
        self.lengths, self.rows = self.lengths[rows], len(rows)

    # ------------------------------------------------------------ pieces
    def _qkv(self, blk: _Block, h: torch.Tensor, rope: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Rotated q (N, nh, hd) and k (N, nkv, hd), and v (N, nkv, hd), for hidden states `h`."""
        rows, hd = h.shape[0], self.head_dim
        qkv = blk.qkv(F.rms_norm(h, blk.norm_in.shape, blk.norm_in, self.eps))
        split = (self.n_head + self.n_kv) * hd
        pairs = torch.view_as_complex(qkv[:, :split].reshape(rows, self.n_head + self.n_kv, hd // 2, 2))
        qk = torch.view_as_real(pairs * rope[:, None]).reshape(rows, self.n_head + self.n_kv, hd)
        return qk[:, :self.n_head], qk[:, self.n_head:], qkv[:, split:].reshape(rows, self.n_kv, hd)

    def _prompt_attention(self, layer: int, row: int, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        """Causal attention of one prompt over its own tokens; stores its keys and values."""
        n = q.shape[0]
        q, k, v = (t.transpose(0, 1).contiguous() for t in (q, k, v))  # (heads, n, hd)
        self.k_cache[layer, row, :, :n] = k
        self.v_cache[layer, row, :, :n] = v
        y = F.scaled_dot_product_attention(q[None], k[None], v[None], is_causal=True, scale=1.0, enable_gqa=True)
        return y[0].transpose(0, 1).reshape(n, -1)

    def _mlp(self, blk: _Block, h: torch.Tensor) -> torch.Tensor:
        gate, up = blk.gate_up(F.rms_norm(h, blk.norm_post.shape, blk.norm_post, self.eps)).chunk(2, dim=-1)
        return h + blk.down(F.silu(gate) * up)

    def _logits(self, h: torch.Tensor) -> torch.Tensor:
        return self.head(F.rms_norm(h, self.norm_final.shape, self.norm_final, self.eps))
