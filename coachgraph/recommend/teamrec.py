"""The learned system-level recommender: a team and its call structure for a task.

A query is a task, the label of the caller that runs the team (the root of its calling tree)
and the pool of agents and tools that may join. It is answered in four steps, each learned from
training traces (see `teamfit.fit_team_model`):

1. candidates: the agent-level recommender retrieves the feasible pool's best candidates and
   computes their features at the root decision; team features are added (the teams of the
   most similar training tasks, how often a candidate joined teams, under this caller too, and
   was called first, which task words came with it);
2. members: a scorer gives each candidate its probability of being in the team;
3. structure: for a candidate team, a logistic model gives each caller -> callee edge its
   probability; each member keeps its likeliest caller (a member or `ENTRY`) and every other
   caller above `TeamModelConfig.edge_threshold`, and a member no path reaches from `ENTRY`
   gets the likeliest caller that joins it up, so every recommended team is one call graph;
4. teams: candidate teams of every size (the likeliest members, one-member swaps, the teams of
   the most similar past tasks and of this caller's most similar and most frequent ones, each
   also without the members that would call nobody in it though they usually call somebody;
   within the size and cost budget) are scored whole, and the one with the highest expected
   overlap with the others under the scorer's softmax is kept (or the best-scored, as
   `TeamModelConfig.decode` says); its members are listed in call order (`call_order`).

The size of the team is never given: it follows from the members' probabilities and the learned
team scorer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
import torch

from coachgraph.recommend.context import Example, root_context
from coachgraph.recommend.features import FeatureEnv, group_slices
from coachgraph.recommend.recommender import Recommender
from coachgraph.recommend.scorer import Scorer
from coachgraph.recommend.stats import task_words
from coachgraph.recommend.structure import ENTRY, reachable, reached
from coachgraph.recommend.team import Team, TeamConfig, TeamEdge, TeamMember
from coachgraph.recommend.teamfeatures import (
    EdgePriors,
    Neighbours,
    edge_features,
    member_features,
    neighbours,
    set_features,
)
from coachgraph.recommend.teammodel import StandardLinear, TeamModelConfig
from coachgraph.recommend.teamstats import TeamHistory, TeamStats
from coachgraph.recommend.train import Encoded, batch_tensors

__all__ = ["Choice", "TeamModel", "TeamQuery", "call_order", "call_structure", "candidate_teams", "choose_team",
           "decode_index", "edge_probabilities", "encode_queries", "member_probabilities", "recommend_team",
           "silent_callers", "without_groups"]


@dataclass(frozen=True, slots=True)
class TeamQuery:
    """A team asked for: the task, the label of the team's caller, the pool (empty: the catalogue)."""

    trace_id: str
    task: str
    root: str = ""
    candidates: tuple[str, ...] = ()


@dataclass(slots=True)
class TeamModel:
    """The learned state of the team recommender."""

    history: TeamHistory
    members: Scorer
    edges: StandardLinear
    sets: StandardLinear
    config: TeamModelConfig
    priors: EdgePriors = field(init=False)

    def __post_init__(self) -> None:
        self.priors = EdgePriors.of(self.history.stats)


def without_groups(data: Encoded, groups: Sequence[str]) -> Encoded:
    """`data` with the agent-level feature groups `groups` zeroed: columns the member scorer leaves
    unread (`TeamModelConfig.unread`); a constant column carries nothing through its standardisation."""
    if not groups:
        return data
    feats = data.feats.copy()
    for group in groups:
        feats[..., group_slices()[group]] = 0.0
    return data.with_feats(feats)


