"""The learned parts of the team recommender and how each is trained.

- members: a `scorer.Scorer` over a candidate's agent-level and team features, trained with a
  binary cross-entropy per candidate (is it in the team?), so that its sigmoid is a membership
  probability a team's size can be read from;
- edges: a logistic model of caller -> callee given both are in the team;
- teams: a linear scorer of whole candidate teams with their call structures, trained to put
  its softmax mass on the candidates closest to the true team (the expected F1 of a draw from
  the softmax is maximised), so that size, cohesion and structure are weighed against each other.

Every model standardises its inputs with training moments kept in buffers, and every random
draw comes from an explicit seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from coachgraph.recommend.scorer import Scorer
from coachgraph.recommend.train import trace_bucket

__all__ = ["MemberTrainConfig", "StandardLinear", "TeamModelConfig", "fit_edges", "fit_members", "fit_sets"]


@dataclass(frozen=True, slots=True)
class MemberTrainConfig:
    """How the member model is trained."""

    epochs: int = 60
    batch_size: int = 128
    lr: float = 3e-3
    weight_decay: float = 1.0
    seed: int = 0
    patience: int = 4
    """Held-out checks without a better loss before stopping."""
    val_share: float = 0.15
    """Share of traces held out (by a hash of their id) to pick the best epoch."""


@dataclass(frozen=True)
class TeamModelConfig:
    """How the team recommender is built and decodes."""

    neighbours: int = 10
    """Most similar training tasks whose teams are looked up."""
    pool: int = 12
    """Candidates (likeliest members first) that candidate teams are drawn from; fitting raises it
    to two more than the largest training team."""
    arch: str = "mlp"
    """Member scorer architecture (a key of `scorer.ARCHS`; chosen on folds of training traces)."""
    arch_choices: tuple[str, ...] = ("mlp", "seq", "linear")
    """Architectures compared on folds of training traces."""
    unread: tuple[str, ...] = ("wording",)
    """Agent-level feature groups the member scorer does not read (chosen on folds): its own
    member features weigh each task word against each member too, and on some corpora reading
    both overfits (NESTFUL), on others the agent-level ones add what the team's lack (Seal-Tools)."""
    unread_choices: tuple[tuple[str, ...], ...] = (("wording",), ())
    """The `unread` settings compared on folds of training traces, with the chosen architecture."""
    edge_threshold: float = 0.5
    """Probability above which a second caller of a member is kept (chosen on folds)."""
    decode: str = "mbr"
    """``mbr``: the candidate team of highest expected F1 under the scorer's softmax; ``argmax``:
    the best-scored one (chosen on folds)."""
    sharpness: float = 1.0
    """What `mbr` multiplies the scores by before the softmax: above 1, it trusts the best-scored
    teams more than the scorer's own scale says (chosen on folds)."""
    folds: int = 5
    """Folds of training traces for out-of-fold features and stacked training."""
    select_below: int = 50_000
    """Most training candidate rows for which the member architectures are compared."""
    train: MemberTrainConfig = field(default_factory=MemberTrainConfig)


