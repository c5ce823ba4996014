"""Each registered graph's wiring against its snapshot, and ``langgraph.json`` against the registry.

A deliberate change of wiring updates the snapshots with ``COACHGRAPH_UPDATE_SNAPSHOTS=1``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from coachgraph.graphs import GRAPHS, langgraph_config

SNAPSHOTS = Path(__file__).parent / "snapshots"
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_wiring_matches_its_snapshot(name: str) -> None:
    drawn = GRAPHS[name].factory().get_graph().draw_mermaid()
    path = SNAPSHOTS / f"{name}.mmd"
    if os.environ.get("COACHGRAPH_UPDATE_SNAPSHOTS") == "1":
        path.write_text(drawn, encoding="utf-8")
    assert path.is_file(), f"no snapshot of {name}: run with COACHGRAPH_UPDATE_SNAPSHOTS=1"
    assert drawn == path.read_text(encoding="utf-8")


def test_langgraph_json_lists_the_registered_graphs() -> None:
    assert json.loads((REPO / "langgraph.json").read_text(encoding="utf-8")) == langgraph_config()


def test_the_served_module_holds_a_graph_compiled_without_a_checkpointer() -> None:
    import importlib

    for entry in GRAPHS.values():
        graph = importlib.import_module(entry.module).graph
        assert graph.checkpointer is None and graph.get_graph().draw_mermaid() == entry.factory().get_graph().draw_mermaid()
