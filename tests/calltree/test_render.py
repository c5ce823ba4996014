"""Calling-tree pictures stay readable at hundreds of nodes: the layered layout's guarantees, the
PNG of the largest real tree in the corpora, the cap with its HTML fallback, and the HTML view."""

from __future__ import annotations

import random
from pathlib import Path

import matplotlib.image
import pytest
from typer.testing import CliRunner

from coachgraph.calltree.html_view import tree_html
from coachgraph.calltree.ingest import ingest
from coachgraph.calltree.render import PNG_MAX_NODES, ROW_INCHES, layered_layout, render_png
from coachgraph.calltree.schema import CallNode, CallTree
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.cli.main import app


def random_tree(n: int, seed: int = 0, trace_id: str = "big") -> CallTree:
    rng = random.Random(seed)
    nodes = [CallNode(id="n0", trace_id=trace_id, kind="agent", name="orchestrator")]
    for i in range(1, n):
        parent = nodes[rng.randrange(max(0, i - 20), i)].id
        kind = rng.choice(["tool", "llm", "agent"])
        nodes.append(CallNode(id=f"n{i}", parent_id=parent, trace_id=trace_id, kind=kind,
                              name=f"{kind}_with_a_long_descriptive_name_{i}", status="error" if i % 17 == 0 else "ok"))
    return CallTree(trace_id=trace_id, task="a synthetic task", nodes=nodes)


def test_layered_layout_has_no_overlaps_and_no_crossings() -> None:
    tree = random_tree(500)
    pos = layered_layout(tree.nodes)
    assert len(set(pos.values())) == len(tree.nodes)
    for node in tree.nodes:
        kids = tree.children(node.id)
        x, y = pos[node.id]
        if node.parent_id is not None:
            assert x == pos[node.parent_id][0] + 1
        if kids:
            assert y == pos[kids[0].id][1]  # level with its first child
            rows = [pos[k.id][1] for k in kids]
            assert rows == sorted(rows)  # call order top to bottom
    # Each subtree owns a contiguous band of rows, so no edge crosses another.
    for node in tree.nodes:
        band = sorted(pos[d][1] for d in _subtree(tree, node.id))
        leaves = sorted({r for r in band})
        assert leaves == [float(r) for r in range(int(leaves[0]), int(leaves[-1]) + 1)]


def _subtree(tree: CallTree, node_id: str) -> list[str]:
    out, stack = [], [node_id]
    while stack:
        v = stack.pop()
        out.append(v)
        stack.extend(c.id for c in tree.children(v))
    return out


@pytest.mark.corpora
def test_the_largest_real_tree_is_drawn_whole_and_readable(corpora_dir: Path, tmp_path: Path) -> None:
    with SQLiteCallTreeStore(tmp_path / "tb.sqlite") as store:
        ingest(store, "toolbench-dfsdt", [corpora_dir / "toolbench_dfsdt_examples"])
        largest = max(store.iter_trees(), key=lambda t: len(t.nodes))
    assert len(largest.nodes) > 150
    drawn = render_png(largest, tmp_path / "largest.png")
    assert drawn.drawn == drawn.total == len(largest.nodes)
    height, width = matplotlib.image.imread(drawn.path).shape[:2]
    rows = 1 + max(y for _, y in layered_layout(largest.nodes).values())
    assert height >= rows * ROW_INCHES * 100 * 0.9  # about 24 pixels a row: one label each, no overlap
    assert width < 8000 and height < 8000


def test_a_tree_too_large_for_a_png_gets_the_html_view_beside_it(tmp_path: Path) -> None:
    store = tmp_path / "s.sqlite"
    with SQLiteCallTreeStore(store) as opened:
        opened.put_tree(random_tree(PNG_MAX_NODES + 300))
    result = CliRunner().invoke(app, ["calltree", "show", "--store", str(store), "big", "--max-nodes", "5",
                                      "--png", str(tmp_path / "big.png")])
    assert result.exit_code == 0, result.output
    assert f"({PNG_MAX_NODES} of {PNG_MAX_NODES + 300} nodes)" in result.stdout
    assert f"(all {PNG_MAX_NODES + 300} nodes)" in result.stdout
    assert (tmp_path / "big.html").read_text().count("<li ") == PNG_MAX_NODES + 300
    assert "... 695 more nodes" in result.stdout


def test_html_view_escapes_every_text_and_survives_deep_chains() -> None:
    nodes = [CallNode(id="r", trace_id="t", name="<script>alert(1)</script>", inputs={"q": "</pre><b>x"})]
    nodes += [CallNode(id=f"d{i}", parent_id=nodes[-1].id if i == 0 else f"d{i - 1}", trace_id="t")
              for i in range(3000)]
    page = tree_html(CallTree(trace_id="t", task="<img src=x onerror=alert(2)>", nodes=nodes))
    assert "<script>alert" not in page and "<img src=x" not in page and "</pre><b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert page.count("<li ") == 3001
