"""System-level methods compared in one harness: baselines and the learned team recommender, by name.

A method is fitted on training traces (`TeamFit`) and asked for the team of each query, with its
call structure; none is told the size of the true team. Baselines that choose members alone
(popularity, the agent-level scorer's best candidates) take the size that served the training
traces best, and give each member its most frequent caller in training (the structure the
counts imply).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.schema import CallTree
from coachgraph.recommend.context import Example, root_context
from coachgraph.recommend.recommender import Recommender
from coachgraph.recommend.structure import ENTRY, TeamStructure, team_structure
from coachgraph.recommend.team import TeamConfig
from coachgraph.recommend.teamfeatures import neighbours
from coachgraph.recommend.teamfit import fit_team_model, structure_f1, team_query
from coachgraph.recommend.teamrec import (
    TeamQuery,
    choose_team,
    encode_queries,
    member_probabilities,
)
from coachgraph.recommend.teamstats import TeamHistory, TeamStats

__all__ = ["LEARNED_TEAM", "TEAM_METHODS", "Prediction", "TeamFit", "TeamMethod", "count_structure",
           "register_team_method"]

LEARNED_TEAM = "coach-team"
"""Name of the learned team recommender every other method is compared with."""

Prediction = tuple[tuple[str, ...], frozenset[tuple[str, str]]]
"""A predicted team: members and directed call edges."""


@dataclass(slots=True)
class TeamFit:
    """What a method is fitted on: the training traces with a team, their history, the
    agent-level recommender trained on them (catalogue, retrieval, `coach` scorer), and the ids
    of every training trace, those without a team or that failed included (`rec`'s statistics
    count them all)."""

    rec: Recommender
    store: CallTreeStore
    trees: list[CallTree]
    history: TeamHistory
    train_ids: Sequence[str]
    seed: int = 0

    def queries(self) -> list[TeamQuery]:
        return [team_query(self.store, t, self.rec.catalog.names()) for t in self.trees]

    def truths(self) -> list[TeamStructure]:
        return [team_structure(t) for t in self.trees]


class TeamMethod:
    """A system-level method: `fit` on training traces, then `predict` queries."""

    def fit(self, data: TeamFit) -> None:
        """Learn from the training traces."""

    def predict(self, queries: Sequence[TeamQuery]) -> list[Prediction]:
        raise NotImplementedError


TEAM_METHODS: dict[str, type[TeamMethod]] = {}
"""System-level methods by name."""


def register_team_method(name: str) -> Callable[[type[TeamMethod]], type[TeamMethod]]:
    """Register a `TeamMethod` under `name`."""
    def decorate(cls: type[TeamMethod]) -> type[TeamMethod]:
        TEAM_METHODS[name] = cls
        return cls
    return decorate


def count_structure(members: Sequence[str], stats: TeamStats) -> frozenset[tuple[str, str]]:
    """Each member's most frequent caller in training among the team and `ENTRY` (`ENTRY` when none
    was seen), as edges.

    >>> from coachgraph.recommend.teamstats import TeamStats
    >>> s = TeamStats(); s.edge.update({("a", "b"): 3, (ENTRY, "a"): 4})
    >>> sorted(count_structure(["a", "b"], s))
    [('<entry>', 'a'), ('a', 'b')]
    """
    edges = set()
    for b in members:
        callers = [(stats.edge.get((a, b), 0), a == ENTRY, a) for a in (ENTRY, *members) if a != b]
        edges.add((max(callers)[2], b))
    return frozenset(edges)


def _best_size(rankings: Sequence[Sequence[str]], truths: Sequence[TeamStructure], largest: int) -> int:
    """The team size (up to `largest`) whose top members scored the best mean member F1 over training traces."""
    def score(k: int) -> float:
        return float(np.mean([structure_f1((r[:k], ()), t)[0] for r, t in zip(rankings, truths, strict=True)]))

    return max(range(1, largest + 1), key=lambda k: (score(k), -k)) if truths else 1


class _Ranked(TeamMethod):
    """Members: the top-k of a ranking, k the size best on training traces; edges by counts."""

    def rank(self, queries: Sequence[TeamQuery]) -> list[list[str]]:
        raise NotImplementedError

    def fit(self, data: TeamFit) -> None:
        self.stats = data.history.stats
        self.k = _best_size(self.rank(data.queries()), data.truths(), self.stats.largest)

    def predict(self, queries: Sequence[TeamQuery]) -> list[Prediction]:
        return [(tuple(r[:self.k]), count_structure(r[:self.k], self.stats)) for r in self.rank(queries)]


@register_team_method("popularity")
class Popularity(_Ranked):
    """The pool's members that joined the most training teams."""

    def rank(self, queries: Sequence[TeamQuery]) -> list[list[str]]:
        return [sorted(q.candidates, key=lambda n: (-self.stats.member.get(n, 0), n)) for q in queries]


@register_team_method("coach-top")
class CoachTop(_Ranked):
    """The agent-level scorer's best candidates at the task's root decision."""

    def fit(self, data: TeamFit) -> None:
        self.rec = data.rec
        super().fit(data)

    def rank(self, queries: Sequence[TeamQuery]) -> list[list[str]]:
        contexts = [root_context(q.trace_id, q.task, q.candidates, root=q.root) for q in queries]
        encoded = self.rec.encode([Example(c, "") for c in contexts])
        scores = self.rec.scores(encoded)
        return [[names[j] for j in np.argsort(-s[:len(names)], kind="stable")] for names, s in zip(encoded.names, scores, strict=True)]


