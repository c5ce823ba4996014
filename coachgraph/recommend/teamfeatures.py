"""Features of the team recommender: of each candidate member, each possible call edge, each candidate team.

All of them read training history only (`teamstats.TeamStats` and the nearest training tasks);
none reads a label of the query. Member features sit beside the agent-level features of the
query's root decision (`features.featurize`); edge features describe one caller -> callee pair
inside a candidate team; team features describe a whole candidate team with its call structure,
so that a scorer can weigh its size, its cohesion and how well it matches past teams.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from coachgraph.recommend.structure import ENTRY, TeamStructure
from coachgraph.recommend.teamstats import TeamHistory, TeamStats

__all__ = ["EDGE_FEATURES", "MAX_SIZE", "MEMBER_FEATURES", "SET_FEATURES", "EdgePriors", "Neighbours", "edge_features",
           "member_features", "neighbours", "set_features"]

MEMBER_FEATURES = ("knn_vote", "knn_nearest", "knn_best_sim", "member_share", "entry_share", "word_logodds",
                   "word_lift", "pool", "knn_size", "nearest_sim", "root_share", "root_weight")
EDGE_FEATURES = ("is_entry", "rate", "log_pair", "reverse_rate", "caller_out", "callee_in", "callee_entry",
                 "knn_rate", "caller_tool", "callee_tool", "cold", "root_rate")
MAX_SIZE = 8
"""Team sizes get a learned bias each up to this size (larger ones share the last); teams may be
larger, up to the largest training team (`TeamStats.largest`)."""
SET_FEATURES = ("ll_in", "ll_out", "expected_f1", "size_gap", "knn_size_logp", "cohesion_mean", "cohesion_min",
                "pairs_seen", "knn_jaccard", "knn_exact", "edge_fit", "habit_mean", "habit_min", "root_exact", "root_member_min", "kin_jaccard", *(f"size_{k}" for k in range(1, MAX_SIZE + 1)))


KIN = 5
"""Most similar training tasks run by the query's own caller that are looked up besides the
nearest of all: where callers differ (one per source, per product, per team lead), what the same
caller did for a similar task says more than what another did."""


@dataclass(frozen=True, slots=True)
class Neighbours:
    """What history holds of a query: the teams of its most similar training tasks, with similarity
    weights, the label of its caller (whose past teams `TeamStats` counts), the teams of its most
    similar tasks run by that caller (`kin`), and the member sets those suggest (`usual`)."""

    teams: list[TeamStructure]
    sims: np.ndarray
    weights: np.ndarray
    """Similarities clipped at zero plus a small floor, so that every neighbour counts a little."""
    root: str = ""
    kin: list[TeamStructure] = field(default_factory=list)
    kin_weights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    usual: list[frozenset[str]] = field(default_factory=list)
    """The caller's most frequent team, the members most of the kin's weight held, and the kin's
    three nearest teams."""


def _majority(teams: Sequence[TeamStructure], weights: np.ndarray) -> frozenset[str]:
    """The members held by at least half the weight of `teams`."""
    total = float(weights.sum())
    held = {m for t in teams for m in t.members}
    return frozenset(m for m in held if sum(w for w, t in zip(weights, teams, strict=True) if m in t.members) >= total / 2)


def neighbours(history: TeamHistory, vector: np.ndarray, k: int, root: str = "") -> Neighbours:
    """The `k` training tasks most similar to the query `vector`, and the `KIN` most similar of
    those run by `root`, for a team run by `root`."""
    rows, sims = history.neighbours(vector, k)
    kin_rows, kin_sims = history.neighbours(vector, KIN, root)
    kin = [history.stats.teams[r] for r in kin_rows]
    kin_weights = np.maximum(kin_sims, 0.0) + 1e-3
    usual = [*history.stats.usual_teams(root, 1), _majority(kin, kin_weights), *(t.members for t in kin[:3])]
    return Neighbours([history.stats.teams[r] for r in rows], sims, np.maximum(sims, 0.0) + 1e-3, root, kin,
                      kin_weights, list(dict.fromkeys(t for t in usual if t)))


def _word_scores(stats: TeamStats, words: Sequence[str], name: str) -> tuple[float, float]:
    """Naive-Bayes log-odds that `name` is in the team given the task's words, and the best word lift."""
    n, m = stats.n_traces, stats.member.get(name, 0)
    if n == 0 or m == 0:
        return 0.0, 0.0
    odds, lift = 0.0, 0.0
    for w in words:
        seen = stats.words.get(w, 0)
        if not seen:
            continue
        both = stats.word_member.get((w, name), 0)
        odds += math.log((both + 0.5) / (m + 1.0)) - math.log((seen - both + 0.5) / (n - m + 1.0))
        lift = max(lift, math.log((both + 0.5) * (n + 1.0) / ((seen + 1.0) * (m + 1.0))))
    return odds, lift


