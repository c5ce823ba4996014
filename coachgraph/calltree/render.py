"""Pictures of a calling tree: a rich `Tree` for terminals and a matplotlib PNG."""

from __future__ import annotations

import logging
from pathlib import Path

import networkx as nx
from rich.markup import escape
from rich.tree import Tree

from coachgraph.calltree.analysis import node_label
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["render_png", "rich_tree"]

logger = logging.getLogger(__name__)

KIND_STYLES: dict[str, str] = {
    "agent": "bold cyan", "tool": "green", "llm": "magenta", "chain": "blue",
    "retriever": "yellow", "skill": "bright_green", "handoff": "bold yellow", "other": "dim",
}
KIND_COLOURS: dict[str, str] = {
    "agent": "#4c9be8", "tool": "#5cb85c", "llm": "#b36ae2", "chain": "#7f8fa6",
    "retriever": "#f0ad4e", "skill": "#3cc47c", "handoff": "#e8c34c", "other": "#cccccc",
}


def _line(node: CallNode) -> str:
    status = {"error": " [red]✗[/]", "ok": ""}.get(node.status, "")
    duration = f" [dim]{node.duration_s:.2f}s[/]" if node.duration_s is not None else ""
    target = f" → {escape(node.target)}" if node.target and node.target != node.name else ""
    return (f"[{KIND_STYLES[node.kind]}]{node.kind}[/] {escape(node.name[:80])}{target}"
            f"{duration}{status}")


def rich_tree(tree: CallTree, max_nodes: int = 500) -> Tree:
    """The trace as a rich `Tree` (at most `max_nodes` nodes, in call order)."""
    outcome = {True: "[green]success[/]", False: "[red]failure[/]"}.get(tree.success, "unknown")
    top = Tree(f"[bold]{escape(tree.trace_id)}[/] {outcome}: {escape((tree.task or '')[:100])}")
    branches: dict[str | None, Tree] = {None: top}
    for node in tree.nodes[:max_nodes]:
        parent = branches.get(node.parent_id, top)
        branches[node.id] = parent.add(_line(node))
    if len(tree.nodes) > max_nodes:
        top.add(f"[dim]... {len(tree.nodes) - max_nodes} more nodes[/]")
    return top


def _layout(G: nx.DiGraph) -> dict[str, tuple[float, float]]:
    """Leaves spread left to right in call order, parents centred above their children."""
    pos: dict[str, tuple[float, float]] = {}
    next_x = [0.0]

    def place(v: str, depth: int) -> float:
        kids = sorted(G.successors(v), key=lambda c: G.nodes[c]["order"])
        xs = [place(c, depth + 1) for c in kids]
        x = sum(xs) / len(xs) if xs else next_x[0]
        next_x[0] += 0 if xs else 1.0
        pos[v] = (x, -float(depth))
        return x

    for root in sorted((v for v in G if G.in_degree(v) == 0), key=lambda v: G.nodes[v]["order"]):
        place(root, 0)
    return pos


def render_png(tree: CallTree, path: Path) -> Path:
    """Draw the trace as a top-down tree, coloured by kind, into a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    G = tree.graph()
    pos = _layout(G)
    width = min(60.0, 2 + 0.9 * max((x for x, _ in pos.values()), default=1))
    depth = 1 + max((-y for _, y in pos.values()), default=0)
    fig, ax = plt.subplots(figsize=(max(6.0, width), max(3.0, 1.1 * depth)))
    colours = [KIND_COLOURS[G.nodes[v]["kind"]] for v in G]
    labels = {v: node_label(G.nodes[v])[:18] for v in G}
    nx.draw_networkx(G, pos, ax=ax, node_color=colours, labels=labels, font_size=7,
                     node_size=500, arrows=False)
    ax.set_title((tree.task or tree.trace_id)[:90], fontsize=9)
    ax.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    logger.info("wrote %s", path)
    return path
