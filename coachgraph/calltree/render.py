"""Pictures of a calling tree: a rich `Tree` for terminals and a layered matplotlib PNG.

Both show node ids (what `recommend next --node` takes) and treat every name as plain text. The
PNG lays the tree out in layers by depth, left to right, one row per leaf, so that it stays
readable at hundreds of nodes; labels are cut with an ellipsis and a legend names the colours.
A tree too large for one picture is drawn up to `PNG_MAX_NODES` nodes (the HTML view in
`calltree.html_view` holds any size).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from rich.tree import Tree

from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["KIND_COLOURS", "PNG_MAX_NODES", "PngResult", "ellipsis", "layered_layout", "render_png",
           "rich_tree"]

logger = logging.getLogger(__name__)

KIND_STYLES: dict[str, str] = {
    "agent": "bold cyan", "tool": "green", "llm": "magenta", "chain": "blue",
    "retriever": "yellow", "skill": "bright_green", "handoff": "bold yellow", "other": "dim",
}
KIND_COLOURS: dict[str, str] = {
    "agent": "#4c9be8", "tool": "#5cb85c", "llm": "#b36ae2", "chain": "#7f8fa6",
    "retriever": "#f0ad4e", "skill": "#3cc47c", "handoff": "#e8c34c", "other": "#cccccc",
}
FAILED_COLOUR = "#d9534f"
PNG_MAX_NODES = 400
"""Most nodes one PNG draws (about 90 inches of rows at its largest); beyond, use the HTML view."""
LABEL_CHARS = 30
ROW_INCHES = 0.24
LAYER_INCHES = 2.6


def ellipsis(text: str, limit: int) -> str:
    """`text` on one line, cut to at most `limit` characters with a trailing ellipsis.

    >>> ellipsis("search_the_web_for_recent_news", 12)
    'search_the_…'
    >>> ellipsis("line one\\nline two", 40)
    'line one line two'
    """
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: max(limit - 1, 0)] + "…"


def _line(node: CallNode) -> Text:
    line = Text.assemble((node.id, "dim"), " ", (node.kind, KIND_STYLES[node.kind]), " ",
                         ellipsis(node.name, 80))
    if node.target and node.target != node.name:
        line.append(f" → {ellipsis(node.target, 60)}")
    if node.duration_s is not None:
        line.append(f" {node.duration_s:.2f}s", style="dim")
    if node.status == "error":
        line.append(" ✗ " + ellipsis(node.error or "error", 80), style="red")
    return line


def rich_tree(tree: CallTree, max_nodes: int = 500) -> Tree:
    """The trace as a rich `Tree` (at most `max_nodes` nodes, in call order), each line starting
    with the node id."""
    outcome = {True: ("success", "green"), False: ("failure", "red")}.get(tree.success, ("unknown", ""))
    top = Tree(Text.assemble((tree.trace_id, "bold"), " ", outcome, ": ", ellipsis(tree.task or "", 100)))
    branches: dict[str | None, Tree] = {None: top}
    for node in tree.nodes[:max_nodes]:
        parent = branches.get(node.parent_id, top)
        branches[node.id] = parent.add(_line(node))
    if len(tree.nodes) > max_nodes:
        top.add(Text(f"... {len(tree.nodes) - max_nodes} more nodes", style="dim"))
    return top


def _kept(tree: CallTree, max_nodes: int) -> list[CallNode]:
    """The first `max_nodes` nodes in call order whose ancestors are all kept (a connected top)."""
    kept: list[CallNode] = []
    ids: set[str] = set()
    for node in tree.nodes:
        if len(kept) == max_nodes:
            break
        if node.parent_id is None or node.parent_id in ids:
            kept.append(node)
            ids.add(node.id)
    return kept


def layered_layout(nodes: list[CallNode]) -> dict[str, tuple[float, float]]:
    """Node id → (layer, row): layer is the depth; leaves take consecutive rows in call order and
    a parent sits level with its first child, so no edges cross.

    >>> from coachgraph.calltree.schema import CallNode as N
    >>> layered_layout([N(id="r", trace_id="t"), N(id="a", parent_id="r", trace_id="t"),
    ...                 N(id="b", parent_id="r", trace_id="t")])
    {'a': (1.0, 0.0), 'b': (1.0, 1.0), 'r': (0.0, 0.0)}
    """
    children: dict[str | None, list[str]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node.id)
    pos: dict[str, tuple[float, float]] = {}
    row = 0.0
    # Iterative post-order (deep traces must not hit the recursion limit).
    stack: list[tuple[str, int, bool]] = [(v, 0, False) for v in reversed(children.get(None, []))]
    while stack:
        v, depth, expanded = stack.pop()
        kids = children.get(v, [])
        if not kids:
            pos[v], row = (float(depth), row), row + 1
        elif expanded:
            pos[v] = (float(depth), pos[kids[0]][1])
        else:
            stack.append((v, depth, True))
            stack.extend((c, depth + 1, False) for c in reversed(kids))
    return pos


@dataclass(frozen=True, slots=True)
class PngResult:
    """What `render_png` drew: the file, and how many nodes it drew of how many."""

    path: Path
    drawn: int
    total: int


def render_png(tree: CallTree, path: Path, max_nodes: int = PNG_MAX_NODES) -> PngResult:
    """Draw the trace as a layered tree (left to right, coloured by kind, with a legend) into a PNG.

    Trees of more than `max_nodes` nodes are drawn up to that many (the top of the tree in call
    order); the picture says how many were left out.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nodes = _kept(tree, max_nodes)
    pos = layered_layout(nodes)
    rows = 1 + max((y for _, y in pos.values()), default=0)
    layers = 1 + max((x for x, _ in pos.values()), default=0)
    fig, ax = plt.subplots(figsize=(max(6.0, LAYER_INCHES * layers + 1), max(2.5, ROW_INCHES * rows + 1.2)))
    _draw(ax, nodes, pos)
    _legend(ax, nodes)
    left_out = len(tree.nodes) - len(nodes)
    note = f"  ({left_out} more nodes not drawn: see the HTML view)" if left_out else ""
    outcome = {True: "success", False: "failure"}.get(tree.success, "unknown")
    ax.set_title(f"{ellipsis(tree.trace_id, 60)} · {outcome} · {len(tree.nodes)} nodes{note}\n"
                 f"{ellipsis(tree.task or '', 120)}", fontsize=9, loc="left", pad=20)
    ax.set_xlim(-0.3, layers - 0.2)
    ax.set_ylim(rows - 0.5, -0.7)
    ax.axis("off")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    logger.info("wrote %s (%d of %d nodes)", path, len(nodes), len(tree.nodes))
    return PngResult(path=path, drawn=len(nodes), total=len(tree.nodes))