def member_features(stats: TeamStats, near: Neighbours, words: Sequence[str], names: Sequence[str],
                    pool_size: int) -> np.ndarray:
    """Team features of each candidate member, ``(len(names), len(MEMBER_FEATURES))``."""
    out = np.zeros((len(names), len(MEMBER_FEATURES)), np.float32)
    k = len(near.teams)
    hit = np.array([[name in t.members for t in near.teams] for name in names], np.float32).reshape(len(names), k)
    sizes = np.array([len(t.members) for t in near.teams], np.float32)
    total = float(near.weights.sum()) if k else 1.0
    out[:, 0] = hit @ near.weights / total if k else 0.0
    out[:, 1] = hit[:, 0] if k else 0.0
    out[:, 2] = (hit * near.sims).max(1, initial=0.0) if k else 0.0
    out[:, 7] = math.log1p(pool_size)
    out[:, 8] = math.log(float(near.weights @ sizes) / total) if k else 0.0
    out[:, 9] = float(near.sims[0]) if k else 0.0
    n, under_root = stats.n_traces, stats.roots.get(near.root, 0)
    out[:, 11] = math.log((under_root + 0.5) / (n + 1.0))  # a share: a count would grow with the history
    for i, name in enumerate(names):
        m = stats.member.get(name, 0)
        out[i, 3] = math.log((m + 1.0) / (n + 2.0))
        out[i, 10] = math.log((stats.root_member.get((near.root, name), 0) + (m + 0.5) / (n + 1.0)) / (under_root + 1.0))
        out[i, 4] = (stats.edge.get((ENTRY, name), 0) + 0.5) / (m + 1.0)
        out[i, 5], out[i, 6] = _word_scores(stats, words, name)
    return out


def _logit(p: float) -> float:
    return math.log(p / (1.0 - p))


@dataclass(frozen=True, slots=True)
class EdgePriors:
    """Corpus-wide rates that smooth the edge rates of rarely seen pairs."""

    entry: float
    inner: float

    @classmethod
    def of(cls, stats: TeamStats) -> EdgePriors:
        entry_edges = sum(c for (a, _), c in stats.edge.items() if a == ENTRY)
        inner_edges = sum(stats.edge.values()) - entry_edges
        return cls((entry_edges + 1.0) / (sum(stats.member.values()) + 2.0),
                   (inner_edges + 1.0) / (sum(stats.pair.values()) + 2.0))


def _share(stats: TeamStats, priors: EdgePriors, a: str, b: str) -> float:
    prior = priors.entry if a == ENTRY else priors.inner
    return (stats.edge.get((a, b), 0) + prior) / (stats.pair_count(a, b) + 1.0)


def _rate(stats: TeamStats, priors: EdgePriors, a: str, b: str) -> float:
    return _logit(_share(stats, priors, a, b))


def _root_rate(stats: TeamStats, priors: EdgePriors, root: str, a: str, b: str) -> float:
    """The edge's rate in the teams of `root`, smoothed by its rate in all teams."""
    both = [stats.root_member.get((root, m), 0) for m in (a, b) if m != ENTRY]
    return _logit((stats.root_edge.get((root, a, b), 0) + _share(stats, priors, a, b)) / (min(both) + 1.0))


def edge_features(stats: TeamStats, priors: EdgePriors, near: Neighbours, a: str, b: str,
                  is_tool: Mapping[str, bool]) -> np.ndarray:
    """Features of the call edge `a` -> `b` (`a` may be `ENTRY`) inside a candidate team, ``(len(EDGE_FEATURES),)``."""
    entry = a == ENTRY
    both = sum(w for w, t in zip(near.weights, near.teams, strict=True) if b in t.members and (entry or a in t.members))
    called = sum(w for w, t in zip(near.weights, near.teams, strict=True) if (a, b) in t.edges)
    mb = stats.member.get(b, 0)
    return np.array([
        float(entry), _rate(stats, priors, a, b), math.log1p(stats.pair_count(a, b)),
        0.0 if entry else _rate(stats, priors, b, a),
        (stats.calls_out.get(a, 0) + 0.5) / ((stats.n_traces if entry else stats.member.get(a, 0)) + 1.0),
        (stats.called_in.get(b, 0) + 0.5) / (mb + 1.0), (stats.edge.get((ENTRY, b), 0) + 0.5) / (mb + 1.0),
        _logit((called + 0.1) / (both + 0.2)), float(is_tool.get(a, False)), float(is_tool.get(b, False)),
        float(mb == 0 or (not entry and stats.member.get(a, 0) == 0)), _root_rate(stats, priors, near.root, a, b),
    ], np.float32)


