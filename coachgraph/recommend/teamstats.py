"""What the team recommender knows of history: teams, directed edges and task words of training traces.

Counted from training traces only, like `stats.InteractionStats`: how many teams held each
member and each pair, how many held each directed caller -> callee edge (`structure.ENTRY`
included as a caller), the sizes of teams, and which task words came with which members. The
teams and tasks of the traces themselves are kept too, so that a query can look up the teams of
the most similar past tasks (their vectors live beside them, see `TeamHistory`). Members and
edges are also counted per root label (what the calling tree's root is, `trace_root`): the
caller that runs a team says much of which team it runs. Where a trace that did not fail states
the order its members were first called, each ordered pair of members and each member's relative
place in it are counted, so that a recommended team's members can be put in the order such teams
called them when they worked (a calculator handed a word problem before the parser fails, and that
order is no model to follow).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import combinations
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, StrictStr, model_validator

from coachgraph.calltree.schema import CallTree
from coachgraph.recommend.context import context_label, task_text
from coachgraph.recommend.stats import task_words
from coachgraph.recommend.structure import ENTRY, TeamStructure, team_structure

__all__ = ["TeamHistory", "TeamStats", "build_team_stats", "team_stats_from_dict", "team_stats_to_dict", "trace_root"]


@dataclass(slots=True)
class TeamStats:
    """Counts over the teams of training traces (see the module docstring)."""

    n_traces: int = 0
    member: Counter[str] = field(default_factory=Counter)
    pair: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Teams holding both members of a sorted pair."""
    edge: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Teams holding the directed edge caller -> callee."""
    calls_out: Counter[str] = field(default_factory=Counter)
    """Teams in which a member (or `ENTRY`) called some member."""
    called_in: Counter[str] = field(default_factory=Counter)
    """Teams in which a member was called by another member (not by `ENTRY`)."""
    sizes: Counter[int] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    """Traces whose task holds each word."""
    word_member: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Traces whose task holds the word and whose team holds the member."""
    roots: Counter[str] = field(default_factory=Counter)
    """Traces under each root label."""
    root_member: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Traces under the root label whose team holds the member."""
    root_edge: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    """Traces under the root label whose team holds the directed edge."""
    root_team: Counter[tuple[str, frozenset[str]]] = field(default_factory=Counter)
    """Traces under the root label with exactly this team."""
    place: Counter[str] = field(default_factory=Counter)
    """Sum over ordered teams of the member's relative place in the call order (0 first, 1 last)."""
    ordered: Counter[str] = field(default_factory=Counter)
    """Teams with a call order of two or more members that hold the member."""
    precedes: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Teams with a call order in which the first member of the pair was called before the second."""
    teams: list[TeamStructure] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    root_labels: list[str] = field(default_factory=list)
    """Each training trace's team, task and root label, in one order."""

    @property
    def largest(self) -> int:
        """The size of the largest training team (1 without teams): no method proposes a larger one."""
        return max(self.sizes, default=1)

    def mean_place(self, member: str) -> float:
        """The member's mean relative place in the call order of its training teams that did not fail
        (0.5 unknown).

        >>> stats = build_team_stats([])
        >>> _add(stats, TeamStructure(frozenset("ab"), frozenset(), ("b", "a")), "", "")
        >>> stats.mean_place("a"), stats.mean_place("b"), stats.mean_place("c")
        (1.0, 0.0, 0.5)
        """
        seen = self.ordered.get(member, 0)
        return self.place[member] / seen if seen else 0.5

    def lead(self, member: str, others: Iterable[str]) -> int:
        """How many more times `member` was called before than after each of `others`, summed over
        the ordered training teams that held both: its standing among exactly these members.

        >>> stats = build_team_stats([])
        >>> _add(stats, TeamStructure(frozenset("abc"), frozenset(), ("b", "a", "c")), "", "")
        >>> stats.lead("a", "bc"), stats.lead("b", "ac"), stats.lead("a", "b")
        (0, 2, -1)
        """
        return sum(self.precedes[(member, o)] - self.precedes[(o, member)] for o in others if o != member)

    def usual_teams(self, root: str, n: int) -> list[frozenset[str]]:
        """The `n` teams most often run under the root label `root` (ties: the first seen first).

        >>> stats = build_team_stats([])
        >>> for team in ("ab", "c", "ab"):
        ...     _add(stats, TeamStructure(frozenset(team), frozenset()), "", "r")
        >>> [sorted(t) for t in stats.usual_teams("r", 2)], stats.usual_teams("other", 2)
        ([['a', 'b'], ['c']], [])
        """
        counts = [(team, c) for (r, team), c in self.root_team.items() if r == root]
        return [team for team, _ in sorted(counts, key=lambda tc: -tc[1])[:n]]

    def pair_count(self, a: str, b: str) -> int:
        """Teams holding both `a` and `b` (for `ENTRY`: teams holding the other)."""
        if a == ENTRY or b == ENTRY:
            return self.member.get(b if a == ENTRY else a, 0)
        return self.pair.get((a, b) if a < b else (b, a), 0)


