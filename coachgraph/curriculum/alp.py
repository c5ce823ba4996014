"""Absolute learning progress from the nearest earlier task.

ALP of a new episode is |reward - reward of the nearest previously sampled task|. The history is
searched with a k-d tree rebuilt every `rebuild_every` additions plus a brute-force scan of the
points added since, which gives the exact nearest neighbour at a fraction of a rebuild per step.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.spatial import cKDTree

__all__ = ["ALPComputer"]


class ALPComputer:
    """Keeps (task, reward) history and answers the ALP of each new episode.

    Args:
        dims: number of task parameters.
        min_history: ALP is 0 until more than this many episodes are stored.
        max_size: keep only the last `max_size` episodes for the search (None keeps all).
        rebuild_every: pending points before the k-d tree is rebuilt.

    Example:
        >>> alp = ALPComputer(dims=1, min_history=0)
        >>> [round(alp.add(t, r), 2) for t, r in [([0.0], 0.2), ([1.0], 0.9), ([0.1], 0.5)]]
        [0.0, 0.7, 0.3]
    """

    def __init__(self, dims: int, min_history: int = 5, max_size: int | None = None,
                 rebuild_every: int = 256) -> None:
        self.dims, self.min_history, self.max_size = dims, min_history, max_size
        self.rebuild_every = rebuild_every
        self.tasks: list[list[float]] = []
        self.rewards: list[float] = []
        self._tree: cKDTree | None = None
        self._tree_start = 0
        self._tree_end = 0

    def _window_start(self) -> int:
        return 0 if self.max_size is None else max(0, len(self.tasks) - self.max_size)

    def _rebuild(self) -> None:
        self._tree_start, self._tree_end = self._window_start(), len(self.tasks)
        pts = np.asarray(self.tasks[self._tree_start:self._tree_end], dtype=float)
        self._tree = cKDTree(pts) if len(pts) else None

    def nearest(self, task: np.ndarray) -> int:
        """Index of the stored task nearest `task` within the search window."""
        start = self._window_start()
        if self._tree is None or self._tree_start < start or \
                len(self.tasks) - self._tree_end >= self.rebuild_every:
            self._rebuild()
        best, best_d = -1, np.inf
        if self._tree is not None:
            best_d, i = self._tree.query(task)
            best = self._tree_start + int(i)
        pending = np.asarray(self.tasks[self._tree_end:], dtype=float).reshape(-1, self.dims)
        if len(pending):
            d = np.linalg.norm(pending - task, axis=1)
            j = int(np.argmin(d))
            if d[j] < best_d:
                best = self._tree_end + j
        return best

    def add(self, task: np.ndarray | list[float], reward: float) -> float:
        """Store an episode and return its ALP (0 while the history is too short)."""
        point = np.asarray(task, dtype=float).reshape(self.dims)
        alp = 0.0
        if len(self.tasks) > self.min_history:
            alp = abs(float(reward) - self.rewards[self.nearest(point)])
        self.tasks.append(point.tolist())
        self.rewards.append(float(reward))
        return alp

    def state(self) -> dict[str, Any]:
        """History as JSON primitives (the tree is rebuilt on demand)."""
        return {"tasks": self.tasks, "rewards": self.rewards}

    def load(self, state: dict[str, Any]) -> None:
        """Restore the history of `state`."""
        self.tasks = [list(map(float, t)) for t in state["tasks"]]
        self.rewards = [float(r) for r in state["rewards"]]
        self._tree = None
