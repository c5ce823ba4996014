"""The arithmetic domain's skills, their order and their prerequisite graph.

The skills span what the embedded student mostly knows (single-digit facts), what it can learn
in a few hundred steps (two-digit column arithmetic) and what stays out of its reach (2x2-digit
multiplication, multi-step word problems), so that the order of practice matters.
"""

from __future__ import annotations

import networkx as nx

from coachgraph.tasks import word  # noqa: F401  (registers the word-problem family)
from coachgraph.tasks.problems import FAMILIES

__all__ = ["PREREQUISITES", "SKILLS", "prerequisite_graph", "skill_at_level"]

PREREQUISITES: dict[str, tuple[str, ...]] = {
    "add-1d": (),
    "sub-1d": (),
    "mul-1d": (),
    "add-2d": ("add-1d",),
    "sub-2d": ("sub-1d",),
    "add-2d-carry": ("add-2d",),
    "sub-2d-borrow": ("sub-2d",),
    "add-3d": ("add-2d-carry",),
    "mul-2x1": ("mul-1d", "add-2d-carry"),
    "order-ops": ("mul-1d", "add-2d"),
    "mul-2x2": ("mul-2x1", "add-3d"),
    "word-2step": ("order-ops", "sub-2d-borrow"),
}
"""Skill -> skills that must be mastered first."""

SKILLS: tuple[str, ...] = tuple(FAMILIES)
"""All skills, from easiest to hardest."""


def prerequisite_graph() -> nx.DiGraph:
    """Directed graph with an edge prerequisite -> skill for every pair in `PREREQUISITES`.

    >>> g = prerequisite_graph()
    >>> sorted(g.predecessors("mul-2x1"))
    ['add-2d-carry', 'mul-1d']
    >>> nx.is_directed_acyclic_graph(g)
    True
    """
    graph = nx.DiGraph()
    graph.add_nodes_from(SKILLS)
    graph.add_edges_from((pre, skill) for skill, pres in PREREQUISITES.items() for pre in pres)
    return graph


def skill_at_level(level: float) -> str:
    """The skill at a continuous difficulty level in [0, len(SKILLS)), clipped to the ends.

    This lets teachers over continuous boxes (ALP-GMM) drive the discrete skill list.

    >>> skill_at_level(0.3), skill_at_level(3.9), skill_at_level(99.0)
    ('add-1d', 'add-2d', 'word-2step')
    """
    index = min(max(int(level), 0), len(SKILLS) - 1)
    return SKILLS[index]
