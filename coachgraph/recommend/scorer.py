"""The learned candidate scorer, all of it in this single file.

A decision is a list of candidates, each with a feature row; the scorer gives each a score and is
trained with a listwise softmax cross-entropy over the decision's candidates (the chosen one is
the target). Architectures, by name in `ARCHS`:

- ``linear``: a weighted sum of the standardised features (the reference linear scorer);
- ``mlp`` (the default): linear plus a small MLP over the features, which learns feature crosses;
- ``seq``: ``mlp`` plus learned item embeddings and an encoder of the calls made so far in the
  trace (a position-weighted sum of their embeddings beside the latest call's), whose state is
  matched against each candidate's embedding. Item ids add little where the interaction
  features already carry the history, and overfit where items are rare, so it is an option.

A candidate's score depends only on its own features, ids and the path, never on the other
candidates, so any subset of a decision can be scored or explained alone. Scores are explained
per feature group by ablation: a group's contribution is the score minus the score with that
group's features set to their training mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["ARCHS", "Scorer", "ScorerConfig"]

ARCHS: dict[str, dict[str, bool]] = {
    "linear": {"mlp": False, "ids": False, "seq": False},
    "mlp": {"mlp": True, "ids": False, "seq": False},
    "seq": {"mlp": True, "ids": True, "seq": True},
}
"""Which parts each architecture switches on."""

CLIP = 8.0
"""Largest standardised feature magnitude the scorer reads."""
HISTORY = "history"
"""Name under which the item-embedding and path-encoder part of a score is explained."""


@dataclass(frozen=True)
class ScorerConfig:
    """Shape and regularisation of a `Scorer`."""

    n_features: int
    """Feature columns per candidate."""
    arch: str = "mlp"
    """A key of `ARCHS`."""
    n_items: int = 1
    """Item vocabulary size; index 0 is padding and every unknown item."""
    n_embd: int = 32
    """Width of item embeddings and of the path encoder's state."""
    block_size: int = 16
    """Length of the call path the encoder reads (the context's last calls, left-padded)."""
    n_hidden: int = 64
    """Width of the feature MLP's hidden layer."""
    dropout: float = 0.0
    """Dropout inside the MLP (off by default: it triples the cost of a training step on CPU and
    held-out traces showed no gain; early stopping and weight decay regularise instead)."""
    id_dropout: float = 0.15
    """Share of candidate ids replaced by the unknown id while training, so cold items still rank."""
    groups: tuple[tuple[str, int, int], ...] = ()
    """(name, first column, end column) of each feature group, for explanations."""
    seed: int = 0
    """Seed of the initial weights."""
    mean: tuple[float, ...] = field(default=())
    std: tuple[float, ...] = field(default=())
    """Training mean and standard deviation of each feature column (empty: 0 and 1)."""


