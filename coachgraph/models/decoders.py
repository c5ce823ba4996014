"""Incremental decoders: the forward passes that token generation runs step by step.

`generate` in transformers spends most of a small model's time outside the matrix products
(per-layer module dispatch, mask building, cache bookkeeping). A decoder here keeps only the
arithmetic: Llama-family models get a lean forward with fused projections and a preallocated
KV cache; any other architecture falls back to the model's own forward with its cache object.
Both expose the same two calls, `prefill` and `step`, so the sampler never knows which it drives.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["DECODERS", "PRECISIONS", "Decoder", "HFDecoder", "LlamaDecoder", "make_decoder"]

logger = logging.getLogger(__name__)


class Decoder(ABC):
    """Runs a causal LM over a left-padded batch, one step at a time.

    `prefill` starts a new batch (it resets any cache); `step` feeds one new token per row.
    Both return the next-token logits of every row, shape (B, vocab).
    """

    @abstractmethod
    def prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, max_new: int) -> torch.Tensor:
        """Process the prompts; `max_new` bounds the cache to allocate."""

    @abstractmethod
    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Append one token per row, shape (B,), and return the next logits."""

    @abstractmethod
    def keep(self, rows: torch.Tensor) -> None:
        """Keep only `rows` (indices into the current batch, in that order): finished rows stop
        costing compute."""


class HFDecoder(Decoder):
    """Generic decoder: the model's own forward with a `DynamicCache` (any architecture)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model

    def prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, max_new: int) -> torch.Tensor:
        from transformers import DynamicCache

        self.cache = DynamicCache()
        self.mask = attention_mask
        self.pos = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, position_ids=self.pos,
                         cache=self.cache, use_cache=True, logits_to_keep=1)
        self.pos = self.pos[:, -1:]
        return out.logits[:, -1].float()

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        self.mask = torch.cat([self.mask, self.mask.new_ones(self.mask.shape[0], 1)], dim=1)
        self.pos = self.pos + 1
        out = self.model(input_ids=tokens[:, None], attention_mask=self.mask, position_ids=self.pos,
                         cache=self.cache, use_cache=True)
        return out.logits[:, -1].float()

    def keep(self, rows: torch.Tensor) -> None:
        self.cache.reorder_cache(rows)
        self.mask, self.pos = self.mask[rows], self.pos[rows]


class _FusedLayer(nn.Module):
    """One Llama block with q/k/v and gate/up fused into single projections (fewer kernel calls)."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        attn, mlp = layer.self_attn, layer.mlp
        self.qkv = _linear_from(torch.cat([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight]))
        self.o = _linear_from(attn.o_proj.weight)
        self.gate_up = _linear_from(torch.cat([mlp.gate_proj.weight, mlp.up_proj.weight]))
        self.down = _linear_from(mlp.down_proj.weight)
        self.norm_in = layer.input_layernorm.weight.detach().clone()
        self.norm_post = layer.post_attention_layernorm.weight.detach().clone()


def _linear_from(weight: torch.Tensor) -> nn.Linear:
    out_features, in_features = weight.shape
    lin = nn.Linear(in_features, out_features, bias=False)
    lin.weight = nn.Parameter(weight.detach().clone(), requires_grad=False)
    return lin


