"""The registry of graphs: what the command line lists and what ``langgraph.json`` serves.

A graph package registers itself here with its factory and the module-level compiled graph a
LangGraph server loads; `langgraph_config` renders ``langgraph.json`` from the registry, so the
file at the repository root never drifts from the code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langgraph.graph.state import CompiledStateGraph

__all__ = ["GRAPHS", "GraphEntry", "langgraph_config", "register_graph"]


@dataclass(frozen=True, slots=True)
class GraphEntry:
    """One graph of the package."""

    name: str
    description: str
    factory: Callable[..., CompiledStateGraph[Any, Any, Any, Any]]
    """Called as ``factory(checkpointer=..., store=...)``."""
    module: str
    """The module holding the compiled `graph` for LangGraph's server, e.g.
    ``coachgraph.graphs.curriculum.graph``."""


GRAPHS: dict[str, GraphEntry] = {}
"""Registered graphs by name."""


def register_graph(entry: GraphEntry) -> GraphEntry:
    """Add `entry` to `GRAPHS`."""
    GRAPHS[entry.name] = entry
    return entry


def langgraph_config(python_version: str = "3.11") -> dict[str, Any]:
    """The contents of ``langgraph.json``: every registered graph, compiled without a checkpointer.

    >>> import coachgraph.graphs
    >>> langgraph_config()["graphs"]["curriculum"]["path"]
    './coachgraph/graphs/curriculum/graph.py:graph'
    """
    graphs = {name: {"path": "./" + entry.module.replace(".", "/") + ".py:graph",
                     "description": entry.description} for name, entry in sorted(GRAPHS.items())}
    return {"dependencies": ["."], "graphs": graphs, "python_version": python_version}
