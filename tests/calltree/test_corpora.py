"""Every corpus ingests with nothing quarantined, and the counts match hand-checked figures.

The expected figures were counted from the raw files with a separate throw-away script that
uses only `json` (no coachgraph code): traces = records; nodes = one root per record plus one
per history entry (Who&When), per `calling` item (Seal-Tools), per `output` call (NESTFUL), per
search-tree node below the depth-0 node (ToolBench, which equals the sum of `tree.size` minus
one plus the root), per `content` item (ADP); agents/tools = distinct speaker names and tool
names. They agree with SOURCES.md: 184 Who&When logs (2,993 + 1,099 history entries), 2,054
Seal-Tools queries (1,804 + 1,795 + 1,937 calls), 300 NESTFUL samples, 15 DFSDT trees of sizes
7-188 (886 nodes in all), 180 ADP trajectories (2,155 content items).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.sqlite import SQLiteCallTreeStore

pytestmark = pytest.mark.corpora

CORPORA = {
    # format: (folder, traces, nodes, distinct agents, distinct tools, shared pools)
    "who-and-when": ("who_and_when", 184, 4276, 195, 1, 0),
    "seal-tools": ("seal_tools", 2054, 7590, 0, 2587, 1),
    "nestful": ("nestful", 300, 1400, 0, 139, 3),
    "toolbench-dfsdt": ("toolbench_dfsdt_examples", 15, 886, 0, 42, 0),
    "adp": ("adp_samples", 180, 2335, 0, 46, 0),
}


@pytest.mark.parametrize("fmt", sorted(CORPORA))
def test_corpus_counts(fmt: str, corpora_dir: Path, tmp_path: Path) -> None:
    folder, traces, nodes, agents, tools, pools = CORPORA[fmt]
    with SQLiteCallTreeStore(tmp_path / "c.sqlite") as store:
        report = ingest(store, fmt, [corpora_dir / folder])
        assert report.quarantined == []
        assert (report.traces, report.nodes) == (traces, nodes)
        stats = store.stats()
        assert (stats.traces, stats.nodes, stats.agents, stats.tools) == (traces, nodes, agents,
                                                                          tools)
        assert len(store.pools()) == pools
        again = ingest(store, fmt, [corpora_dir / folder])
        assert again.changed == 0 and store.stats() == stats


def test_who_and_when_labels(corpora_dir: Path, tmp_path: Path) -> None:
    with SQLiteCallTreeStore(tmp_path / "w.sqlite") as store:
        ingest(store, "who-and-when", [corpora_dir / "who_and_when"])
        tree = store.get_tree("who-and-when:Hand-Crafted:1")
        assert tree is not None and tree.success is False
        assert tree.labels["mistake_agent"] == "WebSurfer" and tree.labels["mistake_step"] == 12
        blamed = tree.node(tree.labels["mistake_node"])
        assert blamed.agent == "WebSurfer" and blamed.attributes["step"] == 12
        outcomes = store.agent_outcomes()
        assert outcomes["WebSurfer"].success == 0 and outcomes["WebSurfer"].blamed > 0
        generated = store.get_tree("who-and-when:Algorithm-Generated:17")
        assert generated is not None
        assert {e.name for e in generated.pool} >= {"MarineBiology_Expert", "Computer_terminal"}
        assert store.decision_points(generated.trace_id)


def test_toolbench_outcomes(corpora_dir: Path, tmp_path: Path) -> None:
    with SQLiteCallTreeStore(tmp_path / "t.sqlite") as store:
        ingest(store, "toolbench-dfsdt", [corpora_dir / "toolbench_dfsdt_examples"])
        trees = list(store.iter_trees())
        # by hand from each file's `win` and `answer_generation.finish_type`: 9 wins, 4 give_up
        wins = {t.trace_id for t in trees if t.labels["win"]}
        gave_up = {t.trace_id for t in trees if t.outcome == "give_up"}
        assert {t.trace_id for t in trees if t.success} == wins - gave_up
        assert (len(wins), len(gave_up)) == (9, 4)
        assert all(t.pool for t in trees)
