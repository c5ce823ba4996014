"""A simulated student over a skill graph, to compare and tune teachers in seconds.

Each skill has a competence c in [0, 1] and is answered correctly with probability
p = guess + (1 - guess) * c. A training step learns from every practised problem:
c += rate * readiness * signal * (1 - c), where readiness is 1 once all the skill's prerequisites
have competence of at least `ready_at` (and `leak` before), and the signal is what the answers
teach (`SIGNALS`: the share of correct samples, as supervised fine-tuning on verified answers
learns, or the spread of the group's rewards, as a policy gradient does). Skills not practised in
a step forget a share of what they gained over their starting competence. Noise: answers are
Bernoulli draws, every gain is scaled by a log-normal factor, and each learner draws its own
per-skill learning rates. The graph is data (skill -> prerequisites), so any domain can plug in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

from coachgraph.curriculum.base import Seed, Teacher, make_rng
from coachgraph.types import CurriculumStep, Outcome

__all__ = ["SIGNALS", "LearnerConfig", "SimulatedLearner", "run_simulation"]

SIGNALS: dict[str, Callable[[float], float]] = {
    "correct": lambda share: share,
    "contrast": lambda share: 4.0 * share * (1.0 - share),
}
"""What a problem teaches given its share of correct samples: supervised fine-tuning learns from
every correct sample; a group-normalised policy gradient only from groups that disagree."""


@dataclass(frozen=True, slots=True)
class LearnerConfig:
    """How the simulated student learns."""

    guess: float = 0.05
    """Success probability of a skill with no competence."""
    rate: float = 0.04
    """Competence gained per practised problem, times readiness, signal and (1 - c)."""
    ready_at: float = 0.7
    """Competence every prerequisite needs before a skill is learned at the full rate."""
    leak: float = 0.05
    """Share of the rate a skill learns while a prerequisite is not ready."""
    forget: float = 0.002
    """Share of its gain over the starting competence a skill loses per step without practice."""
    gain_noise: float = 0.3
    """Standard deviation of the log-normal factor on every gain."""
    rate_spread: float = 0.3
    """Standard deviation of the log-normal factor on each skill's rate, drawn per learner."""
    signal: str = "correct"
    """What the answers teach, a name in `SIGNALS`."""
    initial: Mapping[str, float] = field(default_factory=dict)
    """Starting competence per skill (0 for skills not named)."""


class SimulatedLearner:
    """Competences over a prerequisite graph; `attempt` answers, `learn` takes a training step.

    Args:
        prerequisites: skill -> skills to master first; every skill must appear as a key.
        config: learning parameters.
        seed: the learner's own randomness (answers, noise, per-skill rates).

    Raises:
        ValueError: a prerequisite that is not a skill, a cycle, or an unknown signal.
    """

    def __init__(self, prerequisites: Mapping[str, Sequence[str]],
                 config: LearnerConfig | None = None, *, seed: Seed = 0) -> None:
        self.config = config or LearnerConfig()
        self.prerequisites = {s: tuple(p) for s, p in prerequisites.items()}
        _check_graph(self.prerequisites)
        if self.config.signal not in SIGNALS:
            raise ValueError(f"unknown signal {self.config.signal!r}; known: {sorted(SIGNALS)}")
        unknown = set(self.config.initial) - set(self.prerequisites)
        if unknown:
            raise ValueError(f"initial competence of unknown skill(s) {sorted(unknown)}")
        self.rng = make_rng(seed)
        self.skills = tuple(self.prerequisites)
        self.start = {s: float(self.config.initial.get(s, 0.0)) for s in self.skills}
        self.competence = dict(self.start)
        spread = self.rng.lognormal(0.0, self.config.rate_spread, len(self.skills))
        self.rates = {s: self.config.rate * float(f) for s, f in zip(self.skills, spread, strict=True)}

    def success_probability(self, skill: str) -> float:
        """P(correct) on one problem of `skill`."""
        g = self.config.guess
        return g + (1.0 - g) * self.competence[skill]

    def true_accuracy(self) -> dict[str, float]:
        """P(correct) per skill: what an infinite held-out set would measure."""
        return {s: self.success_probability(s) for s in self.skills}

    def readiness(self, skill: str) -> float:
        """1 once every prerequisite has competence >= `ready_at`, else `leak`."""
        ready = all(self.competence[p] >= self.config.ready_at for p in self.prerequisites[skill])
        return 1.0 if ready else self.config.leak

    def attempt(self, step: CurriculumStep, samples: int) -> Outcome:
        """Answer the problem of `step` `samples` times; failures name the unready skills."""
        if step.skill not in self.competence:
            raise ValueError(f"the simulated learner has no skill {step.skill!r}")
        p = self.success_probability(step.skill)
        rewards = (self.rng.random(samples) < p).astype(float).tolist()
        missing = []
        if min(rewards) < 1.0:
            missing = [step.skill, *[q for q in self.prerequisites[step.skill]
                                     if self.competence[q] < self.config.ready_at]]
        return Outcome(task_id=f"sim-{step.step}", skill=step.skill, category=step.skill,
                       item_id=step.item_id, difficulty=step.difficulty, format=step.format,
                       horizon=step.horizon, rewards=rewards, missing_skills=missing)

    def learn(self, outcomes: Sequence[Outcome]) -> None:
        """One training step on the outcomes of a batch, then forgetting of unpractised skills."""
        signal = SIGNALS[self.config.signal]
        practised = set()
        for o in outcomes:
            skill = o.skill
            practised.add(skill)
            gain = self.rates[skill] * self.readiness(skill) * signal(o.mean_reward)
            gain *= float(self.rng.lognormal(0.0, self.config.gain_noise))
            c = self.competence[skill]
            self.competence[skill] = min(1.0, c + gain * (1.0 - c))
        for skill in self.skills:
            if skill not in practised:
                c, c0 = self.competence[skill], self.start[skill]
                self.competence[skill] = c - self.config.forget * max(c - c0, 0.0)


def _check_graph(prerequisites: Mapping[str, tuple[str, ...]]) -> None:
    graph = nx.DiGraph()
    graph.add_nodes_from(prerequisites)
    for skill, pres in prerequisites.items():
        for pre in pres:
            if pre not in prerequisites:
                raise ValueError(f"prerequisite {pre!r} of skill {skill!r} is not a skill")
            graph.add_edge(pre, skill)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " -> ".join(a for a, _ in nx.find_cycle(graph))
        raise ValueError(f"the prerequisite graph has a cycle: {cycle}")


def run_simulation(teacher: Teacher, learner: SimulatedLearner, steps: int, batch: int = 8,
                   samples: int = 4) -> list[dict[str, float]]:
    """Train `learner` for `steps` steps of `batch` problems chosen by `teacher`.

    Returns the learner's true accuracy per skill before the first step and after each step.
    """
    history = [learner.true_accuracy()]
    for _ in range(steps):
        outcomes = [learner.attempt(step, samples) for step in teacher.sample(batch)]
        learner.learn(outcomes)
        teacher.update(outcomes)
        history.append(learner.true_accuracy())
    return history