def _cohesion(stats: TeamStats, team: Sequence[str]) -> tuple[float, float, float]:
    """Mean and least log share of a pair's teams among its rarer member's, and the share of pairs seen."""
    pairs = list(combinations(team, 2))
    if not pairs:
        return 0.0, 0.0, 1.0
    values = [math.log((stats.pair_count(a, b) + 0.5) / (min(stats.member.get(a, 0), stats.member.get(b, 0)) + 1.0))
              for a, b in pairs]
    return sum(values) / len(values), min(values), sum(stats.pair_count(a, b) > 0 for a, b in pairs) / len(pairs)


def _size_logp(stats: TeamStats, near: Neighbours, size: int) -> float:
    """Log-probability of a team of `size` among the neighbours' teams, smoothed by all training teams."""
    near_mass = sum(w for w, t in zip(near.weights, near.teams, strict=True) if len(t.members) == size)
    prior = (stats.sizes.get(size, 0) + 0.5) / (stats.n_traces + 0.5 * MAX_SIZE)
    return math.log((near_mass + prior) / (float(near.weights.sum()) + 1.0))


def _root_fit(stats: TeamStats, root: str, team: frozenset[str]) -> tuple[float, float]:
    """Log share of the root label's training teams that were exactly `team`, and the least log
    share of them that held one of its members: a team the caller never ran, or a member it never
    called, is unlike what this caller runs."""
    under = stats.roots.get(root, 0) + 1.0
    least = min(math.log((stats.root_member.get((root, m), 0) + 0.5) / under) for m in team)
    return math.log((stats.root_team.get((root, team), 0) + 0.5) / under), least


def _habits(stats: TeamStats, team: Sequence[str], edges: Iterable[tuple[str, str]]) -> tuple[float, float]:
    """Mean and least log-probability of each member calling somebody in the team or not, as often
    as it did in its training teams: a supervisor without its workers or an agent without its
    tools is unlike the teams it was seen in."""
    callers = {a for a, _ in edges}
    values = []
    for m in team:
        calls = (stats.calls_out.get(m, 0) + 0.5) / (stats.member.get(m, 0) + 1.0)
        values.append(math.log(calls if m in callers else 1.0 - calls))
    return sum(values) / len(values), min(values)


def _jaccard(chosen: set[str], teams: Sequence[TeamStructure]) -> list[float]:
    """The Jaccard similarity of `chosen` with each of `teams`."""
    return [len(chosen & t.members) / len(chosen | t.members) for t in teams]


def _kin_jaccard(near: Neighbours, chosen: set[str]) -> float:
    """The team's mean Jaccard similarity with the kin's teams, by similarity weight (0 without kin)."""
    if not near.kin:
        return 0.0
    return float(np.dot(near.kin_weights, _jaccard(chosen, near.kin)) / near.kin_weights.sum())


def set_features(stats: TeamStats, near: Neighbours, team: Sequence[str], prob: Mapping[str, float],
                 edges: Iterable[tuple[str, str]], edge_fit: float) -> np.ndarray:
    """Features of a candidate `team` whose members' probabilities are in `prob` (every candidate
    considered), ``(len(SET_FEATURES),)``; `edges` are the team's call structure and `edge_fit`
    the mean log-probability of each member's best caller in it."""
    chosen = set(team)
    p = np.clip(np.array([prob[m] for m in team], np.float64), 1e-4, 1 - 1e-4)
    rest = np.clip(np.array([v for m, v in prob.items() if m not in chosen], np.float64), 1e-4, 1 - 1e-4)
    mass = float(p.sum() + rest.sum())
    jaccard = _jaccard(chosen, near.teams)
    exact = sum(w for w, t in zip(near.weights, near.teams, strict=True) if t.members == chosen)
    size = np.zeros(MAX_SIZE, np.float32)
    size[min(len(team), MAX_SIZE) - 1] = 1.0
    return np.array([
        np.log(p).sum(), np.log1p(-rest).sum(), 2 * p.sum() / (len(team) + mass), (len(team) - mass) ** 2 / (1.0 + mass),
        _size_logp(stats, near, len(team)), *_cohesion(stats, sorted(team)), max(jaccard, default=0.0),
        exact / float(near.weights.sum() or 1.0), edge_fit, *_habits(stats, team, edges), *_root_fit(stats, near.root, frozenset(chosen)),
        _kin_jaccard(near, chosen), *size,
    ], np.float32)
