"""How a team is chosen for a task: the learned rule, and the random and fixed teams it is measured against.

The learned rule is Thompson sampling on member reliability, with the recommender's score in the
prior. Each member that serves the task's kind gets a success rate drawn from its posterior on
that kind, and the team is the best connected team of the recommender's team selection
(`team_search.select_team`) over the drawn rates, with the learned pairwise compatibility as a bonus; its
members are called in the order they held in solved tasks. The posterior pools evidence in two
levels, read from the calling trees of the store (a member's teams that solved or failed tasks,
and the failures the critic blamed on it):

- the member's overall rate, ``(1 + n0 * w + wins) / (2 + n0 + wins + losses + blamed)`` over
  every kind, where `w` is the recommender's belief in the member for this question (its
  probability `p` against a uniform choice among `n` candidates, ``p / (p + 1/n)``; 0.5 before any
  model exists) worth `n0` pseudo-trials;
- the rate on this kind, ``Beta(s * overall + wins_k, s * (1 - overall) + losses_k + blamed_k)``,
  so a kind the member has not met starts from its overall record (`s` pseudo-trials).

Why Thompson sampling: a member with few trials has a wide posterior and is drawn high often
enough to be tried, a member that keeps failing is soon left out, and the recommender's score
decides where the calling trees say little (a new member, a new kind of task). Draws differ per
task, so the tasks of one round, chosen before any of them has run, try different teams rather
than all taking the one a UCB index would pick; and there is no exploration constant to tune.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from coachgraph.agents.pool import PoolFile
from coachgraph.calltree.schema import CallTree
from coachgraph.graphs.orchestrate.team_search import SearchConfig, select_team

__all__ = ["POLICIES", "Choice", "Evidence", "MemberOutcomes", "PolicyInputs", "learned_team", "random_team",
           "fixed_team", "retrieval_team"]

Scores = Callable[[str, list[str]], dict[str, float] | None]
"""Recommender probabilities of candidate members for a question (None without a model)."""


@dataclass(slots=True)
class Evidence:
    """What the calling trees say about one member (on one kind of task, or on all)."""

    wins: int = 0
    losses: int = 0
    blamed: int = 0
    position_sum: float = 0.0
    """Sum of the member's relative positions (0 first, 1 last) in solved tasks."""

    @property
    def trials(self) -> int:
        return self.wins + self.losses

    @property
    def position(self) -> float:
        """Mean relative position in solved tasks, shrunk towards the middle by one pseudo-trial."""
        return (self.position_sum + 0.5) / (self.wins + 1)


@dataclass(slots=True)
class MemberOutcomes:
    """Per member and kind of task, how the teams it joined ended (read from calling trees)."""

    by_kind: dict[tuple[str, str], Evidence] = field(default_factory=lambda: defaultdict(Evidence))
    overall: dict[str, Evidence] = field(default_factory=lambda: defaultdict(Evidence))

    def evidence(self, member: str, kind: str | None = None) -> Evidence:
        """The member's record on `kind`, or over every kind when `kind` is None."""
        found = self.overall.get(member) if kind is None else self.by_kind.get((member, kind))
        return found or Evidence()

    def add(self, team: Sequence[str], kind: str, success: bool, blamed: str | None) -> None:
        """Count one finished task of `team` (in call order)."""
        for i, member in enumerate(dict.fromkeys(team)):
            for ev in (self.by_kind[(member, kind)], self.overall[member]):
                if success:
                    ev.wins += 1
                    ev.position_sum += i / (len(team) - 1) if len(team) > 1 else 0.5
                else:
                    ev.losses += 1
                    ev.blamed += int(member == blamed)

    @classmethod
    def from_trees(cls, trees: Iterable[CallTree], pool: str) -> MemberOutcomes:
        """The outcomes of the team runs of pool `pool` among `trees` (others are skipped)."""
        outcomes = cls()
        for tree in trees:
            info = tree.attributes.get("orchestrate") or {}
            if info.get("pool") != pool or tree.success is None:
                continue
            blamed = tree.labels.get("mistake_agent")
            outcomes.add(list(info.get("team", [])), str(info.get("task_kind", "")), bool(tree.success),
                         blamed if isinstance(blamed, str) else None)
        return outcomes


