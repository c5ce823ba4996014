"""Decisions as padded tensors, and the training loop of a `Scorer`.

`encode` turns examples into fixed-shape arrays (candidates padded to the widest decision, call
paths left-padded), so that a whole epoch is a few hundred dense batches; `train` runs AdamW on
the listwise loss with an explicit seed, so two runs with one config give the same weights.
"""

from __future__ import annotations

import copy
import logging
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from coachgraph.recommend.candidates import Candidates
from coachgraph.recommend.context import MAX_PATH, DecisionContext

__all__ = ["Encoded", "ScorerTrainConfig", "Trainable", "batch_tensors", "concat", "encode", "held_out_split", "trace_bucket", "train"]

logger = logging.getLogger(__name__)


class Trainable(Protocol):
    """A model trained here: `forward(batch, targets) -> (scores, loss)` and its optimiser."""

    def __call__(self, batch: dict[str, torch.Tensor], targets: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor | None]: ...

    def configure_optimizers(self, lr: float, weight_decay: float) -> torch.optim.Optimizer: ...

    def train(self, mode: bool = True) -> Trainable: ...

    def eval(self) -> Trainable: ...

    def state_dict(self) -> dict[str, torch.Tensor]: ...

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> object: ...


@dataclass(frozen=True, slots=True)
class ScorerTrainConfig:
    """How a scorer is trained."""

    epochs: int = 12
    """Passes over the training decisions (raised until `min_steps` optimiser steps are taken)."""
    min_steps: int = 400
    """Fewest optimiser steps: small corpora get more passes (held-out loss guards against overfitting)."""
    batch_size: int = 256
    """Decisions per step."""
    lr: float = 3e-3
    """AdamW learning rate."""
    weight_decay: float = 1.0
    """AdamW weight decay of matrices and embeddings (decoupled: each step shrinks them by
    ``lr * weight_decay``)."""
    seed: int = 0
    """Seed of the batch order and of dropout."""
    max_seconds: float = 50.0
    """Stop early after this much wall time."""
    val_share: float = 0.1
    """Share of traces (chosen by a hash of their id) whose decisions are held out to pick the best epoch."""
    patience: int = 3
    """Validations without a better held-out loss before stopping."""
    eval_steps: int = 50
    """Fewest optimiser steps between two validations (a tiny corpus runs many epochs per check)."""
    min_val: int = 30
    """Fewest held-out decisions worth validating on; below it every epoch is kept."""
    min_val_traces: int = 3
    """Fewest held-out traces worth validating on: the loss of one or two traces follows their own
    quirks, not the corpus, and stops training early at random (on folds of ToolBench's twelve
    training traces, validating on one or two cost 14 of 259 correct first choices)."""


@dataclass(slots=True)
class Encoded:
    """Decisions as arrays: ``feats`` (N, C, F), ``mask`` (N, C), ``items`` (N, C), ``path`` (N, T)."""

    feats: np.ndarray
    mask: np.ndarray
    items: np.ndarray
    path: np.ndarray
    targets: np.ndarray
    """Index of the chosen candidate, -100 where it was not retrieved, ``(N,)``."""
    names: list[list[str]]
    """Candidate names of each decision (unpadded)."""
    traces: list[str]
    """The trace of each decision (held-out decisions are drawn by trace)."""

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, rows: np.ndarray) -> Encoded:
        return Encoded(self.feats[rows], self.mask[rows], self.items[rows], self.path[rows],
                       self.targets[rows], [self.names[i] for i in rows], [self.traces[i] for i in rows])

    def with_feats(self, feats: np.ndarray) -> Encoded:
        """The same decisions with other feature columns."""
        return Encoded(feats, self.mask, self.items, self.path, self.targets, self.names, self.traces)


def _path_ids(path: Sequence[str], vocab: Mapping[str, int]) -> np.ndarray:
    ids = np.zeros(MAX_PATH, np.int64)
    tail = [vocab.get(p, 0) for p in path[-MAX_PATH:]]
    if tail:
        ids[-len(tail):] = tail  # left-padded: the last step is the latest call
    return ids


def encode(rows: Sequence[tuple[DecisionContext, Candidates, np.ndarray, str | None]],
           vocab: Mapping[str, int]) -> Encoded:
    """Stack (context, candidates, feature matrix, chosen or None) rows into padded arrays."""
    n, width = len(rows), max((len(c.names) for _, c, _, _ in rows), default=1)
    n_feat = rows[0][2].shape[1] if rows else 1
    feats = np.zeros((n, width, n_feat), np.float32)
    mask = np.zeros((n, width), bool)
    items = np.zeros((n, width), np.int64)
    path = np.zeros((n, MAX_PATH), np.int64)
    targets = np.full(n, -100, np.int64)
    for i, (ctx, cands, x, chosen) in enumerate(rows):
        k = len(cands.names)
        feats[i, :k], mask[i, :k] = x, True
        items[i, :k] = [vocab.get(name, 0) for name in cands.names]
        path[i] = _path_ids(ctx.path, vocab)
        if chosen is not None and chosen in cands.names:
            targets[i] = cands.names.index(chosen)
    return Encoded(feats, mask, items, path, targets, [list(c.names) for _, c, _, _ in rows],
                   [ctx.trace_id for ctx, _, _, _ in rows])