def encode_queries(rec: Recommender, history: TeamHistory, queries: Sequence[TeamQuery], k: int,
                   env: FeatureEnv | None = None, vocab: dict[str, int] | None = None,
                   unread: Sequence[str] = ()) -> tuple[Encoded, list[Neighbours]]:
    """Candidates of each query with agent-level and team features, and each query's neighbours.

    `env`, `vocab` and `history` are what the features may know (the training traces, or for a
    training trace the other folds'); the agent-level groups `unread` are zeroed.
    """
    contexts = [root_context(q.trace_id, q.task, q.candidates or rec.catalog.names(), root=q.root) for q in queries]
    data = rec.encode([Example(c, "") for c in contexts], env=env, vocab=vocab)
    vectors = rec.catalog.embed_queries([q.task for q in queries]) if queries else np.zeros((0, 1), np.float32)
    near = [neighbours(history, v, k, q.root) for q, v in zip(queries, vectors, strict=True)]
    n, width, n_agent = data.feats.shape
    team = [member_features(history.stats, nb, task_words(q.task), names, len(c.candidates))
            for q, c, nb, names in zip(queries, contexts, near, data.names, strict=True)]
    n_team = team[0].shape[1] if team else 0
    feats = np.zeros((n, width, n_agent + n_team), np.float32)
    feats[..., :n_agent] = data.feats
    for i, rows in enumerate(team):
        feats[i, :len(rows), n_agent:] = rows
    return without_groups(data.with_feats(feats), unread), near


@torch.no_grad()
def member_probabilities(members: Scorer, data: Encoded) -> np.ndarray:
    """Each candidate's probability of being in the team, ``(N, C)`` (0 at padding)."""
    out = [torch.sigmoid(members(batch_tensors(data, slice(lo, lo + 512)))[0]).numpy()
           for lo in range(0, len(data), 512)]
    return np.where(data.mask, np.concatenate(out), 0.0) if out else np.zeros(data.mask.shape)


@dataclass(frozen=True, slots=True)
class Choice:
    """A candidate team with its call structure and its score."""

    members: tuple[str, ...]
    edges: dict[tuple[str, str], float]
    score: float


def edge_probabilities(model: TeamModel, near: Neighbours, members: Sequence[str],
                       is_tool: Mapping[str, bool]) -> dict[tuple[str, str], float]:
    """The probability of every call edge among `members` (callers include `ENTRY`) given both ends
    are in the team; it depends on the pair alone, so it is computed once for every candidate team."""
    pairs = [(a, b) for b in members for a in (ENTRY, *members) if a != b]
    if not pairs:
        return {}
    x = np.stack([edge_features(model.history.stats, model.priors, near, a, b, is_tool) for a, b in pairs])
    with torch.no_grad():
        q = torch.sigmoid(model.edges(torch.from_numpy(x))).numpy()
    return dict(zip(pairs, q.tolist(), strict=True))


def call_structure(prob: Mapping[tuple[str, str], float], team: Sequence[str],
                   threshold: float) -> tuple[dict[tuple[str, str], float], float]:
    """The call edges of `team` with their probabilities, and the mean log-probability of each
    member's likeliest caller (how well the team explains its own calls).

    >>> edges, _ = call_structure({(ENTRY, "a"): 0.9, ("b", "a"): 0.1, (ENTRY, "b"): 0.2, ("a", "b"): 0.8},
    ...                           ["a", "b"], 0.5)
    >>> sorted(edges)
    [('<entry>', 'a'), ('a', 'b')]
    """
    inside = {(a, b): p for (a, b), p in prob.items() if b in team and (a == ENTRY or a in team)}
    best = {b: max(((a, p) for (a, c), p in inside.items() if c == b), key=lambda ap: ap[1]) for b in team}
    edges = {(a, b): p for (a, b), p in inside.items() if p >= threshold}
    edges.update({(a, b): p for b, (a, p) in best.items()})
    while not reachable(team, edges):
        joined = reached(edges)
        a, b = max(((a, b) for (a, b) in inside if a in joined and b not in joined), key=inside.__getitem__)
        edges[(a, b)] = inside[(a, b)]
    fit = float(np.mean([np.log(max(p, 1e-6)) for _, p in best.values()]))
    return edges, fit


def _affordable(team: Sequence[str], limits: TeamConfig) -> bool:
    return limits.budget is None or sum(limits.costs.get(m, 0.0) for m in team) <= limits.budget


