"""A trace's team as a directed subgraph: its members and who called whom.

The members of a trace are the agents, tools and skills it called, and the agents a handoff
passed control to. Each call is attributed to one caller: the agent of the handoff that passed
control to it (a handoff's target agent may run anywhere in the tree, as LangGraph runs it
beside the supervisor), else the nearest enclosing call of another member (a tool under the
agent that called it, a handoff's nested target under the handoff), else the trace's entry
(`ENTRY`, whoever ran the team: the root of the calling tree). Every handoff is an edge from its
agent to its target. The edges, entry edges included, are the team's call structure: in a
calling tree with a supervisor they read ``ENTRY -> supervisor -> worker -> tool``. The order
in which members were first called is kept too: a supervisor that calls a parser and then a
calculator gives both an edge from itself, and only the order says which comes first.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from coachgraph.calltree.schema import CallNode, CallTree

__all__ = ["CALL_KINDS", "ENTRY", "TeamStructure", "reachable", "reached", "team_structure"]

ENTRY = "<entry>"
"""The caller of a team's first members: whoever ran the trace (the calling tree's root)."""
CALL_KINDS = ("agent", "tool", "skill")
"""Node kinds whose target is a member."""


@dataclass(frozen=True, slots=True)
class TeamStructure:
    """Members and directed caller -> callee edges (callers are members or `ENTRY`)."""

    members: frozenset[str]
    edges: frozenset[tuple[str, str]]
    order: tuple[str, ...] = field(default=(), compare=False)
    """The members in the order of their first call (empty where unknown)."""


def _handoff_target(node: CallNode) -> str | None:
    target = node.attributes.get("to_agent") if node.kind == "handoff" else None
    return target if isinstance(target, str) and target else None


def _enclosing(node: CallNode, index: dict[str, CallNode], own: str) -> str:
    """The nearest enclosing call (or handoff, by its agent) of another target than `own`."""
    current = index.get(node.parent_id) if node.parent_id else None
    while current is not None:
        label = current.agent if current.kind == "handoff" else current.target if current.kind in CALL_KINDS else None
        if label and label != own:
            return label
        current = index.get(current.parent_id) if current.parent_id else None
    return ENTRY


def team_structure(tree: CallTree) -> TeamStructure:
    """The team of `tree` and its call structure (see the module docstring).

    >>> from coachgraph.calltree.schema import CallNode, CallTree
    >>> n = [CallNode(id="r", trace_id="t", kind="chain", name="graph"),
    ...      CallNode(id="s", parent_id="r", trace_id="t", kind="agent", agent="sup"),
    ...      CallNode(id="h", parent_id="s", trace_id="t", kind="handoff", agent="sup",
    ...               attributes={"to_agent": "math"}),
    ...      CallNode(id="m", parent_id="r", trace_id="t", kind="agent", agent="math"),
    ...      CallNode(id="c", parent_id="m", trace_id="t", kind="tool", agent="math", tool="calc")]
    >>> team = team_structure(CallTree(trace_id="t", nodes=n))
    >>> sorted(team.edges), team.order
    ([('<entry>', 'sup'), ('math', 'calc'), ('sup', 'math')], ('sup', 'math', 'calc'))
    """
    index = {n.id: n for n in tree.nodes}
    pending: defaultdict[str, deque[str]] = defaultdict(deque)
    members: dict[str, None] = {}
    edges: set[tuple[str, str]] = set()
    for node in tree.nodes:
        target = _handoff_target(node)
        if target is not None and node.agent:
            pending[target].append(node.agent)
            members.update(dict.fromkeys((node.agent, target)))
            if node.agent != target:
                edges.add((node.agent, target))
            continue
        own = node.target if node.kind in CALL_KINDS else None
        if not own:
            continue
        members[own] = None
        caller = pending[own].popleft() if pending.get(own) else _enclosing(node, index, own)
        if caller != own:
            edges.add((caller, own))
    return TeamStructure(frozenset(members), frozenset(edges), tuple(members))


def reached(edges: Iterable[tuple[str, str]]) -> set[str]:
    """`ENTRY` and everything reached from it along `edges`.

    >>> sorted(reached([(ENTRY, "a"), ("a", "b"), ("c", "d")]))
    ['<entry>', 'a', 'b']
    """
    out: defaultdict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        out[a].add(b)
    seen, todo = {ENTRY}, [ENTRY]
    while todo:
        for b in out[todo.pop()] - seen:
            seen.add(b)
            todo.append(b)
    return seen


def reachable(members: Iterable[str], edges: Iterable[tuple[str, str]]) -> bool:
    """Whether every member can be reached from `ENTRY` along `edges` (the team is one call graph).

    >>> reachable(["a", "b"], [(ENTRY, "a"), ("a", "b")]), reachable(["a", "b"], [(ENTRY, "a")])
    (True, False)
    """
    return set(members) <= reached(edges)
