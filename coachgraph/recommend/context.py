"""What a recommender may know at a decision: the trace's past, never the choice or its future.

A `DecisionContext` is built from the nodes called *before* the chosen call (its ancestors,
earlier siblings and earlier nodes of the trace) and from the task text. The chosen node, its
subtree and later nodes are never read, so no feature can see the label. Handoff nodes (such as
``Orchestrator (-> WebSurfer)``, or a supervisor's ``transfer_to_web_surfer`` tool call) name
their target in their own name and text, so they enter a context only as ``handoff:<caller>``;
the decision at a handoff (which agent it hands to) sees the trace up to the handoff.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from coachgraph.calltree.schema import CallNode, CallTree, DecisionPoint

__all__ = [
    "HANDOFF",
    "DecisionContext",
    "Example",
    "context_label",
    "contexts_from_tree",
    "next_context",
    "root_context",
    "task_text",
]

HANDOFF = "handoff:"
"""Prefix of a handoff's context label (`context_label`), followed by the handing agent."""
MAX_PATH = 16
"""Earlier calls kept in `DecisionContext.path` (the most recent ones)."""
TEXT_CHARS = 400
"""Characters of a parent's inputs kept as the local subtask text."""


@dataclass(frozen=True, slots=True)
class DecisionContext:
    """The state of a trace just before one agent/tool is chosen."""

    trace_id: str
    """The trace the decision belongs to."""
    task: str
    """The trace's task text."""
    kind: str
    """What is chosen: ``agent``, ``tool`` or ``skill``."""
    candidates: tuple[str, ...]
    """Names that could be chosen; empty means the whole catalogue of `kind`. A source's list of
    one name (a trace without a pool lists only the chosen one) is taken as empty, since it
    would hand over the answer."""
    parent: str = ""
    """Context label of the calling node (empty at the root)."""
    local_text: str = ""
    """Text of the calling node's own request: the local subtask."""
    ancestors: tuple[str, ...] = ()
    """Context labels from the root down to the parent."""
    siblings: tuple[str, ...] = ()
    """Labels of the parent's earlier calls, in call order."""
    path: tuple[str, ...] = ()
    """Labels of the trace's earlier calls in call order (the last `MAX_PATH`)."""
    depth: int = 1
    """Depth of the call being chosen (the root's children have depth 1)."""


@dataclass(frozen=True, slots=True)
class Example:
    """A decision with its answer: training and evaluation data, never a feature input."""

    context: DecisionContext
    chosen: str


def context_label(node: CallNode) -> str:
    """The label a node contributes to later contexts (its target; handoffs only by caller).

    >>> context_label(CallNode(id="h", trace_id="t", kind="handoff", name="A (-> B)", agent="A"))
    'handoff:A'
    """
    if node.kind in ("agent", "tool", "skill") and node.target:
        return node.target
    if node.kind == "handoff":
        return f"{HANDOFF}{node.agent or ''}"
    return f"{node.kind}:{node.agent or node.name}"


def task_text(tree: CallTree) -> str:
    """The trace's task, else its first root's inputs (sources such as agent-rec omit the task)."""
    if tree.task:
        return tree.task
    roots = tree.roots()
    return str(roots[0].inputs)[:TEXT_CHARS] if roots and roots[0].inputs is not None else ""


def _local_text(node: CallNode | None) -> str:
    if node is None or node.kind == "handoff":
        return ""
    inputs = "" if node.inputs is None else str(node.inputs)[:TEXT_CHARS]
    return f"{context_label(node)} {inputs}".strip()


def _ancestors(tree_nodes: dict[str, CallNode], node_id: str | None) -> list[CallNode]:
    chain: list[CallNode] = []
    while node_id is not None:
        node = tree_nodes[node_id]
        chain.append(node)
        node_id = node.parent_id
    return chain[::-1]


