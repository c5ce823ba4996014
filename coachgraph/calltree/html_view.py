"""A calling tree as one self-contained HTML page: for trees no picture can hold.

The page needs no network: nested `<details>` elements fold and unfold subtrees, each node shows
its kind, name, target, id, duration and status, and opens onto its inputs, outputs and error
(each cut to `FIELD_CHARS`). A filter box shows the nodes whose line contains a text. Every text
from the trace is HTML-escaped, so no stored value can inject markup or script.
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

from coachgraph.calltree.render import KIND_COLOURS, ellipsis
from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["FIELD_CHARS", "tree_html", "write_html"]

logger = logging.getLogger(__name__)

FIELD_CHARS = 2000
"""Most characters shown of a node's inputs, outputs or error."""

_STYLE = """
body{font:13px/1.45 system-ui,sans-serif;margin:1.2em;color:#222}
h1{font-size:16px;margin:0 0 .2em} .task{margin:0 0 .6em;white-space:pre-wrap}
ul{list-style:none;margin:0;padding-left:1.3em;border-left:1px solid #d0d5da}
li{margin:1px 0} summary{cursor:pointer} summary.leaf{list-style:none}
.kind{display:inline-block;padding:0 .4em;border-radius:3px;font-size:11px;color:#fff;margin-right:.3em}
.id{color:#888;font-family:monospace;margin-right:.4em} .dur{color:#888}
.err{color:#c9302c;font-weight:600} .hide{display:none}
pre{background:#f6f8fa;border:1px solid #e1e4e8;padding:.4em;margin:.2em 0 .4em;max-height:18em;
overflow:auto;white-space:pre-wrap;word-break:break-word;font-size:12px}
.legend span{margin-right:.8em} #filter{margin:.4em 0 .8em;width:24em}
"""

_SCRIPT = """
const box = document.getElementById('filter');
box.addEventListener('input', () => {
  const q = box.value.toLowerCase();
  for (const li of document.querySelectorAll('li[data-line]')) {
    const hit = !q || li.dataset.line.includes(q) || li.querySelector('li[data-line*="' + CSS.escape(q) + '"]');
    li.classList.toggle('hide', !hit);
    if (q && hit) { const d = li.querySelector(':scope > details'); if (d) d.open = true; }
  }
});
"""


def _field(label: str, value: Any) -> str:
    if value in (None, "", {}, []):
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1, default=str)
    shown = text if len(text) <= FIELD_CHARS else text[:FIELD_CHARS] + f"… ({len(text):,} characters in all)"
    return f"<div>{label}</div><pre>{html.escape(shown)}</pre>"


def _summary(node: CallNode) -> str:
    colour = KIND_COLOURS[node.kind]
    parts = [f'<span class="kind" style="background:{colour}">{node.kind}</span>',
             f'<span class="id">{html.escape(node.id)}</span>', html.escape(ellipsis(node.name, 120))]
    if node.target and node.target != node.name:
        parts.append(" → " + html.escape(ellipsis(node.target, 80)))
    if node.duration_s is not None:
        parts.append(f' <span class="dur">{node.duration_s:.2f}s</span>')
    if node.status == "error":
        parts.append(' <span class="err">✗ failed</span>')
    return "".join(parts)


def _node_open(node: CallNode, has_children: bool) -> str:
    line = html.escape(f"{node.id} {node.kind} {node.name} {node.target or ''}".lower(), quote=True)
    body = "".join([_field("error", node.error), _field("inputs", node.inputs),
                    _field("outputs", node.outputs)])
    leaf = "" if has_children or body else ' class="leaf"'
    return (f'<li data-line="{line}"><details{" open" if has_children else ""}>'
            f"<summary{leaf}>{_summary(node)}</summary>{body}" + ("<ul>" if has_children else ""))


def _nodes_html(tree: CallTree) -> list[str]:
    """The nested list of nodes, built without recursion (traces can be thousands deep)."""
    children: dict[str | None, list[CallNode]] = {}
    for node in tree.nodes:
        children.setdefault(node.parent_id, []).append(node)
    parts: list[str] = []
    stack: list[CallNode | str] = [*reversed(children.get(None, []))]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            parts.append(item)
            continue
        kids = children.get(item.id, [])
        parts.append(_node_open(item, bool(kids)))
        stack.append("</ul></details></li>" if kids else "</details></li>")
        stack.extend(reversed(kids))
    return parts


def tree_html(tree: CallTree) -> str:
    """The page for `tree`, as text."""
    outcome = {True: "success", False: "failure"}.get(tree.success, "unknown")
    kinds = sorted({n.kind for n in tree.nodes}, key=list(KIND_COLOURS).index)
    legend = "".join(f'<span><span class="kind" style="background:{KIND_COLOURS[k]}">{k}</span></span>'
                     for k in kinds)
    title = html.escape(tree.trace_id)
    return "".join([
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>',
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>{title} · {outcome} · {len(tree.nodes)} nodes</h1>",
        f'<p class="task">{html.escape(tree.task or "")}</p>',
        f'<div class="legend">{legend}<span class="err">✗ failed</span></div>',
        '<input id="filter" type="search" placeholder="show nodes whose line contains…">',
        "<ul>", *_nodes_html(tree), "</ul>",
        f"<script>{_SCRIPT}</script></body></html>\n",
    ])


def write_html(tree: CallTree, path: Path) -> Path:
    """Write `tree_html(tree)` to `path` (parent folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tree_html(tree), encoding="utf-8")
    logger.info("wrote %s (%d nodes)", path, len(tree.nodes))
    return path
