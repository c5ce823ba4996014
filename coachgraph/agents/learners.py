"""Simulated learners that answer a tutor: a fast parametric one with a hidden profile, for tests
and benchmarks, and one backed by any chat model, for demonstrations.

The parametric learner knows a skill or not (hidden). It answers right with probability
``1 - slip`` when it knows the skill and ``guess`` when not, and a wrong answer is the kind a
learner makes (a dropped carry, left-to-right order, a slipped fact) where the problem allows.
It learns a skill it practises with probability ``learn`` per answer when every prerequisite is
known (``leak`` times that otherwise), learns from a hint with probability ``hint_learn`` under
the same condition, and forgets each known skill it did not practise with probability
``forget`` per turn. Profiles are drawn per learner from a seeded generator, so a population is
reproducible and two tutors can be compared on the same learners.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import networkx as nx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage

from coachgraph.agents.diagnosis import Expression, evaluate, parse_expression
from coachgraph.agents.prompts import render_prompt
from coachgraph.types import Task

__all__ = ["LearnerProfile", "ModelLearner", "ParametricLearner", "PopulationConfig", "SimulatedLearner",
           "sample_learner", "typical_wrong_answer"]


class SimulatedLearner(Protocol):
    """Anything that answers a tutor's message about a problem."""

    def reply(self, message: str, task: Task | None) -> str:
        """The learner's reply to the tutor's `message` while working on `task`."""


@dataclass(frozen=True, slots=True)
class LearnerProfile:
    """The hidden parameters of one skill of one learner."""

    learn: float
    guess: float
    slip: float
    hint_learn: float
    forget: float


@dataclass(frozen=True, slots=True)
class PopulationConfig:
    """How learners' hidden profiles are drawn."""

    level: tuple[float, float] = (0.0, 4.0)
    """Range of learners' levels: a learner tends to know the skills less deep in the
    prerequisite graph than their level (roots are at depth 0)."""
    known_below: float = 0.85
    """P(a skill below the learner's level is known at the start, given its prerequisites are)."""
    known_above: float = 0.1
    """... and of a skill at or above it."""
    learn: tuple[float, float] = (0.12, 0.35)
    """Range of per-skill learning rates, before the learner's ability factor."""
    ability_spread: float = 0.4
    """Standard deviation of the log of each learner's ability, which scales all their learning rates."""
    guess: tuple[float, float] = (0.05, 0.25)
    slip: tuple[float, float] = (0.03, 0.12)
    hint_learn: tuple[float, float] = (0.05, 0.2)
    forget: tuple[float, float] = (0.0, 0.001)
    """Range of per-skill, per-turn probabilities of forgetting a known skill not practised."""
    leak: float = 0.1
    """Share of the learning rate left when a prerequisite is not known."""


def _uniform(rng: random.Random, bounds: tuple[float, float]) -> float:
    return rng.uniform(*bounds)


class ParametricLearner:
    """A learner with hidden knowledge over a prerequisite graph (see the module docstring)."""

    def __init__(self, prerequisites: Mapping[str, Sequence[str]], profiles: Mapping[str, LearnerProfile],
                 known: set[str], *, leak: float, seed: int) -> None:
        self.prerequisites = {s: tuple(p) for s, p in prerequisites.items()}
        self.profiles = dict(profiles)
        self.known = set(known)
        self.leak = leak
        self.rng = random.Random(seed)

    def ready(self, skill: str) -> bool:
        """Whether every prerequisite of `skill` is known."""
        return all(p in self.known for p in self.prerequisites[skill])

    def answer(self, task: Task) -> str:
        """Answer `task`: right with the skill's probability, else a typical wrong number."""
        profile = self.profiles[task.skill]
        right = 1.0 - profile.slip if task.skill in self.known else profile.guess
        return task.answer if self.rng.random() < right else typical_wrong_answer(task, self.rng)

    def practise(self, skill: str) -> None:
        """Learning from one answer of `skill`, then forgetting of the skills not practised."""
        rate = self.profiles[skill].learn * (1.0 if self.ready(skill) else self.leak)
        if skill not in self.known and self.rng.random() < rate:
            self.known.add(skill)
        for other in sorted(self.known - {skill}):
            if self.rng.random() < self.profiles[other].forget:
                self.known.discard(other)

    def take_hint(self, skill: str) -> None:
        """Learning from a hint, possible only once the prerequisites are known."""
        if skill not in self.known and self.ready(skill) and self.rng.random() < self.profiles[skill].hint_learn:
            self.known.add(skill)

    def reply(self, message: str, task: Task | None) -> str:
        """`answer` as a `SimulatedLearner` (the message does not change what it knows)."""
        return self.answer(task) if task is not None else "ready"