def _context(
    tree: CallTree, index: dict[str, CallNode], parent_id: str | None, slot: int,
    decision: DecisionPoint,
) -> DecisionContext:
    """Context of the call at `slot` (its position in stored order) under `parent_id`."""
    earlier = tree.nodes[:slot]
    ancestors = _ancestors(index, parent_id)
    siblings = [n for n in earlier if n.parent_id == parent_id and n.kind in ("agent", "tool", "skill")]
    calls = [context_label(n) for n in earlier if n.kind in ("agent", "tool", "skill") and n.target]
    parent = index[parent_id] if parent_id is not None else None
    return DecisionContext(
        trace_id=tree.trace_id, task=task_text(tree), kind=decision.kind,
        candidates=tuple(decision.candidates) if len(set(decision.candidates)) > 1 else (),
        parent=context_label(parent) if parent is not None else "",
        local_text=_local_text(parent), ancestors=tuple(context_label(a) for a in ancestors),
        siblings=tuple(context_label(s) for s in siblings), path=tuple(calls[-MAX_PATH:]),
        depth=len(ancestors) if parent is not None else 1,
    )


def _slots(tree: CallTree, decisions: Sequence[DecisionPoint], order: dict[str, int]) -> list[tuple[str | None, int]]:
    """Where each decision's call sits: its chosen node, else the i-th call under its node.

    Decisions stated without `chosen_node` are matched to calls by position alone, so that
    where a context ends never depends on which name was chosen.
    """
    calls: defaultdict[str, list[int]] = defaultdict(list)
    for i, node in enumerate(tree.nodes):
        if node.parent_id is not None and node.kind in ("agent", "tool", "skill"):
            calls[node.parent_id].append(i)
    used: defaultdict[str, int] = defaultdict(int)
    slots: list[tuple[str | None, int]] = []
    for d in decisions:
        if d.chosen_node is not None and d.chosen_node in order:
            slots.append((tree.nodes[order[d.chosen_node]].parent_id, order[d.chosen_node]))
            continue
        seen, under = used[d.node], calls.get(d.node, [])
        used[d.node] += 1
        slots.append((d.node if d.node in order else None, under[seen] if seen < len(under) else _end(tree, order, d.node)))
    return slots


def _end(tree: CallTree, order: dict[str, int], node_id: str | None) -> int:
    """Where the past of the next call under `node_id` ends: after the node itself for a handoff
    (the call it hands to comes next, whatever the trace stored later), else after the trace."""
    if node_id in order and tree.nodes[order[node_id]].kind == "handoff":
        return order[node_id] + 1
    return len(tree.nodes)


def contexts_from_tree(tree: CallTree, decisions: Sequence[DecisionPoint]) -> list[Example]:
    """One `Example` per decision of `tree`, each context built from the trace's past only."""
    order = {n.id: i for i, n in enumerate(tree.nodes)}
    index = {n.id: n for n in tree.nodes}
    return [
        Example(_context(tree, index, parent_id, slot, d), d.chosen)
        for d, (parent_id, slot) in zip(decisions, _slots(tree, decisions, order), strict=True)
    ]


def next_context(tree: CallTree, node_id: str | None, kind: str = "agent",
                 candidates: Iterable[str] = ()) -> DecisionContext:
    """The context of the next call under `node_id` (`None`: a new root call) after everything stored.

    Under a handoff node the next call is the agent it hands to, so its past ends at the handoff:
    asked of a stored trace, it is the decision the handoff made, with nothing later seen.
    """
    index = {n.id: n for n in tree.nodes}
    if node_id is not None and node_id not in index:
        raise KeyError(node_id)
    decision = DecisionPoint(node=node_id or "", candidates=list(candidates), chosen="", kind=kind)  # type: ignore[arg-type]
    order = {n.id: i for i, n in enumerate(tree.nodes)}
    return _context(tree, index, node_id, _end(tree, order, node_id), decision)


def root_context(trace_id: str, task: str, candidates: Iterable[str], kind: str = "agent",
                 root: str = "") -> DecisionContext:
    """The context of a fresh task under a root labelled `root`: nothing called yet."""
    return DecisionContext(trace_id=trace_id, task=task, kind=kind, candidates=tuple(candidates),
                           parent=root, local_text=task, ancestors=(root,) if root else (),
                           path=(root,) if root and ":" not in root else ())
