"""Decisions as padded tensors, and the training loop of a `Scorer`.

`encode` turns examples into fixed-shape arrays (candidates padded to the widest decision, call
paths left-padded), so that a whole epoch is a few hundred dense batches; `train` runs AdamW on
the listwise loss with an explicit seed, so two runs with one config give the same weights.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from coachgraph.recommend.candidates import Candidates
from coachgraph.recommend.context import MAX_PATH, DecisionContext
from coachgraph.recommend.scorer import Scorer

__all__ = ["Encoded", "TrainConfig", "batch_tensors", "encode", "train"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TrainConfig:
    """How a scorer is trained."""

    epochs: int = 12
    """Passes over the training decisions."""
    batch_size: int = 256
    """Decisions per step."""
    lr: float = 3e-3
    """AdamW learning rate."""
    weight_decay: float = 1e-4
    """AdamW weight decay of matrices and embeddings."""
    seed: int = 0
    """Seed of the batch order and of dropout."""
    max_seconds: float = 50.0
    """Stop early after this much wall time."""
    threads: int = 1
    """Torch CPU threads while training (small batches gain nothing from more on shared cores)."""


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

    def __len__(self) -> int:
        return len(self.names)

    def subset(self, rows: np.ndarray) -> Encoded:
        return Encoded(self.feats[rows], self.mask[rows], self.items[rows], self.path[rows],
                       self.targets[rows], [self.names[i] for i in rows])


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
    return Encoded(feats, mask, items, path, targets, [list(c.names) for _, c, _, _ in rows])


def batch_tensors(data: Encoded, rows: np.ndarray | slice) -> dict[str, torch.Tensor]:
    """Torch views of some decisions of `data`."""
    return {"feats": torch.from_numpy(data.feats[rows]), "mask": torch.from_numpy(data.mask[rows]),
            "items": torch.from_numpy(data.items[rows]), "path": torch.from_numpy(data.path[rows])}


def train(model: Scorer, data: Encoded, config: TrainConfig,
          callbacks: Mapping[str, Callable[[int, float], None]] | None = None) -> list[float]:
    """Fit `model` on the decisions of `data` whose chosen item is a candidate; mean loss per epoch.

    `callbacks` maps an event name (``"epoch_end"``) to a function of (epoch, loss).
    """
    usable = np.flatnonzero(data.targets >= 0)
    if len(usable) == 0:
        return []
    optimizer = model.configure_optimizers(config.lr, config.weight_decay)
    losses: list[float] = []
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        _epochs(model, data, config, usable, optimizer, callbacks, losses)
    finally:
        torch.set_num_threads(threads)
    model.eval()
    return losses


def _epochs(model: Scorer, data: Encoded, config: TrainConfig, usable: np.ndarray,
            optimizer: torch.optim.Optimizer, callbacks: Mapping[str, Callable[[int, float], None]] | None,
            losses: list[float]) -> None:
    generator = torch.Generator().manual_seed(config.seed)
    targets = torch.from_numpy(data.targets)
    start = time.perf_counter()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)  # dropout draws come from this seed
        for epoch in range(config.epochs):
            order = usable[torch.randperm(len(usable), generator=generator).numpy()]
            total = 0.0
            for lo in range(0, len(order), config.batch_size):
                rows = np.sort(order[lo:lo + config.batch_size])
                _, loss = model(batch_tensors(data, rows), targets[rows])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += float(loss.detach()) * len(rows)
            losses.append(total / len(order))
            if callbacks and "epoch_end" in callbacks:
                callbacks["epoch_end"](epoch, losses[-1])
            if time.perf_counter() - start > config.max_seconds:
                logger.warning("training stopped after %d epochs (time limit)", epoch + 1)
                break
