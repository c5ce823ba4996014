"""The prerequisite graph across skills: an edge ``a -> b`` means master `a` before `b`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import networkx as nx

from coachgraph.errors import PrerequisiteCycleError, SkillError
from coachgraph.skills.model import Skill

__all__ = ["mastery_order", "prerequisite_graph", "prerequisites_of", "topological_orders"]


def prerequisite_graph(skills: Iterable[Skill], strict: bool = True) -> nx.DiGraph:
    """Build the DAG from each skill's ``coachgraph.prerequisites``.

    Raises:
        PrerequisiteCycleError: naming the cycle, e.g. ``a -> b -> a``.
        SkillError: when `strict` and a prerequisite is not among `skills`.
    """
    skills = list(skills)
    graph = nx.DiGraph()
    graph.add_nodes_from((s.name, {"difficulty": s.difficulty, "kind": s.kind.value}) for s in skills)
    for skill in skills:
        for needed in skill.prerequisites:
            if strict and needed not in graph:
                raise SkillError(f"skill {skill.name!r} needs unknown prerequisite {needed!r}")
            graph.add_edge(needed, skill.name)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return graph
    raise PrerequisiteCycleError([u for u, _ in cycle])


def mastery_order(graph: nx.DiGraph) -> list[str]:
    """One topological order, ties broken by difficulty then name, so it is reproducible."""
    def key(node: str) -> tuple[float, str]:
        return (graph.nodes[node].get("difficulty") or 0.0, node)

    return list(nx.lexicographical_topological_sort(graph, key=key))


def topological_orders(graph: nx.DiGraph, limit: int = 100) -> Iterator[list[str]]:
    """Up to `limit` distinct valid orders (there may be very many)."""
    for n, order in enumerate(nx.all_topological_sorts(graph)):
        if n >= limit:
            return
        yield list(order)


def prerequisites_of(graph: nx.DiGraph, name: str) -> list[str]:
    """Everything that must be mastered before `name`, in a valid order."""
    if name not in graph:
        raise SkillError(f"skill {name!r} is not in the prerequisite graph")
    before = nx.ancestors(graph, name)
    return [n for n in mastery_order(graph) if n in before]