class Scorer(nn.Module):
    """Scores the candidates of a batch of decisions; see the module docstring."""

    def __init__(self, config: ScorerConfig) -> None:
        super().__init__()
        self.config = config
        parts = ARCHS[config.arch]
        self.use_mlp, self.use_ids, self.use_seq = parts["mlp"], parts["ids"], parts["seq"]
        n, d = config.n_features, config.n_embd
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.linear = nn.Linear(n, 1)
            self.mlp = nn.Sequential(nn.Linear(n, config.n_hidden), nn.GELU(), nn.Dropout(config.dropout),
                                     nn.Linear(config.n_hidden, 1)) if self.use_mlp else None
            self.wie = nn.Embedding(config.n_items, d, padding_idx=0) if self.use_ids else None
            self.item_bias = nn.Embedding(config.n_items, 1, padding_idx=0) if self.use_ids else None
            self.wpe = nn.Parameter(torch.zeros(config.block_size)) if self.use_seq else None
            self.ctx = nn.Linear(2 * d, d) if self.use_seq else None
            nn.init.zeros_(self.linear.weight)  # start neutral: every candidate scores alike
            nn.init.zeros_(self.linear.bias)
            if self.item_bias is not None:
                nn.init.zeros_(self.item_bias.weight)
        mean = torch.tensor(config.mean or [0.0] * n, dtype=torch.float32)
        std = torch.tensor(config.std or [1.0] * n, dtype=torch.float32)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std.clamp_min(1e-4))
        keep = torch.ones(1 + len(config.groups), n)  # (V, F): all features, then one group ablated per row
        for i, (_, lo, hi) in enumerate(config.groups):
            keep[i + 1, lo:hi] = 0.0  # standardised zero: the group at its training mean
        self.register_buffer("keep", keep, persistent=False)

    def standardize(self, feats: torch.Tensor) -> torch.Tensor:
        """Features in training standard deviations, clipped so an unseen extreme cannot dominate."""
        return ((feats - self.mean) / self.std).clamp(-CLIP, CLIP)  # (B, C, F)

    def _history(self, items: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
        """The id part of the score: item bias plus path state matched to item embeddings."""
        if self.training and self.config.id_dropout > 0:
            keep = torch.rand(items.shape, device=items.device) >= self.config.id_dropout
            items = items * keep  # dropped ids become the unknown id 0
        s = self.item_bias(items).squeeze(-1)  # (B, C)
        if self.use_seq:
            e = self.wie(path)  # (B, T, d); left-padded, so the last step is the latest call
            w = self.wpe.masked_fill(path == 0, float("-inf")).softmax(-1).nan_to_num(0.0)  # (B, T)
            summary = torch.einsum("bt,btd->bd", w, e)  # (B, d) learned recency weighting
            q = torch.tanh(self.ctx(torch.cat([summary, e[:, -1]], -1)))  # (B, d)
            s = s + torch.einsum("bcd,bd->bc", self.wie(items), q)  # (B, C)
        return s

    def _feature_score(self, x: torch.Tensor) -> torch.Tensor:
        """The feature part of the score, ``(..., C)`` of standardised features ``(..., C, F)``."""
        s = self.linear(x).squeeze(-1)
        if self.mlp is not None:
            s = s + self.mlp(x).squeeze(-1)
        return s

    def _score(self, x: torch.Tensor, items: torch.Tensor, path: torch.Tensor) -> torch.Tensor:
        s = self._feature_score(x)  # (B, C)
        if self.use_ids:
            s = s + self._history(items, path)
        return s

    def forward(self, batch: dict[str, torch.Tensor], targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Scores ``(B, C)`` (-inf at padding) and, given target indices ``(B,)``, the mean loss.

        `batch` holds ``feats`` (B, C, F), ``mask`` (B, C) bool, ``items`` (B, C) and ``path``
        (B, T) long; a target of -100 marks a decision whose chosen item is not a candidate.
        """
        x = self.standardize(batch["feats"])
        s = self._score(x, batch["items"], batch["path"])
        s = s.masked_fill(~batch["mask"], float("-inf"))
        loss = None
        if targets is not None:
            safe = s.masked_fill(~batch["mask"], -1e9)  # finite, so ignored rows give no NaN
            loss = F.cross_entropy(safe, targets, ignore_index=-100)
        return s, loss

    @torch.no_grad()
    def explain(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Scores ``(B, C)`` and the contribution ``(B, C)`` of each feature group (and `HISTORY`).

        The feature ablations run as one batch, one copy per group with its columns at the training
        mean; the id part reads no feature, so it runs once with the real ids and once with every
        id unknown (whose embeddings are zero).
        """
        x = self.standardize(batch["feats"])  # (B, C, F)
        f = self._feature_score(x.unsqueeze(0) * self.keep[:, None, None, :])  # (V, B, C)
        s = f[0]
        out = {name: s - f[i + 1] for i, (name, _, _) in enumerate(self.config.groups)}
        if self.use_ids:
            items, path = batch["items"], batch["path"]
            h = self._history(torch.cat([items, torch.zeros_like(items)]), torch.cat([path, torch.zeros_like(path)]))
            h = h.view(2, *items.shape)  # (2, B, C): real ids, unknown ids
            out[HISTORY] = h[0] - h[1]
            s = s + h[0]
        return s.masked_fill(~batch["mask"], float("-inf")), out

    def configure_optimizers(self, lr: float, weight_decay: float) -> torch.optim.Optimizer:
        """AdamW; matrices and embeddings decay, biases do not (they set levels, not shapes)."""
        params = [p for p in self.parameters() if p.requires_grad]
        decay = [p for p in params if p.dim() >= 2]
        rest = [p for p in params if p.dim() < 2]
        groups = [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=lr)
