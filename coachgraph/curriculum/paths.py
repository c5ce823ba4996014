"""Multi-source multi-sink learning paths over a prerequisite graph (GraphMASAL's planner).

The weak set W holds every unmastered target and every unmastered prerequisite (direct or not)
of an unmastered target. Sources are the weak skills whose prerequisites are all mastered (the
learner can start on them now), sinks are the unmastered targets. Each weak skill v proposes the
cheapest source -> v -> sink path; greedy set cover then picks, again and again, the path with the
lowest cost per weak skill it newly covers, until W is covered (a (1 + ln|W|) approximation of the
cheapest cover by such paths). A skill's cost is the number of answers BKT expects it to need
before mastery (`opportunities_to_mastery`), so a nearly mastered skill is cheap, a new one with a
slow learning rate expensive. The order to learn in is a topological order of the covered skills,
earlier-chosen paths first, and the skill to practise next is its first skill: by construction
every prerequisite of it is mastered.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import networkx as nx

__all__ = ["LearningPlan", "plan_paths"]

Cost = Callable[[str], float]


@dataclass(frozen=True, slots=True)
class LearningPlan:
    """The planner's answer for one learner at one moment."""

    order: list[str]
    """Weak skills in the order to learn them (empty when every target is mastered)."""
    paths: list[list[str]] = field(default_factory=list)
    """The chosen source -> sink paths, in the order greedy set cover picked them."""
    weak: list[str] = field(default_factory=list)
    """The weak set W, in topological order."""
    next_skill: str | None = None
    """The skill to practise now: the first of `order` (None when there is nothing to learn)."""


def _weak_set(graph: nx.DiGraph, mastered: Callable[[str], bool], targets: Sequence[str]) -> set[str]:
    open_targets = [t for t in targets if not mastered(t)]
    needed = set(open_targets).union(*(nx.ancestors(graph, t) for t in open_targets))
    return {v for v in needed if not mastered(v)}


def _best_into(graph: nx.DiGraph, order: list[str], cost: Cost, sources: set[str]) -> dict[str, tuple[float, str | None]]:
    """Cheapest path cost from any source to each node, with the predecessor on it."""
    best: dict[str, tuple[float, str | None]] = {}
    for v in order:
        if v in sources:
            best[v] = (cost(v), None)
            continue
        options = [(best[u][0], u) for u in graph.predecessors(v) if u in best]
        if options:
            value, pred = min(options)
            best[v] = (value + cost(v), pred)
    return best


def _best_out_of(graph: nx.DiGraph, order: list[str], cost: Cost, sinks: set[str]) -> dict[str, tuple[float, str | None]]:
    """Cheapest path cost from each node to any sink (ending at the first sink), with the successor."""
    best: dict[str, tuple[float, str | None]] = {}
    for v in reversed(order):
        if v in sinks:
            best[v] = (cost(v), None)
            continue
        options = [(best[w][0], w) for w in graph.successors(v) if w in best]
        if options:
            value, succ = min(options)
            best[v] = (value + cost(v), succ)
    return best


def _walk(start: str, links: Mapping[str, tuple[float, str | None]]) -> list[str]:
    path, node = [start], links[start][1]
    while node is not None:
        path.append(node)
        node = links[node][1]
    return path


def _candidates(graph: nx.DiGraph, weak: set[str], sources: set[str], sinks: set[str], cost: Cost
                ) -> list[tuple[float, list[str]]]:
    """The cheapest source -> v -> sink path through every weak skill v, with its cost."""
    region = set(weak).union(*(nx.ancestors(graph, t) for t in sinks)) | sinks
    sub = graph.subgraph(region)
    order = list(nx.lexicographical_topological_sort(sub))
    into, out = _best_into(sub, order, cost, sources), _best_out_of(sub, order, cost, sinks)
    found = {}
    for v in sorted(weak):
        if v in into and v in out:
            path = list(reversed(_walk(v, into))) + _walk(v, out)[1:]
            found[tuple(path)] = into[v][0] + out[v][0] - cost(v)
    return [(value, list(path)) for path, value in found.items()]


def _greedy_cover(weak: set[str], candidates: list[tuple[float, list[str]]]) -> list[list[str]]:
    """Greedy weighted set cover: lowest cost per newly covered weak skill first."""
    uncovered, chosen = set(weak), []
    while uncovered:
        value, path = min(candidates, key=lambda item, left=frozenset(uncovered): _price(item, left))
        if not uncovered.intersection(path):
            break
        chosen.append(path)
        uncovered -= set(path)
    return chosen


def _price(item: tuple[float, list[str]], uncovered: frozenset[str]) -> tuple[float, int, list[str]]:
    """Cost per newly covered weak skill (ties: more covered first, then by name)."""
    gain = len(uncovered.intersection(item[1]))
    return (item[0] / gain if gain else math.inf, -gain, item[1])


def plan_paths(graph: nx.DiGraph, targets: Sequence[str], mastered: Callable[[str], bool], cost: Cost) -> LearningPlan:
    """Plan the skills to learn before every target is mastered.

    Args:
        graph: the prerequisite DAG (edge ``a -> b``: master `a` before `b`).
        targets: the skills to reach.
        mastered: whether the learner has mastered a skill.
        cost: the cost of learning a skill (0 for mastered ones).

    Example:
        >>> g = nx.DiGraph([("add", "add2"), ("add2", "carry"), ("mul", "mul2"), ("carry", "mul2")])
        >>> plan = plan_paths(g, ["mul2"], lambda s: s == "add", lambda s: 1.0)
        >>> plan.next_skill, plan.order
        ('add2', ['add2', 'carry', 'mul', 'mul2'])
    """
    unknown = [t for t in targets if t not in graph]
    if unknown:
        raise KeyError(f"target {unknown[0]!r} is not in the prerequisite graph")
    weak = _weak_set(graph, mastered, targets)
    if not weak:
        return LearningPlan(order=[])
    sources = {v for v in weak if all(mastered(u) for u in graph.predecessors(v))}
    sinks = {t for t in targets if t in weak}
    chosen = _greedy_cover(weak, _candidates(graph, weak, sources, sinks, cost))
    rank = {}
    for i, path in enumerate(chosen):
        for v in path:
            rank.setdefault(v, i)
    covered = graph.subgraph(weak)
    order = list(nx.lexicographical_topological_sort(covered, key=lambda v: (rank.get(v, len(chosen)), cost(v), v)))
    weak_order = list(nx.lexicographical_topological_sort(covered))
    return LearningPlan(order=order, paths=chosen, weak=weak_order, next_skill=order[0])