def _draw(ax: object, nodes: list[CallNode], pos: dict[str, tuple[float, float]]) -> None:
    """Edges as a bus beside each parent with a branch to every child; dots; labels above the
    branch of their node, so that no label sits on a line."""
    for node in nodes:
        if node.parent_id is not None:
            (px, py), (cx, cy) = pos[node.parent_id], pos[node.id]
            bus = px + 0.06
            ax.plot([px, bus, bus, cx], [py, py, cy, cy], color="#9aa3ad", lw=0.7, zorder=1)  # type: ignore[attr-defined]
    for node in nodes:
        x, y = pos[node.id]
        failed = node.status == "error"
        ax.scatter([x], [y], s=40, color=KIND_COLOURS[node.kind], zorder=2,  # type: ignore[attr-defined]
                   edgecolors=FAILED_COLOUR if failed else "white", linewidths=1.6 if failed else 0.6)
        label = ellipsis(node.target or node.name or node.kind, LABEL_CHARS) + (" ✗" if failed else "")
        ax.text(x + 0.08, y - 0.1, label, fontsize=7.5, va="bottom", ha="left", zorder=3,  # type: ignore[attr-defined]
                color=FAILED_COLOUR if failed else "#222222", clip_on=False)


def _legend(ax: object, nodes: list[CallNode]) -> None:
    from matplotlib.lines import Line2D

    kinds = sorted({n.kind for n in nodes}, key=list(KIND_COLOURS).index)
    handles = [Line2D([], [], marker="o", ls="", color=KIND_COLOURS[k], label=k) for k in kinds]
    if any(n.status == "error" for n in nodes):
        handles.append(Line2D([], [], marker="o", ls="", color="white", markeredgecolor=FAILED_COLOUR,
                              markeredgewidth=1.6, label="failed (✗)"))
    # Above the drawing, under the title: never over a node.
    ax.legend(handles=handles, loc="lower left", fontsize=7.5, frameon=False,  # type: ignore[attr-defined]
              ncols=len(handles), bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2, handletextpad=0.2)