def silent_callers(team: Sequence[str], stats: TeamStats) -> set[str]:
    """Members of `team` that called somebody in most of their training teams but never called any
    other member of this one: a supervisor without its workers, an agent without its tools.

    >>> from coachgraph.recommend.teamstats import build_team_stats
    >>> stats = build_team_stats([])
    >>> stats.member.update({"sup": 4, "tool": 4, "other": 1}); stats.calls_out["sup"] = 4
    >>> stats.edge[("sup", "tool")] = 4
    >>> sorted(silent_callers(["sup", "other"], stats)), sorted(silent_callers(["sup", "tool"], stats))
    (['sup'], [])
    """
    return {m for m in team if 2 * stats.calls_out.get(m, 0) > stats.member.get(m, 0)
            and not any(stats.edge.get((m, o), 0) for o in team if o != m)}


def candidate_teams(ranked: Sequence[str], near: Neighbours, limits: TeamConfig, pool: int,
                    stats: TeamStats) -> list[tuple[str, ...]]:
    """Teams worth scoring, all within limits: the `k` likeliest members for every size, each with
    its last member swapped for one of the next two; the teams of the three nearest tasks and those
    the caller's own history suggests (`Neighbours.usual`); and each of these without its
    `silent_callers`."""
    top = list(ranked[:pool])
    found: dict[frozenset[str], tuple[str, ...]] = {}
    for k in range(1, min(limits.max_size, len(top)) + 1):
        for team in (top[:k], *(top[:k - 1] + [top[j]] for j in (k, k + 1) if j < len(top))):
            found.setdefault(frozenset(team), tuple(team))
    known = set(top)
    for past in [*(t.members for t in near.teams[:3]), *near.usual]:
        recalled = tuple(m for m in ranked if m in past and m in known)
        if recalled and len(recalled) <= limits.max_size:
            found.setdefault(frozenset(recalled), recalled)
    for listed in list(found.values()):
        silent = silent_callers(listed, stats)
        kept = tuple(m for m in listed if m not in silent)
        if kept:
            found.setdefault(frozenset(kept), kept)
    teams = [t for t in found.values() if _affordable(t, limits)]
    return teams or [(m,) for m in top[:1] if _affordable((m,), limits)]


def _gain(a: Sequence[str], b: Sequence[str]) -> float:
    inter = len(set(a) & set(b))
    return 2 * inter / (len(a) + len(b)) if a or b else 1.0


def choose_team(model: TeamModel, names: Sequence[str], prob: np.ndarray, near: Neighbours, limits: TeamConfig,
                is_tool: Mapping[str, bool]) -> Choice | None:
    """The recommended team among `names` whose membership probabilities are `prob`."""
    budget = np.inf if limits.budget is None else limits.budget
    allowed = [(n, float(p)) for n, p in zip(names, prob, strict=False) if limits.costs.get(n, 0.0) <= budget]
    if not allowed:
        return None
    ranked = [n for n, _ in sorted(allowed, key=lambda item: -item[1])]
    shown = {n: p for n, p in allowed if n in set(ranked[:model.config.pool])}
    teams = candidate_teams(ranked, near, limits, model.config.pool, model.history.stats)
    if not teams:
        return None
    prob_edges = edge_probabilities(model, near, ranked[:model.config.pool], is_tool)
    built = [call_structure(prob_edges, t, model.config.edge_threshold) for t in teams]
    x = np.stack([set_features(model.history.stats, near, t, shown, edges, fit) for t, (edges, fit) in zip(teams, built, strict=True)])
    with torch.no_grad():
        scores = model.sets(torch.from_numpy(x)).numpy()
    pick = decode_index(teams, scores, model.config.decode, model.config.sharpness)
    return Choice(teams[pick], built[pick][0], float(scores[pick]))


