"""Incremental decoders: the forward passes that token generation runs step by step.

`generate` in transformers spends most of a small model's time outside the matrix products
(per-layer module dispatch, mask building, cache bookkeeping). A decoder here keeps only the
arithmetic: Llama-family models get a lean forward (`LlamaDecoder`); any other architecture
falls back to the model's own forward (`HFDecoder`). Both expose the same three calls,
`prefill`, `step` and `keep`, so the sampler never knows which it drives.

Every decoder gives a row the logits it would get alone: what else shares the batch (other
prompts, their lengths, padding) never changes a row's tokens.
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable

import torch
from torch import nn

__all__ = ["DECODERS", "Decoder", "HFDecoder", "make_decoder"]

logger = logging.getLogger(__name__)


class Decoder(ABC):
    """Runs a causal LM over a batch of prompts, one step at a time.

    `prefill` starts a new batch (it drops any previous one); `step` feeds one new token per
    row. Both return the next-token logits of every row, shape (B, vocab), equal to what the
    row would get in a batch of its own.
    """

    @abstractmethod
    def prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, max_new: int) -> torch.Tensor:
        """Process left-padded prompts; `max_new` bounds the tokens `step` will add."""

    @abstractmethod
    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        """Append one token per row, shape (B,), and return the next logits."""

    @abstractmethod
    def keep(self, rows: torch.Tensor) -> None:
        """Keep only `rows` (indices into the current batch, in that order): finished rows stop
        costing compute. An index may repeat: each repeat continues from a copy of that row."""

    def load_weights(self, model: nn.Module) -> bool:
        """Take `model`'s updated weights in place; by default False: the caller builds a new
        decoder instead. Decoders that copy weights override it to skip that rebuild."""
        return False


class HFDecoder(Decoder):
    """Generic decoder: the model's own forward with a `DynamicCache`, one row at a time.

    Batched float kernels round a row differently with other rows beside it, and only the lean
    decoders control that; running rows apart is what keeps this fallback's answers
    independent of their batch, at the cost of batching's speed.
    """

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.caches: list[object] = []

    def prefill(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, max_new: int) -> torch.Tensor:
        from transformers import DynamicCache

        self.caches = [DynamicCache() for _ in range(input_ids.shape[0])]
        rows = [ids[mask.bool()][None] for ids, mask in zip(input_ids, attention_mask, strict=True)]
        return torch.cat([self._forward(ids, cache) for ids, cache in zip(rows, self.caches, strict=True)])

    def step(self, tokens: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._forward(t.view(1, 1), cache) for t, cache in zip(tokens, self.caches, strict=True)])

    def keep(self, rows: torch.Tensor) -> None:
        indices = rows.tolist()
        self.caches = [self.caches[i] if i not in indices[:k] else copy.deepcopy(self.caches[i])
                       for k, i in enumerate(indices)]

    def _forward(self, ids: torch.Tensor, cache: object) -> torch.Tensor:
        out = self.model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=1)
        return out.logits[:, -1].float()


def _llama(model: nn.Module, precision: str, calibration: tuple[torch.Tensor, torch.Tensor] | None) -> Decoder:
    from coachgraph.models.llama_decoder import LlamaDecoder

    return LlamaDecoder(model, precision=precision, calibration=calibration)


DECODERS: dict[str, Callable[..., Decoder]] = {"llama": _llama}
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
