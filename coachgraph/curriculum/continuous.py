"""Teachers that model their task space as points of a box (ALP-GMM, Covar-GMM, RIAC, ...).

Discrete arms (skills) join the task vector as one more coordinate: arm i of the space's ordered
arm list covers [i, i + 1), so a region over that axis picks out a run of neighbouring skills
(skill lists are ordered by difficulty) and the arm is drawn from it like any knob. Box knobs
left out of the model (the config's `knobs`) are drawn uniformly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from coachgraph.curriculum.base import Teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["ContinuousTeacher"]


class ContinuousTeacher(Teacher):
    """Base of teachers over the box [low, high] of the arm axis and the modelled knobs.

    Subclass configs carry a ``knobs: tuple[str, ...] | None`` field (None models every knob).
    `low` and `high` bound the modelled vector; `encode` and `step_at` convert between
    outcomes, points and decisions.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chosen = self.config.knobs
        names = [name for name, _, _ in self.space.box]
        unknown = set(chosen or ()) - set(names)
        if unknown:
            raise ValueError(f"{self.name} knobs {sorted(unknown)} are not in the box {names}")
        self.knobs = [i for i, name in enumerate(names) if chosen is None or name in chosen]
        self.free = [i for i in range(len(names)) if i not in self.knobs]
        if not self.knobs and not self.space.arms:
            raise ValueError(f"{self.name} needs arms or a box knob to model")
        arms = len(self.space.arms)
        self.low = np.concatenate([[0.0] if arms else [], self.space.low[self.knobs]])
        self.high = np.concatenate([[float(arms)] if arms else [], self.space.high[self.knobs]])

    @property
    def dims(self) -> int:
        """Length of a task vector."""
        return len(self.low)

    def encode(self, outcome: Outcome) -> np.ndarray | None:
        """An outcome's task vector: its arm's cell centre (with arms), then the modelled knobs;
        None for an outcome of a category that is not an arm (nothing this teacher chose)."""
        knobs = self.space.vector(outcome.difficulty)[self.knobs]
        if not self.space.arms:
            return knobs
        if outcome.category not in self.space.arms:
            return None
        return np.concatenate([[self.space.arms.index(outcome.category) + 0.5], knobs])

    def uniform_step(self, reason: str) -> CurriculumStep:
        """A uniform decision: a random available arm and a uniform point of the whole box."""
        arms = self.available_arms()
        arm = str(arms[self.rng.integers(len(arms))]) if arms else ""
        return CurriculumStep(skill=arm, difficulty=self.space.uniform(self.rng), reason=reason)

    def step_at(self, point: np.ndarray, reason: str, weight: float = 1.0) -> CurriculumStep:
        """The decision at `point` (clipped to the box); knobs left out are drawn uniformly."""
        task = np.clip(point, self.low, self.high)
        arm, modelled = (self._arm_at(float(task[0])), task[1:]) if self.space.arms else ("", task)
        knobs = self.space.low.copy()
        if self.free:
            knobs[self.free] = self.rng.uniform(self.space.low[self.free], self.space.high[self.free])
        knobs[self.knobs] = modelled
        return CurriculumStep(skill=arm, difficulty=self.space.point(knobs), weight=weight,
                              reason=reason)

    def _arm_at(self, position: float) -> str:
        """The arm whose cell holds `position`, or the available arm nearest to it."""
        available = set(self.available_arms())
        cells = [(abs(i + 0.5 - position), i) for i, a in enumerate(self.space.arms) if a in available]
        return self.space.arms[min(cells)[1]]