def trace_root(tree: CallTree) -> str:
    """The label of the calling tree's first root (empty without nodes): the team's caller."""
    roots = [context_label(n) for n in tree.nodes if n.parent_id is None]
    return roots[0] if roots else ""


def _add(stats: TeamStats, team: TeamStructure, task: str, root: str) -> None:
    stats.n_traces += 1
    stats.teams.append(team)
    stats.tasks.append(task)
    stats.root_labels.append(root)
    members = sorted(team.members)
    stats.roots[root] += 1
    stats.root_member.update((root, m) for m in members)
    stats.root_edge.update((root, a, b) for a, b in team.edges)
    stats.root_team[(root, team.members)] += 1
    stats.member.update(members)
    stats.pair.update(combinations(members, 2))
    stats.edge.update(team.edges)
    stats.calls_out.update({a for a, _ in team.edges})
    stats.called_in.update({b for a, b in team.edges if a != ENTRY})
    stats.sizes[len(members)] += 1
    if len(team.order) >= 2:
        last = len(team.order) - 1
        for i, m in enumerate(team.order):
            stats.place[m] += i / last
            stats.ordered[m] += 1
        stats.precedes.update(combinations(team.order, 2))
    words = task_words(task)
    stats.words.update(words)
    stats.word_member.update((w, m) for w in words for m in members)


def build_team_stats(trees: Iterable[CallTree]) -> TeamStats:
    """Statistics of the teams of `trees` (pass training traces only); traces without a team are skipped."""
    stats = TeamStats()
    for tree in trees:
        team = team_structure(tree)
        if tree.success is False:
            team = replace(team, order=())  # a failed run's order is no model (and is saved without it)
        if team.members:
            _add(stats, team, task_text(tree), trace_root(tree))
    return stats


@dataclass(slots=True)
class TeamHistory:
    """Training teams with the vectors of their tasks, for nearest-task look-ups."""

    stats: TeamStats
    vectors: np.ndarray
    """Normalised task vectors, one row per `stats.teams` entry, ``(n, dim)``."""
    rows_of_root: dict[str, np.ndarray] = field(init=False, repr=False)
    """The rows of each root label's training tasks, grouped once rather than at every query."""

    def __post_init__(self) -> None:
        grouped: dict[str, list[int]] = {}
        for row, root in enumerate(self.stats.root_labels):
            grouped.setdefault(root, []).append(row)
        self.rows_of_root = {root: np.array(rows, np.int64) for root, rows in grouped.items()}

    def neighbours(self, query: np.ndarray, k: int, root: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Rows of the `k` most similar training tasks (of those run by `root`, when given) and
        their cosine similarities (best first)."""
        if root is None:
            rows = np.arange(len(self.vectors))
        else:
            rows = self.rows_of_root.get(root, np.zeros(0, np.int64))
        if len(rows) == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        sims = self.vectors[rows] @ query
        top = np.argsort(-sims, kind="stable")[:k]
        return rows[top], sims[top].astype(np.float32)


class _TeamDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    members: list[StrictStr]
    edges: list[tuple[StrictStr, StrictStr]]
    order: list[StrictStr] = []


class _StatsDoc(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tasks: list[StrictStr]
    roots: list[StrictStr]
    teams: list[_TeamDoc]

    @model_validator(mode="after")
    def _aligned(self) -> _StatsDoc:
        if not len(self.tasks) == len(self.roots) == len(self.teams):
            raise ValueError(f"{len(self.tasks)} tasks, {len(self.roots)} roots and {len(self.teams)} teams")
        return self


def team_stats_to_dict(stats: TeamStats) -> dict[str, Any]:
    """The statistics as JSON-ready data: every count follows from the teams, tasks and roots kept.

    >>> team_stats_to_dict(build_team_stats([]))
    {'tasks': [], 'roots': [], 'teams': []}
    """
    return {"tasks": list(stats.tasks), "roots": list(stats.root_labels),
            "teams": [{"members": sorted(t.members), "edges": sorted(t.edges), "order": list(t.order)}
                      for t in stats.teams]}


def team_stats_from_dict(data: Any) -> TeamStats:
    """Statistics rebuilt from `team_stats_to_dict` output.

    Raises:
        pydantic.ValidationError: a field is missing, unknown or of the wrong type (its path is named).
    """
    doc = _StatsDoc.model_validate(data)
    stats = TeamStats()
    for task, root, team in zip(doc.tasks, doc.roots, doc.teams, strict=True):
        _add(stats, TeamStructure(frozenset(team.members), frozenset(team.edges), tuple(team.order)), task, root)
    return stats