def concat(parts: Sequence[Encoded]) -> Encoded:
    """Decisions of several `Encoded` in one, candidates padded to the widest."""
    parts = [p for p in parts if len(p)]
    if not parts:
        return encode([], {})
    width = max(p.feats.shape[1] for p in parts)

    def pad(a: np.ndarray, fill: float | bool | int) -> np.ndarray:
        extra = [(0, 0), (0, width - a.shape[1])] + [(0, 0)] * (a.ndim - 2)
        return np.pad(a, extra, constant_values=fill)

    return Encoded(np.concatenate([pad(p.feats, 0.0) for p in parts]), np.concatenate([pad(p.mask, False) for p in parts]),
                   np.concatenate([pad(p.items, 0) for p in parts]), np.concatenate([p.path for p in parts]),
                   np.concatenate([p.targets for p in parts]), [n for p in parts for n in p.names],
                   [t for p in parts for t in p.traces])


def batch_tensors(data: Encoded, rows: np.ndarray | slice) -> dict[str, torch.Tensor]:
    """Torch views of some decisions of `data`."""
    return {"feats": torch.from_numpy(data.feats[rows]), "mask": torch.from_numpy(data.mask[rows]),
            "items": torch.from_numpy(data.items[rows]), "path": torch.from_numpy(data.path[rows])}


def train(model: Trainable, data: Encoded, config: ScorerTrainConfig,
          callbacks: Mapping[str, Callable[[int, float], None]] | None = None) -> list[float]:
    """Fit `model` on the decisions of `data` whose chosen item is a candidate; mean loss per epoch.

    The decisions of a `val_share` of traces are held out (`held_out_split`); the weights of the
    epoch with the lowest held-out loss are kept, and training stops after `patience` epochs without improvement.
    `callbacks` maps an event name to a function of two numbers: ``"train_start"`` gets (most
    epochs the run may take, NaN) before the first epoch, ``"epoch_end"`` (epoch, loss) after each.
    """
    usable = np.flatnonzero(data.targets >= 0)
    if len(usable) == 0:
        return []
    fit_rows, val_rows = held_out_split(data, usable, config)
    losses = _Loop(model, data, config, callbacks).run(fit_rows, val_rows)
    model.eval()
    return losses


def trace_bucket(trace: str, buckets: int) -> int:
    """The bucket of `buckets` that a trace id falls into, the same in every process and run.

    Every split of training traces (folds, held-out traces) hashes the id this way, so that a
    trace lands in the same fold wherever folds are drawn.
    """
    return zlib.crc32(trace.encode()) % buckets


def held_out_split(data: Encoded, rows: np.ndarray, config: ScorerTrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """`rows` cut into (fitted, held out): the held-out traces are drawn by a hash of their id.

    Nothing is held out (every row is fitted, every epoch kept) when the held-out share would
    have fewer than `config.min_val` decisions or `config.min_val_traces` traces, or nothing
    would be left to fit.
    """
    held = np.array([trace_bucket(data.traces[i], 1000) < 1000 * config.val_share for i in rows], bool)
    enough = held.sum() >= config.min_val and len({data.traces[i] for i in rows[held]}) >= config.min_val_traces
    return (rows[~held], rows[held]) if enough and (~held).any() else (rows, rows[:0])


class _Loop:
    """One training run: epochs of shuffled batches, held-out loss, best weights kept."""

    def __init__(self, model: Trainable, data: Encoded, config: ScorerTrainConfig,
                 callbacks: Mapping[str, Callable[[int, float], None]] | None) -> None:
        self.model, self.data, self.config = model, data, config
        self.callbacks = callbacks or {}
        self.optimizer = model.configure_optimizers(config.lr, config.weight_decay)
        self.targets = torch.from_numpy(data.targets)

    def _epoch(self, rows: np.ndarray, generator: torch.Generator) -> float:
        self.model.train()
        order = rows[torch.randperm(len(rows), generator=generator).numpy()]
        total = 0.0
        for lo in range(0, len(order), self.config.batch_size):
            batch = np.sort(order[lo:lo + self.config.batch_size])
            _, loss = self.model(batch_tensors(self.data, batch), self.targets[batch])
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            total += float(loss.detach()) * len(batch)
        return total / len(order)

    @torch.no_grad()
    def _held_out(self, rows: np.ndarray) -> float:
        self.model.eval()
        _, loss = self.model(batch_tensors(self.data, rows), self.targets[rows])
        return float(loss)

    def run(self, fit_rows: np.ndarray, val_rows: np.ndarray) -> list[float]:
        generator = torch.Generator().manual_seed(self.config.seed)
        losses: list[float] = []
        best, best_state, waited = float("inf"), None, 0
        start = time.perf_counter()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.config.seed)  # dropout draws come from this seed
            per_epoch = -(-len(fit_rows) // self.config.batch_size)
            every = max(1, -(-self.config.eval_steps // per_epoch))  # epochs between validations
            n_epochs = max(self.config.epochs, -(-self.config.min_steps // per_epoch))
            if "train_start" in self.callbacks:
                self.callbacks["train_start"](n_epochs, float("nan"))
            for epoch in range(n_epochs):
                losses.append(self._epoch(fit_rows, generator))
                if "epoch_end" in self.callbacks:
                    self.callbacks["epoch_end"](epoch, losses[-1])
                if len(val_rows) and (epoch + 1) % every == 0:
                    held = self._held_out(val_rows)
                    logger.info("epoch %d: loss %.4f, held-out %.4f", epoch + 1, losses[-1], held)
                    if held < best - 1e-4:
                        best, best_state, waited = held, copy.deepcopy(self.model.state_dict()), 0
                    elif (waited := waited + 1) >= self.config.patience:
                        break
                if time.perf_counter() - start > self.config.max_seconds:
                    logger.warning("training stopped after %d epochs (time limit)", epoch + 1)
                    break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        return losses
