"""Practice policies: which skill a learner's next problem practises.

`planner` is the tutor graph's own planner (multi-source multi-sink paths over the learner
model); `syllabus` and `random` are the baselines the benchmark compares it with on the same
learners and turn budget. A policy sees the learner model and how many problems it has posed,
never the learner's hidden state.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import networkx as nx

from coachgraph.agents import plan_learning
from coachgraph.curriculum.learner import LearnerModel
from coachgraph.skills import prerequisite_dag

__all__ = ["POLICIES", "Policy", "PolicySpec", "make_policy", "target_closure"]


class Policy(Protocol):
    """Chooses the skill of the next problem."""

    def choose(self, model: LearnerModel, problem: int) -> str:
        """The skill of problem number `problem` (0-based) given the learner model now."""


@dataclass(frozen=True, slots=True)
class PolicySpec:
    """Everything a policy may be built from."""

    prerequisites: Mapping[str, Sequence[str]]
    targets: tuple[str, ...]
    order: tuple[str, ...]
    """The domain's skill order (easiest first), for the syllabus."""
    per_skill: int = 8
    """Problems per skill of the fixed syllabus."""
    seed: int = 0


def target_closure(prerequisites: Mapping[str, Sequence[str]], targets: Sequence[str], order: Sequence[str]) -> list[str]:
    """The targets and all their prerequisites, in a topological order that follows `order`.

    >>> target_closure({"a": (), "b": ("a",), "c": ()}, ["b"], ["a", "b", "c"])
    ['a', 'b']
    """
    graph = prerequisite_dag(prerequisites)
    needed = set(targets).union(*(nx.ancestors(graph, t) for t in targets))
    rank = {s: i for i, s in enumerate(order)}
    return list(nx.lexicographical_topological_sort(graph.subgraph(needed), key=lambda s: (rank.get(s, 0), s)))


class PlannerPolicy:
    """The tutor's planner: the next skill on the cheapest cover of the learner's weak skills."""

    def __init__(self, spec: PolicySpec) -> None:
        self.spec = spec

    def choose(self, model: LearnerModel, problem: int) -> str:
        return plan_learning(model, self.spec.prerequisites, self.spec.targets)["next"]


class SyllabusPolicy:
    """A fixed syllabus: every skill the targets need, easiest first, `per_skill` problems each,
    then round again."""

    def __init__(self, spec: PolicySpec) -> None:
        self.order = target_closure(spec.prerequisites, spec.targets, spec.order)
        self.per_skill = spec.per_skill

    def choose(self, model: LearnerModel, problem: int) -> str:
        return self.order[(problem // self.per_skill) % len(self.order)]


class RandomPolicy:
    """Random practice over the skills the targets need."""

    def __init__(self, spec: PolicySpec) -> None:
        self.skills = target_closure(spec.prerequisites, spec.targets, spec.order)
        self.rng = random.Random(f"random-practice:{spec.seed}")

    def choose(self, model: LearnerModel, problem: int) -> str:
        return self.rng.choice(self.skills)


POLICIES: dict[str, Callable[[PolicySpec], Policy]] = {
    "planner": PlannerPolicy,
    "syllabus": SyllabusPolicy,
    "random": RandomPolicy,
}
"""Practice policies by name."""


def make_policy(name: str, spec: PolicySpec) -> Policy:
    """The policy `name` built from `spec`.

    Raises:
        KeyError: naming the known policies.
    """
    if name not in POLICIES:
        raise KeyError(f"unknown practice policy {name!r}; known: {', '.join(POLICIES)}")
    return POLICIES[name](spec)