def decode_index(teams: Sequence[Sequence[str]], scores: np.ndarray, how: str, sharpness: float = 1.0) -> int:
    """The candidate team `how` picks: ``argmax`` of `scores`, or ``mbr``, the one of highest expected
    member F1 against a team drawn from the softmax of `sharpness` times `scores`.

    >>> teams = [("a",), ("a", "b"), ("a", "b", "c"), ("c",)]
    >>> scores = np.array([1.0, 0.0, 0.0, 0.9])
    >>> decode_index(teams, scores, "argmax"), decode_index(teams, scores, "mbr"), decode_index(teams, scores, "mbr", 8.0)
    (0, 2, 0)
    """
    if how == "argmax" or len(teams) == 1:
        return int(np.argmax(scores))
    p = np.exp(sharpness * (scores - scores.max()))
    p /= p.sum()
    overlap = np.array([[_gain(a, b) for b in teams] for a in teams])
    return int(np.argmax(overlap @ p))


def call_order(members: Sequence[str], edges: Iterable[tuple[str, str]], stats: TeamStats) -> list[str]:
    """`members` in the order to call them: every caller before its callees, and among members
    the edges leave unordered (siblings under one supervisor), the one called before the others
    most often in training teams that worked (`TeamStats.lead`) first, then the one with the
    earlier mean place in such teams (`TeamStats.mean_place`): a parser that comes first with the
    calculator is not put after it because the calculator also comes first in teams without the
    parser.

    >>> from coachgraph.recommend.teamstats import build_team_stats
    >>> stats = build_team_stats([])
    >>> call_order(["calc", "parser"], [(ENTRY, "calc"), (ENTRY, "parser")], stats)
    ['calc', 'parser']
    >>> stats.place["calc"], stats.ordered["calc"], stats.ordered["parser"] = 1.0, 1, 1
    >>> call_order(["calc", "parser"], [(ENTRY, "calc"), (ENTRY, "parser")], stats)
    ['parser', 'calc']
    >>> stats.place["parser"], stats.ordered["parser"], stats.ordered["calc"] = 2.0, 3, 3
    >>> stats.precedes[("parser", "calc")] = 1
    >>> call_order(["calc", "parser"], [(ENTRY, "calc"), (ENTRY, "parser")], stats)
    ['parser', 'calc']
    >>> call_order(["calc", "parser"], [("calc", "parser")], stats)
    ['calc', 'parser']
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(members)
    graph.add_edges_from((a, b) for a, b in edges if a in graph and b in graph and a != b)
    key = {m: (-stats.lead(m, members), stats.mean_place(m), i) for i, m in enumerate(members)}
    try:
        return list(nx.lexicographical_topological_sort(graph, key=key.__getitem__))
    except nx.NetworkXUnfeasible:
        return sorted(members, key=key.__getitem__)


def recommend_team(rec: Recommender, model: TeamModel, query: TeamQuery, limits: TeamConfig) -> Team:
    """The team `model` recommends for `query`, within `limits`, as a `Team` with per-member and
    per-edge probabilities and what each feature group added to each member's score."""
    data, near = encode_queries(rec, model.history, [query], model.config.neighbours, unread=model.config.unread)
    names = data.names[0] if data.names else []
    choice = None
    if names:
        prob = member_probabilities(model.members, data)[0]
        is_tool = {n: rec.catalog.items[rec.catalog.index[n]].kind == "tool" for n in names if n in rec.catalog.index}
        choice = choose_team(model, names, prob, near[0], limits, is_tool)
    if choice is None:
        return Team(nodes=[], edges=[], score=0.0, connected=False)
    with torch.no_grad():
        _, parts = model.members.explain(batch_tensors(data, slice(0, 1)))
    nodes = [TeamMember(name=m, probability=float(prob[names.index(m)]),
                        contributions={g: float(v[0, names.index(m)]) for g, v in parts.items()})
             for m in call_order(choice.members, choice.edges, model.history.stats)]
    edges = [TeamEdge(source=a, target=b, probability=q) for (a, b), q in sorted(choice.edges.items())]
    return Team(nodes=nodes, edges=edges, score=choice.score, connected=reachable(choice.members, choice.edges))
