"""Every calling-tree store passes the same contract (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from coachgraph.calltree.base import CallTreeStore, TraceQuery
from coachgraph.calltree.postgres import PostgresCallTreeStore
from coachgraph.calltree.schema import Pool, PoolEntry
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from tests.calltree._trees import sample_tree

PG_DSN = os.environ.get("COACHGRAPH_PG_DSN")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CallTreeStore]:
    if request.param == "sqlite":
        with SQLiteCallTreeStore(tmp_path / "trees.sqlite") as opened:
            yield opened
        return
    if not PG_DSN:
        pytest.skip("COACHGRAPH_PG_DSN is not set (run .ci/postgres.sh to get a server)")
    opened = PostgresCallTreeStore(PG_DSN, schema=f"t_{uuid.uuid4().hex[:12]}")
    try:
        yield opened
    finally:
        opened.drop()
        opened.close()


def test_round_trip_and_missing(store: CallTreeStore) -> None:
    tree = sample_tree()
    assert store.put_tree(tree) is True
    assert store.get_tree("trace-1") == tree
    assert store.get_tree("nope") is None


def test_idempotent_and_replacing(store: CallTreeStore) -> None:
    tree = sample_tree()
    store.put_tree(tree)
    assert store.put_tree(sample_tree()) is False
    changed = sample_tree(success=False)
    changed.nodes = changed.nodes[:2]
    assert store.put_tree(changed) is True
    assert store.get_tree("trace-1") == changed
    assert store.stats().nodes == 2


def test_batches(store: CallTreeStore) -> None:
    trees = [sample_tree(f"t{i}") for i in range(5)]
    assert store.put_trees(trees) == 5
    assert store.put_trees(trees) == 0
    assert store.trace_ids() == [f"t{i}" for i in range(5)]
    assert store.trace_ids(source="test") == store.trace_ids()
    assert store.trace_ids(source="other") == []


def test_batch_with_repeated_and_stored_traces(store: CallTreeStore) -> None:
    store.put_tree(sample_tree("old"))
    shorter = sample_tree("new", success=False)
    shorter.nodes = shorter.nodes[:1]
    batch = [sample_tree("old"), sample_tree("new"), shorter, sample_tree("new")]
    assert store.put_trees(batch) == 3
    assert store.get_tree("new") == sample_tree("new")
    assert store.put_trees(batch[:2]) == 0
    assert store.stats().nodes == 8


def test_queries(store: CallTreeStore) -> None:
    store.put_trees([sample_tree("a"), sample_tree("b", success=False)])
    assert store.find_traces(task="FRACTIONS") == ["a", "b"]
    assert store.find_traces(task="100%") == []
    assert store.find_traces(agent="critic", limit=1) == ["a"]
    assert store.find_traces(tool="calc", task="check") == ["a", "b"]
    assert store.find_traces(tool="missing") == []
    assert [n.id for n in store.children("a", "root")] == ["c1", "c2"]
    assert [n.id for n in store.children("a", None)] == ["root"]
    assert store.children("a", "c3") == []


def test_trace_summaries_and_counts(store: CallTreeStore) -> None:
    other = sample_tree("c", None)
    other.source = "other"
    store.put_trees([sample_tree("a"), sample_tree("b", success=False), other])
    rows = store.trace_summaries(TraceQuery())
    assert [(r.trace_id, r.outcome, r.nodes, r.source) for r in rows] == [
        ("a", "success", 4, "test"), ("b", "failure", 4, "test"), ("c", "unknown", 4, "other")]
    assert rows[0].task == "Add two fractions and check the result" and rows[0].outcome_word == "done"
    for query, ids in ((TraceQuery(outcome="failure"), ["b"]), (TraceQuery(outcome="unknown"), ["c"]),
                       (TraceQuery(source="other"), ["c"]), (TraceQuery(agent="critic", outcome="success"), ["a"]),
                       (TraceQuery(tool="nope"), []), (TraceQuery(task="fractions", source="test"), ["a", "b"])):
        assert [r.trace_id for r in store.trace_summaries(query)] == ids, query
        assert store.count_traces(query) == len(ids)
    assert [r.trace_id for r in store.trace_summaries(TraceQuery(), limit=1, offset=1)] == ["b"]


def test_decision_points_and_outcomes(store: CallTreeStore) -> None:
    store.put_trees([sample_tree("a"), sample_tree("b", success=False), sample_tree("c", None)])
    decisions = store.decision_points("a")
    assert [(d.node, d.chosen, d.chosen_node) for d in decisions] == [
        ("root", "search", "c1"), ("root", "critic", "c2"), ("c2", "calc", "c3")]
    assert decisions[0].candidates == ["calc", "search"]
    assert decisions[1].candidates == ["critic", "planner"]
    assert store.decision_points("nope") == []
    outcomes = store.agent_outcomes()
    assert outcomes["planner"].model_dump() == {"success": 1, "failure": 1, "unknown": 1,
                                                "blamed": 0}
    assert outcomes["critic"].blamed == 3


def test_pools(store: CallTreeStore) -> None:
    pool = Pool(name="shared", entries=[PoolEntry(name="x", description="does x")])
    assert store.put_pool(pool) is True
    assert store.put_pool(pool) is False
    assert store.get_pool("shared") == pool
    assert store.get_pool("nope") is None
    assert store.pools() == {"shared": 1}
    tree = sample_tree()
    tree.pool_ref = "shared"
    store.put_tree(tree)
    assert store.decision_points("trace-1")[0].candidates == ["calc", "search", "x"]


def test_stats(store: CallTreeStore) -> None:
    store.put_trees([sample_tree("a"), sample_tree("b")])
    stats = store.stats()
    assert (stats.traces, stats.nodes, stats.agents, stats.tools) == (2, 8, 2, 2)
    assert stats.by_source == {"test": 2}
    assert stats.by_kind == {"agent": 4, "tool": 4}
    assert [t.trace_id for t in store.iter_trees(["b", "zz"])] == ["b"]


class _DefaultDigests(SQLiteCallTreeStore):
    """A store that digests content the base class's default way."""

    trace_digests = CallTreeStore.trace_digests
    pool_digests = CallTreeStore.pool_digests