def typical_wrong_answer(task: Task, rng: random.Random) -> str:
    """A wrong number a learner would plausibly give for `task`."""
    expression = parse_expression(task.question)
    right = int(float(task.answer)) if task.answer.lstrip("-").replace(".", "", 1).isdigit() else 0
    options = _typical_errors(expression) if expression is not None else []
    options = [o for o in options if o != right] or [right + rng.choice((-10, -2, -1, 1, 2, 10))]
    wrong = rng.choice(options)
    return str(wrong if wrong != right else right + 1)


def _typical_errors(e: Expression) -> list[int]:
    errors = [evaluate(e) + d for d in (-1, 1)]
    if e.op == "+" and e.op2 is None:
        width = max(len(str(e.a)), len(str(e.b)))
        errors.append(sum(((e.a // 10**i % 10 + e.b // 10**i % 10) % 10) * 10**i for i in range(width)))
    if e.op2 is not None and e.c is not None:
        errors.append(evaluate(Expression((e.a + e.b) if e.op == "+" else e.a * e.b, "*", e.c)))
    if e.op == "*" and e.op2 is None and e.b >= 10:
        errors.append(sum(e.a * int(d) for d in str(e.b)))
    return errors


def sample_learner(prerequisites: Mapping[str, Sequence[str]], seed: int,
                   config: PopulationConfig | None = None) -> ParametricLearner:
    """A learner with a hidden profile drawn from `config` (the same one for the same seed).

    Learners differ in level (how far into the prerequisite graph they already are) and in
    ability (a factor on all their learning rates); a skill is known at the start only when its
    prerequisites are.
    """
    cfg, rng = config or PopulationConfig(), random.Random(f"profile:{seed}")
    graph = nx.DiGraph([(p, s) for s, pres in prerequisites.items() for p in pres])
    graph.add_nodes_from(prerequisites)
    level, ability = _uniform(rng, cfg.level), rng.lognormvariate(0.0, cfg.ability_spread)
    depth: dict[str, int] = {}
    known: set[str] = set()
    for skill in nx.lexicographical_topological_sort(graph):
        depth[skill] = 1 + max((depth[p] for p in prerequisites[skill]), default=-1)
        chance = cfg.known_below if depth[skill] < level else cfg.known_above
        if all(p in known for p in prerequisites[skill]) and rng.random() < chance:
            known.add(skill)
    profiles = {s: LearnerProfile(min(_uniform(rng, cfg.learn) * ability, 0.9), _uniform(rng, cfg.guess),
                                  _uniform(rng, cfg.slip), min(_uniform(rng, cfg.hint_learn) * ability, 0.9),
                                  _uniform(rng, cfg.forget)) for s in sorted(prerequisites)}
    return ParametricLearner(prerequisites, profiles, known, leak=cfg.leak, seed=rng.randrange(2**31))


@dataclass
class ModelLearner:
    """A learner played by a chat model: it reads the tutor's message and answers in its own words."""

    model: BaseChatModel
    seed: int = 0
    temperature: float = 0.7
    max_tokens: int = 64
    turns: int = field(default=0)

    def reply(self, message: str, task: Task | None) -> str:
        """The model's reply as a learner (a different sample each turn, reproducible by seed)."""
        self.turns += 1
        chat = [SystemMessage(render_prompt("learner", "system")),
                HumanMessage(render_prompt("learner", "turn", message=message))]
        reply = self.model.invoke(chat, seed=self.seed + self.turns, temperature=self.temperature,
                                  max_tokens=self.max_tokens)
        return str(reply.content).strip() or "I don't know"