@register_team_method("markov")
class Markov(TeamMethod):
    """A Markov chain over who calls whom, from the root: grows the team one callee at a time
    along the likeliest training transition from a member (or from the root, by its label) and
    stops at the first step less likely than the threshold that served the training traces best."""

    def fit(self, data: TeamFit) -> None:
        self.stats = data.history.stats
        self.from_root: Counter[tuple[str, str]] = Counter()
        self.roots: Counter[str] = Counter()
        self.table: dict[tuple[str, str], list[tuple[float, str]]] = {}
        self.callees: dict[str, dict[str, int]] = {}
        for (a, b), count in self.stats.edge.items():
            self.callees.setdefault(a, {})[b] = count
        for query, truth in zip(data.queries(), data.truths(), strict=True):
            self.roots[query.root] += 1
            self.from_root.update((query.root, b) for a, b in truth.edges if a == ENTRY)
        walks = [self._walk(q) for q in data.queries()]

        def score(stop: float) -> float:
            return float(np.mean([structure_f1(([m for m, _, _ in _prefix(w, stop)], ()), t)[0]
                                  for w, t in zip(walks, data.truths(), strict=True)]))

        self.stop = max((float(t) for t in np.linspace(0.05, 0.95, 19)), key=lambda t: (score(t), t))

    def _out(self, root: str, a: str) -> list[tuple[float, str]]:
        """Callees of `a` (of the root labelled `root` for `ENTRY`, where that root was seen) by
        the share of `a`'s training teams in which `a` called them, likeliest first."""
        key = (root, a)
        if key not in self.table:
            if a == ENTRY and self.roots.get(root):
                counts, total = {b: c for (r, b), c in self.from_root.items() if r == root}, self.roots[root]
            else:
                total = self.stats.n_traces if a == ENTRY else self.stats.member.get(a, 0)
                counts = self.callees.get(a, {})
            self.table[key] = sorted(((c / total, b) for b, c in counts.items()), reverse=True) if total else []
        return self.table[key]

    def _walk(self, query: TeamQuery) -> list[tuple[str, float, str]]:
        """(member, probability of the step that added it, its caller) in the order the chain adds them."""
        team: list[tuple[str, float, str]] = []
        pool, inside = set(query.candidates), set()
        while len(team) < self.stats.largest:
            steps = [next(((p, a, b) for p, b in self._out(query.root, a) if b in pool and b not in inside), None)
                     for a in (ENTRY, *(m for m, _, _ in team))]
            best = max((s for s in steps if s is not None), default=None)
            if best is None or best[0] <= 0.0:
                break
            team.append((best[2], best[0], best[1]))
            inside.add(best[2])
        return team

    def predict(self, queries: Sequence[TeamQuery]) -> list[Prediction]:
        walks = [_prefix(self._walk(q), self.stop) for q in queries]
        return [(tuple(m for m, _, _ in w), frozenset((a, m) for m, _, a in w)) for w in walks]


def _prefix(walk: list[tuple[str, float, str]], stop: float) -> list[tuple[str, float, str]]:
    """The steps of `walk` before the first one less likely than `stop`."""
    out = []
    for step in walk:
        if step[1] < stop:
            break
        out.append(step)
    return out


@register_team_method("nearest-team")
class NearestTeam(TeamMethod):
    """The team and call structure of the most similar training task, kept to the query's pool."""

    def fit(self, data: TeamFit) -> None:
        self.history, self.catalog = data.history, data.rec.catalog

    def predict(self, queries: Sequence[TeamQuery]) -> list[Prediction]:
        vectors = self.catalog.embed_queries([q.task for q in queries]) if queries else []
        out: list[Prediction] = []
        for q, v in zip(queries, vectors, strict=True):
            pool = set(q.candidates)
            near = neighbours(self.history, v, len(self.history.stats.teams))
            team = next((t for t in near.teams if t.members & pool), None)
            members = tuple(sorted(team.members & pool)) if team else ()
            out.append((members, frozenset((a, b) for a, b in team.edges if b in pool and (a == ENTRY or a in pool))
                        if team else frozenset()))
        return out


@register_team_method(LEARNED_TEAM)
class CoachTeam(TeamMethod):
    """The learned team recommender (`teamrec`), every setting chosen on folds of the training traces."""

    def fit(self, data: TeamFit) -> None:
        self.rec = data.rec
        self.model = fit_team_model(data.rec, data.store, data.train_ids, data.rec.config.team)

    def predict(self, queries: Sequence[TeamQuery]) -> list[Prediction]:
        encoded, near = encode_queries(self.rec, self.model.history, queries, self.model.config.neighbours,
                                      unread=self.model.config.unread)
        probs = member_probabilities(self.model.members, encoded)
        is_tool = {item.name: item.kind == "tool" for item in self.rec.catalog.items}
        out: list[Prediction] = []
        for names, p, nb in zip(encoded.names, probs, near, strict=True):
            choice = choose_team(self.model, names, p[:len(names)], nb, TeamConfig(max_size=self.model.history.stats.largest), is_tool)
            out.append((choice.members, frozenset(choice.edges)) if choice else ((), frozenset()))
        return out
