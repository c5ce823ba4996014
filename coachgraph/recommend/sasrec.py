"""A small SASRec-style sequential recommender: self-attention over the calls made so far.

It sees item ids only (no text, no tree statistics): the call path, left-padded, goes through one
causal self-attention block, and the last position's state is matched against each candidate's
embedding. It is the strongest item-level baseline, trained with the same listwise loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["SASRec", "SASRecConfig"]


@dataclass(frozen=True, slots=True)
class SASRecConfig:
    """Size of a `SASRec` model."""

    n_items: int
    """Item vocabulary size; index 0 is padding and every unknown item."""
    block_size: int = 16
    """Path length read."""
    n_embd: int = 32
    """Embedding width."""
    n_head: int = 2
    """Attention heads."""
    dropout: float = 0.1
    """Dropout on embeddings and attention output."""
    seed: int = 0
    """Seed of the initial weights."""


class SASRec(nn.Module):
    """One causal self-attention block over item embeddings plus learned positions."""

    def __init__(self, config: SASRecConfig) -> None:
        super().__init__()
        self.config = config
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.wie = nn.Embedding(config.n_items, config.n_embd, padding_idx=0)
            self.wpe = nn.Embedding(config.block_size, config.n_embd)
            self.block = nn.TransformerEncoderLayer(config.n_embd, config.n_head, 2 * config.n_embd,
                                                    config.dropout, batch_first=True, norm_first=True)
            self.ln_f = nn.LayerNorm(config.n_embd)
            self.start = nn.Parameter(torch.zeros(config.n_embd))

    def forward(self, batch: dict[str, torch.Tensor], targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scores ``(B, C)`` of the candidates ``items`` given the ``path`` (B, T); same contract as `Scorer`."""
        path, items, mask = batch["path"], batch["items"], batch["mask"]
        T = path.shape[1]
        x = self.wie(path) + self.wpe(torch.arange(T))  # (B, T, d)
        x = torch.cat([x[:, 1:], self.start.expand(x.shape[0], 1, -1)], 1)  # a start token keeps empty paths finite
        causal = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)  # (T, T) no attention to the future
        h = self.ln_f(self.block(x, src_mask=causal))[:, -1]  # (B, d) state after the latest call
        s = torch.einsum("bcd,bd->bc", self.wie(items), h).masked_fill(~mask, float("-inf"))  # (B, C)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(s.masked_fill(~mask, -1e9), targets, ignore_index=-100)
        return s, loss

    def configure_optimizers(self, lr: float, weight_decay: float) -> torch.optim.Optimizer:
        """AdamW over every parameter (a model this small needs no decay groups)."""
        return torch.optim.AdamW(self.parameters(), lr=lr, weight_decay=weight_decay)
