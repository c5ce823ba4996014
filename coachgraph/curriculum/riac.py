"""RIAC (Robust Intelligent Adaptive Curiosity, Baranes & Oudeyer 2009) as the ALP-GMM paper
compares it: split the task space into regions of different learning progress, and practise
regions in proportion to it.

Every region on the path of an episode stores its (task, reward); a leaf holding more than
`max_region_size` episodes is split in two along a random dimension at a random threshold, keeping
the best of `split_attempts` candidates by the gap between the children's ALP. A region's ALP is
|mean of the older half - mean of the newer half| of its latest rewards. When no candidate split
is valid (each child needs `min_region_size` episodes and 1/15 of every dimension's range), the
region forgets its oldest quarter instead. Sampling: 70% a region drawn in proportion to its ALP
and a uniform task in it, 20% a uniform task, 10% a Gaussian mutation of the lowest-reward task
of a region drawn in proportion to its ALP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.continuous import ContinuousTeacher
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["RIACConfig", "RIACTeacher", "Region", "half_gap"]

_DRAWS_PER_ATTEMPT = 100
"""Thresholds tried per split attempt before giving up on children of the minimum size."""


def half_gap(rewards: Sequence[float], window: int) -> float:
    """|mean(older half) - mean(newer half)| of the last `window` rewards (0 for 2 or fewer).

    With an odd window the older half holds the extra reward.

    >>> half_gap([0.0, 0.0, 0.1, 0.2, 0.3], 5)   # older [0, 0, 0.1], newer [0.2, 0.3]
    0.21666666666666667
    """
    if len(rewards) <= 2:
        return 0.0
    recent = np.asarray(rewards[-window:], dtype=float)
    half = len(recent) // 2
    return float(abs(recent[:-half].mean() - recent[-half:].mean()))


@dataclass(frozen=True, slots=True)
class RIACConfig:
    """Options of RIAC (defaults of the ALP-GMM paper's code)."""

    max_region_size: int = 200
    """Episodes a leaf holds before it is split."""
    alp_window: int | None = None
    """Latest rewards of a region its ALP is computed on (None: `max_region_size`)."""
    split_attempts: int = 50
    """Candidate splits drawn per split."""
    min_region_size: int | None = None
    """Episodes each child of a split needs (None: `max_region_size` / 20)."""
    min_range_ratio: float = 1 / 15
    """Smallest side of a child region, as a share of the box's side."""
    discard_ratio: float = 0.25
    """Share of a region's episodes forgotten, oldest first, when no split is valid."""
    leaves_only: bool = False
    """Sample among leaf regions only (the original samples every region, the root included)."""
    weight_by_size: bool = False
    """Score splits by ALP gap times both children's sizes, as the RIAC paper writes it (the
    reference code scores the ALP gap alone)."""
    random_task_ratio: float = 0.2
    """Share of uniform tasks."""
    mutation_ratio: float = 0.1
    """Share of tasks mutated from the lowest-reward task of a region."""
    mutation_scale: float = 0.1
    """Standard deviation of a mutation, as a share of each dimension's range."""
    knobs: tuple[str, ...] | None = None
    """Box knobs the regions cover (None: all); the others are drawn uniformly."""


@dataclass(slots=True)
class Region:
    """A box of the task space with its latest episodes and, once split, its two children."""

    low: list[float]
    high: list[float]
    tasks: list[list[float]]
    rewards: list[float]
    alp: float = 0.0
    split: tuple[int, float] | None = None
    """(dimension, threshold) once split: tasks with x[dim] <= threshold go to the first child."""
    children: tuple[int, int] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON primitives."""
        return {"low": self.low, "high": self.high, "tasks": self.tasks, "rewards": self.rewards,
                "alp": self.alp, "split": list(self.split) if self.split else None,
                "children": list(self.children) if self.children else None}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Region:
        """Inverse of `as_dict`."""
        split = (int(d["split"][0]), float(d["split"][1])) if d["split"] else None
        children = (int(d["children"][0]), int(d["children"][1])) if d["children"] else None
        return cls([float(x) for x in d["low"]], [float(x) for x in d["high"]],
                   [list(map(float, t)) for t in d["tasks"]], [float(r) for r in d["rewards"]],
                   float(d["alp"]), split, children)


@register_teacher("riac")
class RIACTeacher(ContinuousTeacher):
    """RIAC over the task space's arm axis (if it has arms) and its modelled box knobs."""

    config_type = RIACConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cfg = self.config
        self.window = cfg.alp_window or cfg.max_region_size
        self.min_size = cfg.min_region_size if cfg.min_region_size is not None \
            else cfg.max_region_size / 20
        self.regions = [Region(self.low.tolist(), self.high.tolist(), [], [])]
        self.episodes = 0

    def sampled_regions(self) -> list[int]:
        """Indices of the regions sampling chooses among."""
        return [i for i, r in enumerate(self.regions)
                if not self.config.leaves_only or r.children is None]

    def _pick_region(self) -> int:
        ids = self.sampled_regions()
        alps = np.array([self.regions[i].alp for i in ids])
        if alps.sum() <= 0:
            return ids[int(self.rng.integers(len(ids)))]
        return ids[int(self.rng.choice(len(ids), p=alps / alps.sum()))]

    def _sample_one(self) -> CurriculumStep:
        cfg, u = self.config, self.rng.random()
        if not self.episodes or cfg.mutation_ratio <= u < cfg.mutation_ratio + cfg.random_task_ratio:
            return self.uniform_step("riac: uniform")
        idx = self._pick_region()
        region = self.regions[idx]
        low, high = np.array(region.low), np.array(region.high)
        if u < cfg.mutation_ratio and region.rewards:
            worst = np.array(region.tasks[int(np.argmin(region.rewards))])
            point = self.rng.normal(worst, cfg.mutation_scale * (self.high - self.low))
            point = np.clip(point, low + 1e-5, high - 1e-5)
            return self.step_at(point, f"riac: mutation of the worst task of region {idx}")
        return self.step_at(self.rng.uniform(low, high),
                            f"riac: region {idx} (ALP {region.alp:.3f})")

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Store each episode along its path of regions, split a full leaf, refresh the ALPs."""
        for outcome in outcomes:
            task = self.encode(outcome)
            if task is not None:
                self._add(np.clip(task, self.low, self.high), outcome.mean_reward)

    def _path(self, task: np.ndarray) -> list[int]:
        path = [0]
        while (node := self.regions[path[-1]]).children is not None:
            dim, threshold = node.split  # type: ignore[misc]
            path.append(node.children[0] if task[dim] <= threshold else node.children[1])
        return path

    def _add(self, task: np.ndarray, reward: float) -> None:
        self.episodes += 1
        keep = self.config.max_region_size + 1
        path = self._path(task)
        for idx in path:
            region = self.regions[idx]
            region.tasks = [*region.tasks[-(keep - 1):], task.tolist()]
            region.rewards = [*region.rewards[-(keep - 1):], reward]
        leaf = self.regions[path[-1]]
        if len(leaf.rewards) > self.config.max_region_size:
            self._split(path[-1])
        for idx in path:
            self.regions[idx].alp = half_gap(self.regions[idx].rewards, self.window)

    def _candidate(self, region: Region) -> tuple[int, float, np.ndarray] | None:
        """A random (dimension, threshold, mask of the first child) whose children are big enough."""
        tasks = np.asarray(region.tasks)
        for _ in range(_DRAWS_PER_ATTEMPT):
            dim = int(self.rng.integers(self.dims))
            threshold = float(self.rng.uniform(region.low[dim], region.high[dim]))
            mask = tasks[:, dim] <= threshold
            if min(mask.sum(), (~mask).sum()) >= self.min_size:
                return dim, threshold, mask
        return None

    def _split(self, idx: int) -> None:
        """Split region `idx` by the best valid candidate, or forget its oldest episodes."""
        region, cfg = self.regions[idx], self.config
        min_side = (self.high - self.low) * cfg.min_range_ratio
        best: tuple[float, int, float, np.ndarray] | None = None
        rewards = np.asarray(region.rewards)
        for _ in range(cfg.split_attempts):
            found = self._candidate(region)
            if found is None:
                continue
            dim, threshold, mask = found
            sides = (threshold - region.low[dim], region.high[dim] - threshold)
            if min(sides) < min_side[dim]:
                continue
            gap = abs(half_gap(rewards[mask].tolist(), self.window)
                      - half_gap(rewards[~mask].tolist(), self.window))
            score = gap * mask.sum() * (~mask).sum() if cfg.weight_by_size else gap
            if best is None or score >= best[0]:
                best = (score, dim, threshold, mask)
        if best is None:
            drop = int(cfg.max_region_size * cfg.discard_ratio)
            region.tasks, region.rewards = region.tasks[drop:], region.rewards[drop:]
            return
        _, dim, threshold, mask = best
        self.regions.extend(self._child(region, dim, threshold, m, first)
                            for m, first in ((mask, True), (~mask, False)))
        region.split, region.children = (dim, threshold), (len(self.regions) - 2,
                                                           len(self.regions) - 1)

    def _child(self, region: Region, dim: int, threshold: float, mask: np.ndarray,
               first: bool) -> Region:
        """The first (x[dim] <= threshold) or second child of `region` with its episodes."""
        low, high = list(region.low), list(region.high)
        if first:
            high[dim] = threshold
        else:
            low[dim] = threshold
        tasks = [t for t, m in zip(region.tasks, mask, strict=True) if m]
        rewards = [r for r, m in zip(region.rewards, mask, strict=True) if m]
        return Region(low, high, tasks, rewards, half_gap(rewards, self.window))

    def _state(self) -> dict[str, Any]:
        return {"regions": [r.as_dict() for r in self.regions], "episodes": self.episodes}

    def _load(self, state: dict[str, Any]) -> None:
        self.regions = [Region.from_dict(r) for r in state["regions"]]
        self.episodes = int(state["episodes"])
