"""The prerequisite graph across skills: an edge ``a -> b`` means master `a` before `b`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

import networkx as nx

from coachgraph.errors import PrerequisiteCycleError, SkillError
from coachgraph.skills.model import Skill

__all__ = ["mastery_order", "prerequisite_dag", "prerequisite_graph", "prerequisites_of",
           "prerequisites_within", "topological_orders"]


def prerequisite_dag(prerequisites: Mapping[str, Iterable[str]], *, strict: bool = True,
                     attributes: Mapping[str, Mapping[str, object]] | None = None) -> nx.DiGraph:
    """The DAG with an edge ``pre -> skill`` for every prerequisite of every skill.

    Library skills and task domains both describe prerequisites as a mapping, so this is the one
    place that builds and checks the graph.

    Raises:
        PrerequisiteCycleError: naming the cycle, e.g. ``a -> b -> a``.
        SkillError: when `strict` and a prerequisite is not itself a key of `prerequisites`.

    >>> sorted(prerequisite_dag({"a": (), "b": ("a",), "c": ("a", "b")}).edges)
    [('a', 'b'), ('a', 'c'), ('b', 'c')]
    """
    graph = nx.DiGraph()
    graph.add_nodes_from((name, dict((attributes or {}).get(name, {}))) for name in prerequisites)
    for name, needs in prerequisites.items():
        for needed in needs:
            if strict and needed not in prerequisites:
                raise SkillError(f"skill {name!r} needs unknown prerequisite {needed!r}")
            graph.add_edge(needed, name)
    try:
        cycle = nx.find_cycle(graph)
    except nx.NetworkXNoCycle:
        return graph
    raise PrerequisiteCycleError([u for u, _ in cycle])


def prerequisite_graph(skills: Iterable[Skill], strict: bool = True) -> nx.DiGraph:
    """The DAG of library skills from each skill's ``coachgraph.prerequisites``.

    Raises:
        PrerequisiteCycleError: naming the cycle, e.g. ``a -> b -> a``.
        SkillError: when `strict` and a prerequisite is not among `skills`.
    """
    skills = list(skills)
    return prerequisite_dag({s.name: s.prerequisites for s in skills}, strict=strict,
                            attributes={s.name: {"difficulty": s.difficulty, "kind": s.kind.value} for s in skills})


def prerequisites_within(prerequisites: Mapping[str, Iterable[str]],
                         subset: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """The prerequisite mapping restricted to `subset`: a prerequisite outside the subset is
    replaced by its own nearest prerequisites inside it, so gating on the subset never waits on
    a skill that is not practised.

    >>> prerequisites_within({"a": (), "b": ("a",), "c": ("b",)}, ("a", "c"))["c"]
    ('a',)
    """
    inside = tuple(subset)

    def nearest(skill: str) -> set[str]:
        found: set[str] = set()
        for pre in prerequisites.get(skill, ()):
            found |= {pre} if pre in inside else nearest(pre)
        return found

    return {s: tuple(sorted(nearest(s))) for s in inside}


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
