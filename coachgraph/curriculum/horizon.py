"""h1 chaining stages: practise chains of h problems, and lengthen them once h is passed.

Outcome-only reward on long chains is hopeless from scratch but easy one link at a time, so the
horizon goes up by one whenever the pass rate at the current horizon crosses a threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.base import TeacherWrapper
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["HorizonConfig", "HorizonStages"]


@dataclass(frozen=True, slots=True)
class HorizonConfig:
    """Options of the horizon stages."""

    threshold: float = 0.5
    """Raise the horizon when the pass rate at the current one is at least this."""
    window: int = 32
    """Most recent outcomes at the current horizon that make up the pass rate."""
    min_outcomes: int = 16
    """Outcomes needed at a horizon before it can be passed."""
    max_horizon: int = 5
    """Longest chain served."""


@register_teacher("h1-chain")
class HorizonStages(TeacherWrapper):
    """Sets every decision's horizon to the current stage."""

    config_type = HorizonConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.horizon = 1
        self.passes: list[float] = []

    def _adjust(self, step: CurriculumStep) -> CurriculumStep:
        return step.model_copy(update={"horizon": self.horizon,
                                       "reason": f"{step.reason}; horizon {self.horizon}"})

    def _observe(self, outcomes: Sequence[Outcome]) -> None:
        fresh = [o.mean_reward for o in outcomes if o.horizon == self.horizon]
        self.passes = [*self.passes, *fresh][-self.config.window:]
        cfg = self.config
        ready = len(self.passes) >= cfg.min_outcomes and np.mean(self.passes) >= cfg.threshold
        if ready and self.horizon < cfg.max_horizon:
            self.horizon += 1
            self.passes = []

    def _state(self) -> dict[str, Any]:
        return {"horizon": self.horizon, "passes": list(self.passes)}

    def _load(self, state: dict[str, Any]) -> None:
        self.horizon = int(state["horizon"])
        self.passes = [float(x) for x in state["passes"]]