class StandardLinear(nn.Module):
    """A linear score of standardised, clipped inputs (a logistic model under a sigmoid)."""

    def __init__(self, n_features: int, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1)
        nn.init.zeros_(self.linear.weight)
        nn.init.zeros_(self.linear.bias)
        self.register_buffer("mean", torch.as_tensor(np.zeros(n_features) if mean is None else mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(np.ones(n_features) if std is None else std, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Scores ``(...)`` of inputs ``(..., n_features)``."""
        return self.linear(((x - self.mean) / self.std).clamp(-8.0, 8.0)).squeeze(-1)


def _moments(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(rows) == 0:
        return np.zeros(rows.shape[-1], np.float32), np.ones(rows.shape[-1], np.float32)
    std = rows.std(0)
    return rows.mean(0).astype(np.float32), np.where(std < 1e-3, 1.0, std).astype(np.float32)


def _member_loss(model: Scorer, batch: dict[str, torch.Tensor], labels: torch.Tensor) -> torch.Tensor:
    scores, _ = model(batch)
    mask = batch["mask"]
    return F.binary_cross_entropy_with_logits(scores[mask], labels[mask])


def fit_members(model: Scorer, batch: dict[str, torch.Tensor], labels: np.ndarray, traces: list[str],
                config: MemberTrainConfig) -> list[float]:
    """Train `model` so that the sigmoid of a candidate's score is the chance it is in the team.

    `batch` holds every training decision (``feats``, ``mask``, ``items``, ``path``), `labels`
    ``(N, C)`` marks the members. The decisions of a `config.val_share` of traces (by id hash)
    are held out to keep the weights of the best epoch; losses per epoch are returned.
    """
    target = torch.from_numpy(labels.astype(np.float32))
    rows = np.arange(len(traces))
    held = np.array([trace_bucket(t, 1000) < 1000 * config.val_share for t in traces], bool)
    fit_rows, val_rows = (rows[~held], rows[held]) if 3 <= len(set(np.array(traces)[held])) and (~held).any() else (rows, rows[:0])
    optimizer = model.configure_optimizers(config.lr, config.weight_decay)
    generator = torch.Generator().manual_seed(config.seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # the id dropout's draws come from this seed: one fit, one model
        losses = _member_epochs(model, batch, target, fit_rows, val_rows, generator, optimizer, config)
    model.eval()
    return losses


def _member_epochs(model: Scorer, batch: dict[str, torch.Tensor], target: torch.Tensor, fit_rows: np.ndarray,
                   val_rows: np.ndarray, generator: torch.Generator, optimizer: torch.optim.Optimizer,
                   config: MemberTrainConfig) -> list[float]:
    """The epochs of `fit_members`: keeps the weights of the epoch of lowest held-out loss."""
    best, best_state, waited, losses = float("inf"), None, 0, []
    for _ in range(config.epochs):
        model.train()
        order = fit_rows[torch.randperm(len(fit_rows), generator=generator).numpy()]
        total = 0.0
        for lo in range(0, len(order), config.batch_size):
            pick = torch.from_numpy(np.sort(order[lo:lo + config.batch_size]))
            loss = _member_loss(model, {k: v[pick] for k, v in batch.items()}, target[pick])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(pick)
        losses.append(total / max(len(order), 1))
        if len(val_rows):
            model.eval()
            with torch.no_grad():
                pick = torch.from_numpy(val_rows)
                held_loss = float(_member_loss(model, {k: v[pick] for k, v in batch.items()}, target[pick]))
            if held_loss < best - 1e-4:
                best, best_state, waited = held_loss, {k: v.clone() for k, v in model.state_dict().items()}, 0
            elif (waited := waited + 1) >= config.patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return losses


def fit_edges(x: np.ndarray, y: np.ndarray, weight_decay: float = 1e-2, steps: int = 300) -> StandardLinear:
    """A logistic model of an edge given its features `x` ``(n, f)`` and whether it was called `y` ``(n,)``."""
    mean, std = _moments(x)
    model = StandardLinear(x.shape[1], mean, std)
    if len(x) == 0:
        return model.eval()
    xt, yt = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y.astype(np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        loss = F.binary_cross_entropy_with_logits(model(xt), yt) + weight_decay * model.linear.weight.square().sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()


def fit_sets(x: np.ndarray, mask: np.ndarray, gain: np.ndarray, weight_decay: float = 1e-2,
             steps: int = 400) -> StandardLinear:
    """A linear scorer of candidate teams: `x` ``(n, s, f)`` features of each query's candidates,
    `mask` ``(n, s)`` which are real, `gain` ``(n, s)`` how close each is to the true team.

    Minimises the negative expected gain of a candidate drawn from the softmax of the scores.
    """
    mean, std = _moments(x[mask])
    model = StandardLinear(x.shape[-1], mean, std)
    if not mask.any():
        return model.eval()
    xt, mt, gt = torch.from_numpy(x.astype(np.float32)), torch.from_numpy(mask), torch.from_numpy(gain.astype(np.float32))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(steps):
        p = model(xt).masked_fill(~mt, float("-inf")).softmax(-1)
        loss = -(p * gt).sum(-1).mean() + weight_decay * model.linear.weight.square().sum()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return model.eval()