def _digests_follow_content(store: CallTreeStore) -> None:
    store.put_trees([sample_tree("a"), sample_tree("b")])
    store.put_pool(Pool(name="shared", entries=[PoolEntry(name="x", description="does x")]))
    traces, pools = store.trace_digests(), store.pool_digests()
    assert sorted(traces) == ["a", "b"] and list(pools) == ["shared"] and traces["a"] != traces["b"]
    store.put_tree(sample_tree("a"))
    assert store.trace_digests() == traces
    store.put_tree(sample_tree("a", success=False))
    changed = store.trace_digests()
    assert changed["a"] != traces["a"] and changed["b"] == traces["b"]
    store.put_pool(Pool(name="shared", entries=[PoolEntry(name="x", description="does x better")]))
    assert store.pool_digests()["shared"] != pools["shared"]


def test_content_digests_change_with_content_only(store: CallTreeStore) -> None:
    _digests_follow_content(store)


def test_default_content_digests_change_with_content_only(tmp_path: Path) -> None:
    with _DefaultDigests(tmp_path / "default.sqlite") as store:
        _digests_follow_content(store)


def test_readers_never_see_half_a_trace(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    writer = SQLiteCallTreeStore(path)
    seen: list[int] = []
    done = threading.Event()
    reading = threading.Barrier(3)
    """The writer starts once both readers have read: a busy machine may be slow to start them."""

    def read() -> None:
        with SQLiteCallTreeStore(path) as reader:
            def look() -> None:
                tree = reader.get_tree("t")
                seen.append(len(tree.nodes) if tree else 0)

            look()
            reading.wait(timeout=60)
            while not done.is_set():
                look()

    readers = [threading.Thread(target=read) for _ in range(2)]
    for thread in readers:
        thread.start()
    reading.wait(timeout=60)
    for i in range(60):
        tree = sample_tree("t")
        tree.nodes = tree.nodes[: 2 + i % 3]
        writer.put_tree(tree)
    done.set()
    for thread in readers:
        thread.join()
    writer.close()
    assert seen and set(seen) <= {0, 2, 3, 4}


def test_appending_grows_a_trace_updates_nodes_and_replaces_subtrees(store: CallTreeStore) -> None:
    tree = sample_tree()
    head = tree.model_copy(update={"nodes": [], "pool": [], "labels": {}, "success": None})
    root, search, critic, calc = tree.nodes
    store.append_nodes(head, [root.model_copy(update={"end": None, "status": "unset"}), search])
    assert [n.id for n in store.get_tree("trace-1").nodes] == ["root", "c1"]
    store.append_nodes(head, [critic, calc])
    store.append_nodes(head.model_copy(update={"success": True}), [root])  # the root ends: updated in place
    grown = store.get_tree("trace-1")
    assert sorted(n.id for n in grown.nodes) == ["c1", "c2", "c3", "root"] and grown.success is True
    assert grown.node("root") == root and store.stats().nodes == 4
    again = critic.model_copy(update={"name": "critic-2"})
    store.append_nodes(head, [again], replace=["c2"])  # made again: its old subtree goes
    replaced = store.get_tree("trace-1")
    assert sorted(n.id for n in replaced.nodes) == ["c1", "c2", "root"] and replaced.node("c2").name == "critic-2"


def test_appending_a_node_with_an_unknown_parent_is_refused(store: CallTreeStore) -> None:
    from coachgraph.errors import StoreError

    tree = sample_tree()
    head = tree.model_copy(update={"nodes": []})
    with pytest.raises((StoreError, ValueError)):
        store.append_nodes(head, [tree.nodes[3]])
    assert store.get_tree("trace-1") is None
