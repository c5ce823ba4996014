"""The teacher API every curriculum algorithm implements.

Names follow Syllabus-RL (`sample`, `update_on_episode`, task space) so RL users recognise them.
A teacher owns a local numpy generator built from its seed and never touches global random
state; its whole state, generator included, round-trips through JSON-primitive `state_dict()`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from coachgraph.types import CurriculumStep, Outcome

__all__ = ["Seed", "TaskSpace", "Teacher", "TeacherWrapper", "make_rng"]

logger = logging.getLogger(__name__)

Seed = int | np.random.SeedSequence


def make_rng(seed: Seed) -> np.random.Generator:
    """A private generator for one teacher.

    >>> float(make_rng(3).random()) == float(make_rng(3).random())
    True
    """
    return np.random.default_rng(seed)


@dataclass(frozen=True, slots=True)
class TaskSpace:
    """What a teacher chooses among: discrete arms and/or a box of continuous knobs."""

    arms: tuple[str, ...] = ()
    """Discrete choices (skills or categories), matched against `Outcome.category`."""
    box: tuple[tuple[str, float, float], ...] = ()
    """Continuous knobs as (name, low, high), matched against `Outcome.difficulty`."""

    @classmethod
    def of(cls, arms: Sequence[str] = (), box: dict[str, tuple[float, float]] | None = None
           ) -> TaskSpace:
        """Build from a list of arms and a ``{name: (low, high)}`` box."""
        return cls(tuple(arms), tuple((k, float(lo), float(hi)) for k, (lo, hi) in (box or {}).items()))

    @property
    def low(self) -> np.ndarray:
        """Lower bounds of the box, in knob order."""
        return np.array([lo for _, lo, _ in self.box], dtype=float)

    @property
    def high(self) -> np.ndarray:
        """Upper bounds of the box, in knob order."""
        return np.array([hi for _, _, hi in self.box], dtype=float)

    def point(self, values: np.ndarray) -> dict[str, float]:
        """Knob name -> value for a point of the box."""
        return {name: float(v) for (name, _, _), v in zip(self.box, values, strict=True)}

    def vector(self, difficulty: dict[str, float]) -> np.ndarray:
        """The box coordinates of an outcome's difficulty, in knob order."""
        return np.array([difficulty[name] for name, _, _ in self.box], dtype=float)

    def uniform(self, rng: np.random.Generator) -> dict[str, float]:
        """A uniform random point of the box (empty when there is no box)."""
        return self.point(rng.uniform(self.low, self.high)) if self.box else {}


class Teacher(ABC):
    """Base class: chooses what to practise (`sample`) and learns from results (`update`).

    Subclasses set `config_type`, implement `_sample_one`, `update`, `_state` and `_load`, and
    register themselves with `register_teacher`.
    """

    name: ClassVar[str] = ""
    config_type: ClassVar[type] = type(None)

    def __init__(self, space: TaskSpace, config: Any = None, *, seed: Seed = 0) -> None:
        self.space = space
        self.config = config if config is not None else self.config_type()
        self.rng = make_rng(seed)
        self.sampled = 0
        self._allowed: frozenset[str] | None = None

    def sample(self, k: int = 1) -> list[CurriculumStep]:
        """The next `k` decisions, numbered in the order they were made."""
        steps = []
        for _ in range(k):
            steps.append(self._sample_one().model_copy(update={"step": self.sampled}))
            self.sampled += 1
        return steps

    @abstractmethod
    def _sample_one(self) -> CurriculumStep:
        """One decision from the current state."""

    @abstractmethod
    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Learn from the outcomes of a batch; called after the student's training step."""

    def update_on_episode(self, step: CurriculumStep, score: float) -> None:
        """Report one episode's score for a sampled step (the single-sample form of `update`)."""
        self.update([Outcome(task_id=str(step.step), skill=step.skill, category=step.skill,
                             item_id=step.item_id, difficulty=step.difficulty, format=step.format,
                             horizon=step.horizon, rewards=[float(score)])])

    def restrict(self, arms: Collection[str] | None) -> None:
        """Limit sampling to `arms` (None lifts the limit); teachers without arms ignore it."""
        self._allowed = None if arms is None else frozenset(arms)

    def available_arms(self) -> tuple[str, ...]:
        """The arms sampling may choose now (all arms when nothing allowed is left)."""
        if self._allowed is None:
            return self.space.arms
        allowed = tuple(a for a in self.space.arms if a in self._allowed)
        return allowed or self.space.arms

    def state_dict(self) -> dict[str, Any]:
        """The teacher's whole state as JSON primitives."""
        return {"name": self.name, "sampled": self.sampled,
                "rng": self.rng.bit_generator.state, **self._state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore a state produced by `state_dict` of a teacher of the same kind."""
        if state.get("name") != self.name:
            raise ValueError(f"state of teacher {state.get('name')!r} cannot load into {self.name!r}")
        self.sampled = int(state["sampled"])
        self.rng.bit_generator.state = state["rng"]
        self._load(state)

    @abstractmethod
    def _state(self) -> dict[str, Any]:
        """Algorithm-specific state (JSON primitives)."""

    @abstractmethod
    def _load(self, state: dict[str, Any]) -> None:
        """Restore what `_state` returned."""


class TeacherWrapper(Teacher):
    """A teacher that adjusts another teacher's decisions (format, horizon, gating)."""

    def __init__(self, base: Teacher, config: Any = None, *, seed: Seed = 0) -> None:
        super().__init__(base.space, config, seed=seed)
        self.base = base

    def sample(self, k: int = 1) -> list[CurriculumStep]:
        """The base teacher's decisions, each adjusted by this wrapper."""
        self._before_sample()
        return [self._adjust(step) for step in self.base.sample(k)]

    def _sample_one(self) -> CurriculumStep:
        return self.sample(1)[0]

    def _before_sample(self) -> None:
        """Hook run before the base samples (gating restricts the base's arms here)."""

    @abstractmethod
    def _adjust(self, step: CurriculumStep) -> CurriculumStep:
        """This wrapper's change to one decision."""

    def update(self, outcomes: Sequence[Outcome]) -> None:
        """Let the base learn first, then this wrapper."""
        self.base.update(outcomes)
        self._observe(outcomes)

    @abstractmethod
    def _observe(self, outcomes: Sequence[Outcome]) -> None:
        """This wrapper's own update."""

    def restrict(self, arms: Collection[str] | None) -> None:
        """Restrictions go to the base, which owns the arms."""
        self.base.restrict(arms)

    def state_dict(self) -> dict[str, Any]:
        """This wrapper's state with the base's nested under ``base``."""
        return {**super().state_dict(), "base": self.base.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore this wrapper and its base."""
        super().load_state_dict(state)
        self.base.load_state_dict(state["base"])
