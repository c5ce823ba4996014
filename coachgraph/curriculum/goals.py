"""Goal-directed practice: the goal skills not yet mastered and their missing prerequisites.

The missing-skill view of a curriculum: a student that is to master some goals practises the
goals it has not mastered and, beside them, every prerequisite (direct or not) of those goals it
has not mastered either; a skill no open goal needs is left alone. Unlike prerequisite gating, a
goal is open from the start, since a student can learn a goal while its prerequisites are still
weak. The base teacher chooses among the open skills; once every goal is mastered, it chooses
among the goals again, so they keep being practised. Mastery is measured as in
`gating.PrerequisiteGate` (mean reward of the recent outcomes) and kept once reached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import networkx as nx

from coachgraph.curriculum.gating import GateConfig, PrerequisiteGate
from coachgraph.curriculum.registry import register_teacher

__all__ = ["GoalConfig", "GoalDirected"]


@dataclass(frozen=True, slots=True)
class GoalConfig(GateConfig):
    """Options of goal-directed practice: the gate's mastery settings and the goals."""

    goals: tuple[str, ...] = ()
    """Skills the student is to master; empty (or none among the arms): every arm is a goal."""


@register_teacher("goal")
class GoalDirected(PrerequisiteGate):
    """Restricts the base to the open goals and their unmastered prerequisites."""

    config_type = GoalConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graph = nx.DiGraph([(p, s) for s, pres in self.config.prerequisites.items() for p in pres])

    def unlocked(self) -> list[str]:
        """Arms open to practice, in task-space order.

        >>> from coachgraph.curriculum import TaskSpace, make_teacher
        >>> space = TaskSpace.of(["a1", "s1", "m1", "a2", "a3"])
        >>> pre = {"a2": ("a1",), "a3": ("a2",)}
        >>> t = make_teacher("goal+random", space, configs={"goal": {"goals": ("a3",), "prerequisites": pre}})
        >>> t.unlocked()
        ['a1', 'a2', 'a3']
        >>> t.mastered.update({"a1", "a3"})
        >>> t.unlocked()
        ['a3']
        """
        arms = self.space.arms
        goals = [g for g in self.config.goals if g in arms] or list(arms)
        open_goals = [g for g in goals if g not in self.mastered]
        if not open_goals:
            return [a for a in arms if a in goals]
        needed = set(open_goals).union(*(nx.ancestors(self.graph, g) for g in open_goals if g in self.graph))
        return [a for a in arms if a in needed and (a in open_goals or a not in self.mastered)]