@dataclass(frozen=True)
class Choice:
    """A chosen team in call order, and what each member's choice rested on."""

    team: list[str]
    why: dict[str, dict[str, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicyInputs:
    """What every policy may read."""

    pool: PoolFile
    team_size: int
    outcomes: MemberOutcomes = field(default_factory=MemberOutcomes)
    scores: Scores | None = None
    compatibility: nx.Graph | None = None
    """The recommender's interaction graph (edge attribute `compatibility`)."""
    prior_strength: float = 2.0
    """Pseudo-trials the recommender's belief is worth in a member's overall rate (`n0`)."""
    kind_strength: float = 2.0
    """Pseudo-trials a member's overall rate is worth on a kind (`s`)."""
    fixed: tuple[str, ...] = ()

    def serving(self, kind: str) -> list[str]:
        """Members that serve tasks of `kind`, in pool order."""
        return [m.name for m in self.pool.members if m.serves_kind(kind)]


def _belief(scores: Mapping[str, float] | None, names: Sequence[str]) -> dict[str, float]:
    """The recommender's belief in each candidate: its probability against a uniform choice,
    ``p / (p + 1/n)``; 0.5 for all without scores.

    >>> _belief({"a": 0.75, "b": 0.25}, ["a", "b"]), _belief(None, ["a"])
    ({'a': 0.6, 'b': 0.3333333333333333}, {'a': 0.5})
    """
    if not scores:
        return dict.fromkeys(names, 0.5)
    uniform = 1.0 / len(names)
    return {n: scores.get(n, 0.0) / (scores.get(n, 0.0) + uniform) for n in names}


def _pair_graph(names: Sequence[str], learned: nx.Graph | None) -> nx.Graph:
    """Every pair of candidates may work together; pairs the recommender saw get its compatibility."""
    graph = nx.complete_graph(names)
    nx.set_edge_attributes(graph, 0.0, "compatibility")
    for a, b, data in (learned.subgraph(names).edges(data=True) if learned is not None else ()):
        graph.edges[a, b]["compatibility"] = float(data.get("compatibility", 0.0))
    return graph


def learned_team(inputs: PolicyInputs, question: str, kind: str, rng: random.Random) -> Choice:
    """Thompson sampling on member reliability with the recommender's belief in the prior (see the module)."""
    names = inputs.serving(kind)
    belief = _belief(inputs.scores(question, names) if inputs.scores else None, names)
    n0, s, drawn, why = inputs.prior_strength, inputs.kind_strength, {}, {}
    for name in names:
        every, here = inputs.outcomes.evidence(name), inputs.outcomes.evidence(name, kind)
        overall = (1.0 + n0 * belief[name] + every.wins) / (2.0 + n0 + every.trials + every.blamed)
        a = s * overall + here.wins
        b = s * (1.0 - overall) + here.losses + here.blamed
        drawn[name] = rng.betavariate(a, b)
        why[name] = {"belief": round(belief[name], 4), "overall": round(overall, 4), "wins": here.wins,
                     "losses": here.losses, "blamed": here.blamed, "draw": round(drawn[name], 4)}
    config = SearchConfig(max_size=inputs.team_size, pool_size=len(names),
                        costs={m.name: m.cost for m in inputs.pool.members})
    chosen = select_team(drawn, _pair_graph(names, inputs.compatibility), config)
    order = sorted(chosen, key=lambda m: (inputs.outcomes.evidence(m, kind).position, names.index(m)))
    return Choice(order, {m: why[m] for m in order})


def random_team(inputs: PolicyInputs, question: str, kind: str, rng: random.Random) -> Choice:
    """Members drawn uniformly among those serving the kind, in a random order."""
    names = inputs.serving(kind)
    return Choice(rng.sample(names, min(inputs.team_size, len(names))))


def fixed_team(inputs: PolicyInputs, question: str, kind: str, rng: random.Random) -> Choice:
    """The same team for every task (those of its members that serve the kind), in its given order."""
    return Choice([m for m in inputs.fixed if m in inputs.serving(kind)])


Policy = Callable[[PolicyInputs, str, str, random.Random], Choice]

POLICIES: dict[str, Policy] = {"learned": learned_team, "random": random_team, "fixed": fixed_team}
"""Team choice rules by name (`OrchestrateConfig.policy`)."""


def retrieval_team(pool: PoolFile, vectors: np.ndarray, query: np.ndarray, k: int) -> tuple[str, ...]:
    """The `k` members whose description vectors ``(n_members, dim)`` are closest to `query`
    ``(dim,)``, in pool order: what retrieval alone picks, with no calling tree to learn from."""
    sims = vectors @ query
    best = set(np.argsort(-sims, kind="stable")[:k].tolist())
    return tuple(m.name for i, m in enumerate(pool.members) if i in best)