class LlamaDecoder(Decoder):
    """Lean Llama forward (SmolLM2, Llama, Mistral-style without sliding window).

    `precision` sets the linear layers only: ``"fp32"`` reproduces transformers exactly,
    ``"bf16"`` halves the weight bytes read per token (a gain only on CPUs with fast bf16
    units), ``"int8"`` (dynamic quantization, after smoothing when calibration text is given)
    quarters them at a measurable cost in agreement. Norms, rotary tables and the KV cache
    stay float32.
    """

    def __init__(
        self, model: nn.Module, precision: str = "int8", calibration: tuple[torch.Tensor, torch.Tensor] | None = None
    ) -> None:
        cfg = model.config
        self.n_head = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads
        self.head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // self.n_head
        self.eps = cfg.rms_norm_eps
        self.embed = model.model.embed_tokens.weight.detach().clone()
        self.norm_final = model.model.norm.weight.detach().clone()
        parts = nn.ModuleDict({
            "blocks": nn.ModuleList(_FusedLayer(layer) for layer in model.model.layers),
            "head": _linear_from(model.lm_head.weight),
        })
        self.blocks, self.head = parts["blocks"], parts["head"]
        self.inv_freq = _inv_freq(cfg, self.head_dim)
        if precision == "int8" and calibration is not None:
            self._smooth(*calibration)
        parts = PRECISIONS[precision](parts)
        self.blocks, self.head = parts["blocks"], parts["head"]

    def _smooth(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        """Flatten activation outliers before int8 quantization (see `smoothing`)."""
        from coachgraph.models.smoothing import calibrate, smooth

        layers = {"head": self.head}
        for i, blk in enumerate(self.blocks):
            layers.update({f"{i}.qkv": blk.qkv, f"{i}.o": blk.o, f"{i}.gate_up": blk.gate_up, f"{i}.down": blk.down})
        with torch.inference_mode():
            stats = calibrate(lambda: self._forward_all(input_ids, attention_mask), layers)
        smooth(self, stats)

    def _forward_all(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> None:
        """Run every position of a batch through the network (calibration only)."""
        self.prefill(input_ids, attention_mask, 0)

    def prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, max_new: int) -> torch.Tensor:
        B, T = input_ids.shape
        size = T + max_new
        shape = (len(self.blocks), B, self.n_kv, size, self.head_dim)
        self.k_cache = torch.zeros(shape)
        self.v_cache = torch.zeros(shape)
        self.valid = torch.zeros(B, size, dtype=torch.bool)
        self.valid[:, :T] = attention_mask.bool()
        self.padded = not bool(attention_mask.all())
        self.pos = (attention_mask.cumsum(-1) - 1).clamp(min=0)  # (B, T)
        self.length = 0
        logits = self._forward(input_ids, self.pos)
        self.pos = self.pos[:, -1:]
        return logits

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        self.valid[:, self.length] = True
        self.pos = self.pos + 1
        return self._forward(tokens[:, None], self.pos)

    def keep(self, rows: torch.Tensor) -> None:
        self.k_cache = self.k_cache[:, rows]
        self.v_cache = self.v_cache[:, rows]
        self.valid, self.pos = self.valid[rows], self.pos[rows]
        self.padded = not bool(self.valid[:, :self.length].all())

    def _mask(self, T: int) -> torch.Tensor | None:
        """Boolean mask (B, 1, T, S): causal within the new tokens, padding keys hidden."""
        S = self.length + T
        if not self.padded and T == 1:
            return None
        keys = self.valid[:, None, None, :S]
        causal = torch.ones(T, S, dtype=torch.bool).tril(diagonal=self.length)
        return keys & causal

    def _forward(self, ids: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        B, T = ids.shape
        cos, sin = _rotary(self.inv_freq, pos)  # (B, 1, T, hd)
        mask = self._mask(T)
        causal = mask is None and T > 1
        h = F.embedding(ids, self.embed)  # (B, T, C)
        start, end = self.length, self.length + T
        for i, blk in enumerate(self.blocks):
            x = F.rms_norm(h, blk.norm_in.shape, blk.norm_in, self.eps)
            q, k, v = blk.qkv(x).split(
                [self.n_head * self.head_dim, self.n_kv * self.head_dim, self.n_kv * self.head_dim], dim=-1
            )
            q = q.view(B, T, self.n_head, self.head_dim).transpose(1, 2)  # (B, nh, T, hd)
            k = k.view(B, T, self.n_kv, self.head_dim).transpose(1, 2)  # (B, nkv, T, hd)
            v = v.view(B, T, self.n_kv, self.head_dim).transpose(1, 2)
            q, k = _apply_rotary(q, cos, sin), _apply_rotary(k, cos, sin)
            self.k_cache[i, :, :, start:end] = k
            self.v_cache[i, :, :, start:end] = v
            y = F.scaled_dot_product_attention(
                q, self.k_cache[i, :, :, :end], self.v_cache[i, :, :, :end],
                attn_mask=mask, is_causal=causal, enable_gqa=True,
            )  # (B, nh, T, hd)
            h = h + blk.o(y.transpose(1, 2).reshape(B, T, -1))
            x = F.rms_norm(h, blk.norm_post.shape, blk.norm_post, self.eps)
            gate, up = blk.gate_up(x).chunk(2, dim=-1)
            h = h + blk.down(F.silu(gate) * up)
        self.length = end
        h = F.rms_norm(h[:, -1], self.norm_final.shape, self.norm_final, self.eps)
        return self.head(h)  # (B, vocab)


class _BF16Linear(nn.Module):
    """A linear layer that stores its weight in bfloat16 and returns float32."""

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach().to(torch.bfloat16), requires_grad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.to(torch.bfloat16), self.weight).float()


def _to_bf16(module: nn.Module) -> nn.Module:
    """Swap every `nn.Linear` below `module` for a `_BF16Linear`."""
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, _BF16Linear(child))
        else:
            _to_bf16(child)
    return module


def _quantize(module: nn.Module) -> nn.Module:
    """Swap every `nn.Linear` below `module` (not `module` itself) for an int8 dynamic one."""
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    # Per-output-channel weight scales: per-tensor scales change greedy outputs far more often.
    return quantize_dynamic(module, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)


def _inv_freq(cfg: object, head_dim: int) -> torch.Tensor:
    params = getattr(cfg, "rope_parameters", None) or {}
    rope_type = params.get("rope_type", "default")
    if rope_type != "default":
        raise NotImplementedError(f"rope_type {rope_type!r}")
    theta = params.get("rope_theta", getattr(cfg, "rope_theta", 10000.0))
    return 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))


def _rotary(inv_freq: torch.Tensor, pos: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    freqs = pos[..., None].float() * inv_freq  # (B, T, hd/2)
    emb = torch.cat([freqs, freqs], dim=-1)[:, None]  # (B, 1, T, hd)
    return emb.cos(), emb.sin()


def _apply_rotary(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


PRECISIONS: dict[str, Callable[[nn.Module], nn.Module]] = {
    "fp32": lambda module: module,
    "bf16": _to_bf16,
    "int8": _quantize,
}
"""How the linear layers of a lean decoder are stored, by name."""

DECODERS: dict[str, Callable[..., Decoder]] = {"llama": LlamaDecoder}
"""Lean decoders by `config.model_type`; other architectures use `HFDecoder`."""


def make_decoder(
    model: nn.Module, precision: str = "int8", calibration: tuple[torch.Tensor, torch.Tensor] | None = None
) -> Decoder:
    """The fastest decoder available for `model`'s architecture.

    `calibration` (token ids and attention mask of representative text) lets the int8 path
    smooth activation outliers before quantizing.
    """
    model_type = getattr(model.config, "model_type", "")
    factory = DECODERS.get(model_type)
    if factory is None:
        logger.info("no lean decoder for model_type %r; using the model's own forward", model_type)
        return HFDecoder(model)
    try:
        return factory(model, precision=precision, calibration=calibration)
    except NotImplementedError as exc:
        logger.info("lean decoder unsupported for this %s model (%s); using its forward", model_type, exc)
        return HFDecoder(model)
