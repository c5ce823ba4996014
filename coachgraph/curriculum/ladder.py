"""Cog-DRIFT format ladder: each item climbs multiple choice -> cloze -> open as it is learned.

An item starts at its easiest format. After each batch its mean reward at its current format
joins a rolling window; when the window's mean is above the threshold the item moves one format
up and its history is cleared. Items never move down, so practice keeps getting harder.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from coachgraph.curriculum.base import TeacherWrapper
from coachgraph.curriculum.registry import register_teacher
from coachgraph.types import FORMAT_LEVELS, CurriculumStep, Outcome, TaskFormat

__all__ = ["FormatLadder", "LadderConfig"]


@dataclass(frozen=True, slots=True)
class LadderConfig:
    """Options of the format ladder."""

    threshold: float = 0.5
    """Promote when the rolling mean reward is strictly above this."""
    window: int = 1
    """Batch means in the rolling window."""
    levels: tuple[TaskFormat, ...] = FORMAT_LEVELS
    """Formats from easiest to hardest."""


@register_teacher("format-ladder")
class FormatLadder(TeacherWrapper):
    """Sets each decision's format from its item's level (item: `item_id`, else the skill)."""

    config_type = LadderConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.level: dict[str, int] = {}
        self.history: dict[str, list[float]] = {}

    def format_of(self, item: str) -> TaskFormat:
        """The format `item` is practised in now."""
        return self.config.levels[self.level.get(item, 0)]

    def _adjust(self, step: CurriculumStep) -> CurriculumStep:
        item = step.item_id if step.item_id is not None else step.skill
        fmt = self.format_of(item)
        return step.model_copy(update={"format": fmt, "reason": f"{step.reason}; format {fmt}"})

    def _observe(self, outcomes: Sequence[Outcome]) -> None:
        batch: dict[str, list[float]] = defaultdict(list)
        for o in outcomes:
            if o.format == self.format_of(o.key):
                batch[o.key].extend(o.rewards)
        for item, rewards in batch.items():
            window = [*self.history.get(item, []), float(np.mean(rewards))][-self.config.window:]
            self.history[item] = window
            top = len(self.config.levels) - 1
            if np.mean(window) > self.config.threshold and self.level.get(item, 0) < top:
                self.level[item] = self.level.get(item, 0) + 1
                self.history[item] = []

    def _state(self) -> dict[str, Any]:
        return {"level": dict(self.level), "history": {k: list(v) for k, v in self.history.items()}}

    def _load(self, state: dict[str, Any]) -> None:
        self.level = {k: int(v) for k, v in state["level"].items()}
        self.history = {k: [float(x) for x in v] for k, v in state["history"].items()}
