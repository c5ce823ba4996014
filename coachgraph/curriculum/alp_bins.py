"""ALP-bins: absolute learning progress per cell of a fixed partition of the task space.

Each modelled knob is cut into `bins` equal intervals and each arm is a cell of its own; a cell's
ALP is |mean of the older half - mean of the newer half| of its last `window` rewards (RIAC's
measure, kept per cell instead of per adaptive region). Cells are drawn in proportion to their
ALP and a task is drawn uniformly inside the cell; a share of uniform tasks finds cells that
start to move. Short windows make a cell's ALP follow the student closely: it rises as soon as
practice there pays and falls to 0 once rewards flatten, whether the cell is mastered or out of
reach. The partition suits an arm axis and a few knobs (cells multiply per knob).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.continuous import ContinuousTeacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.curriculum.riac import half_gap
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["ALPBinsConfig", "ALPBinsTeacher"]


@dataclass(frozen=True, slots=True)
class ALPBinsConfig:
    """Options of ALP-bins."""

    bins: int = 12
    """Intervals each modelled knob is cut into (arms are one cell each)."""
    window: int = 10
    """Latest rewards of a cell its ALP is computed on."""
    random_task_ratio: float = 0.2
    """Share of tasks drawn uniformly."""
    power: float = 1.0
    """Cells are drawn in proportion to ALP ** power (higher is greedier)."""
    knobs: tuple[str, ...] | None = None
    """Box knobs the partition cuts (None: all); the others are drawn uniformly."""


@register_teacher("alp-bins")
class ALPBinsTeacher(ContinuousTeacher):
    """ALP per cell over the arm axis (if the space has arms) and the modelled knobs."""

    config_type = ALPBinsConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.config
        if cfg.bins < 1 or cfg.window < 3:
            raise ValueError("alp-bins needs bins >= 1 and window >= 3")
        arms = len(self.space.arms)
        self.shape = tuple([arms] if arms else []) + (cfg.bins,) * (self.dims - bool(arms))
        self.alp = np.zeros(int(np.prod(self.shape)))
        self.rewards: dict[int, list[float]] = {}

    def cell_of(self, point: np.ndarray) -> int:
        """Flat index of the cell holding `point` (the box's upper faces belong to the last cell)."""
        span = np.where(self.high > self.low, self.high - self.low, 1.0)
        pos = np.floor((np.asarray(point) - self.low) / span * np.array(self.shape)).astype(int)
        return int(np.ravel_multi_index(tuple(np.clip(pos, 0, np.array(self.shape) - 1)), self.shape))

    def _cell_box(self, cell: int) -> tuple[np.ndarray, np.ndarray]:
        pos = np.array(np.unravel_index(cell, self.shape), dtype=float)
        size = (self.high - self.low) / np.array(self.shape)
        return self.low + pos * size, self.low + (pos + 1) * size

    def _weights(self) -> np.ndarray:
        weights = self.alp ** self.config.power
        if self.space.arms:
            available = set(self.available_arms())
            allowed = np.array([a in available for a in self.space.arms])
            weights = weights * allowed[np.unravel_index(np.arange(len(weights)), self.shape)[0]]
        return weights

    def _sample_one(self) -> CurriculumStep:
        weights = self._weights()
        if weights.sum() <= 0 or self.rng.random() < self.config.random_task_ratio:
            return self.uniform_step("alp-bins: uniform")
        probs = weights / weights.sum()
        cell = int(self.rng.choice(len(probs), p=probs))
        low, high = self._cell_box(cell)
        return self.step_at(self.rng.uniform(low, high),
                            f"alp-bins: cell {cell} (ALP {self.alp[cell]:.3f})", float(probs[cell]))

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Append each reward to its cell's window and refresh that cell's ALP."""
        for outcome in outcomes:
            task = self.encode(outcome)
            if task is None:
                continue
            cell = self.cell_of(task)
            window = [*self.rewards.get(cell, [])[-(self.config.window - 1):], outcome.mean_reward]
            self.rewards[cell] = window
            self.alp[cell] = half_gap(window, self.config.window)

    def _state(self) -> dict[str, Any]:
        return {"rewards": {str(c): r for c, r in self.rewards.items()}}

    def _load(self, state: dict[str, Any]) -> None:
        self.rewards = {int(c): [float(x) for x in r] for c, r in state["rewards"].items()}
        self.alp = np.zeros(len(self.alp))
        for cell, window in self.rewards.items():
            self.alp[cell] = half_gap(window, self.config.window)
