"""LangGraph structure in foreign traces: which agent acts in each call, handoffs, control flow.

Tracing clients record a LangGraph program run by run (graph, node, model, tool) and say in
their own words which agent a run belongs to: an agent name attribute, LangChain's run metadata
(`lc_agent_name`, `langgraph_checkpoint_ns`, `langgraph_node`, `thread_id`), or a path of entity
names. Each reader collects these as `Hints`; `refine` then settles, once per trace and the same
way for every client:

- the agent of every node: the name the client declares for it, else `lc_agent_name`, else the
  checkpoint namespace (a node that runs a subgraph is that agent; a step inside a subgraph,
  such as `model` or `tools`, belongs to the node hosting it), else `langgraph_node`, else the
  name of a span its client marks as an agent's, else the path, else the agent of its parent;
- one `agent` node per activation: a graph or chain run whose agent differs from its parent's
  becomes `agent`, other graph and chain runs are `chain`;
- handoffs: a tool that returns a LangGraph `Command` with a `goto` (or, where the result was
  not recorded, a `transfer_to_X` / `transfer_back_to_X` tool) is a `handoff` node from its
  agent to the target (`attributes["to_agent"]`); a client's own record of a `Command(goto=...)`
  is one too when its target is an agent of the trace and no handoff already names it;
- LangGraph's control-flow signals (`ParentCommand`, which a handoff raises through the agent's
  graph, and interrupts) are not errors: the node ended by handing over control.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CONTROL_FLOW",
    "HANDOFF_PREFIXES",
    "Hints",
    "command_goto",
    "is_control_flow",
    "refine",
    "session_of",
]

HANDOFF_PREFIXES = ("transfer_to_", "transfer_back_to_")
"""Handoff tool names as LangGraph's multi-agent guides and `langgraph-supervisor` make them."""

CONTROL_FLOW = frozenset({"ParentCommand", "GraphInterrupt", "NodeInterrupt", "GraphBubbleUp"})
"""LangGraph exceptions that carry control flow, not failure."""

_CONTROL_MESSAGE = re.compile(r"^(?:ParentCommand|GraphInterrupt|NodeInterrupt|Command)\(")
"""How those exceptions read where a client records only the message (`repr` or `str`)."""

_PARENT = "__parent__"
"""How LangGraph writes `Command.PARENT`."""

_AGENT_STEPS = frozenset({"model", "tools", "agent"})
"""Node names of the model and tool steps in LangChain's `create_agent` and LangGraph's
`create_react_agent` graphs: a step, never an agent, when seen at the top of a namespace."""

_SESSION_KEYS = ("thread_id", "session_id", "conversation_id")
"""Metadata keys that name a conversation, in LangSmith's order of precedence."""


@dataclass(slots=True)
class Hints:
    """What one span or run says about the LangGraph structure around it."""

    metadata: Mapping[str, Any] = field(default_factory=dict)
    """LangChain run metadata (`lc_agent_name`, `langgraph_node`, `langgraph_checkpoint_ns`...)."""
    error_type: str | None = None
    """The exception type recorded for the span, when the client records one."""
    goto: str | None = None
    """The target of a LangGraph `Command` this span records (a client's own goto record)."""
    path: tuple[str, ...] = ()
    """Names of the entities from the trace's root down to this span (Traceloop's entity path)."""
    agent_span: str | None = None
    """The span's own name, when its client marks it as an agent's span without naming the
    agent (an OpenInference `AGENT` span, an unnamed `invoke_agent`)."""


def is_control_flow(error_type: str | None, message: str | None) -> bool:
    """Whether an error is LangGraph handing over control rather than a failure.

    >>> is_control_flow("langgraph.errors.ParentCommand", None)
    True
    >>> is_control_flow(None, "Command(graph='g', goto='b')")
    True
    >>> is_control_flow("ZeroDivisionError", "float division by zero")
    False
    """
    if error_type and error_type.rsplit(".", 1)[-1] in CONTROL_FLOW:
        return True
    return bool(message and _CONTROL_MESSAGE.match(message))


def command_goto(value: Any, *, parent: bool = False) -> str | None:
    """The first `goto` target of a LangGraph `Command` as clients serialize it, else None.

    A tool's result may be wrapped as `{"output": ...}`; a target is a node name or a `Send`.
    With `parent`, only a command to the parent graph (`Command.PARENT`) counts: a tool's
    command to its own graph moves within the agent, one to the parent hands over.

    >>> command_goto({"graph": "__parent__", "update": {}, "goto": "researcher"}, parent=True)
    'researcher'
    >>> command_goto({"output": {"graph": None, "goto": [{"node": "b", "arg": {}}]}})
    'b'
    >>> command_goto({"graph": None, "goto": "model"}, parent=True) is None
    True
    """
    if isinstance(value, Mapping) and set(value) == {"output"}:
        value = value["output"]
    if not isinstance(value, Mapping) or "goto" not in value or not {"graph", "update"} & set(value):
        return None
    if parent and value.get("graph") != _PARENT:
        return None
    targets = value["goto"] if isinstance(value["goto"], list) else [value["goto"]]
    for target in targets:
        name = target.get("node") if isinstance(target, Mapping) else target
        if isinstance(name, str) and name:
            return name
    return None


def session_of(metadata: Mapping[str, Any]) -> str | None:
    """The conversation a run belongs to, from LangChain metadata (`thread_id` first).

    >>> session_of({"session_id": "s", "thread_id": "t"})
    't'
    """
    value = next((metadata[k] for k in _SESSION_KEYS if metadata.get(k)), None)
    return str(value) if value is not None else None


def _handoff_target(tool: dict[str, Any]) -> str | None:
    """Where a tool call hands over to: its command's target, else the one its name gives."""
    target = command_goto(tool.get("outputs"), parent=True)
    if target is not None:
        return target
    name = str(tool.get("tool") or tool.get("name") or "")
    prefix = next((p for p in HANDOFF_PREFIXES if name.startswith(p)), None)
    return (name.removeprefix(prefix) or None) if prefix else None


def _namespace_agent(ns: tuple[str, ...], hosts: set[tuple[str, ...]]) -> str | None:
    """The agent of a run in task namespace `ns`: the node itself when it runs a subgraph,
    else the node hosting its graph; a top-level agent step names none."""
    if ns in hosts:
        return _segment_name(ns[-1])
    if len(ns) > 1:
        return _segment_name(ns[-2])
    return None if _segment_name(ns[0]) in _AGENT_STEPS else _segment_name(ns[0])


def _namespace(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """`langgraph_checkpoint_ns` split into `node:task` segments (empty when absent)."""
    raw = metadata.get("langgraph_checkpoint_ns")
    return tuple(p for p in raw.split("|") if p) if isinstance(raw, str) else ()


def _segment_name(segment: str) -> str:
    return segment.split(":", 1)[0]


class _Resolver:
    """Agent names for the nodes of one trace, each resolved once (parents first)."""

    def __init__(self, nodes: list[dict[str, Any]], hints: list[Hints]) -> None:
        self.nodes, self.hints = nodes, hints
        self.index = {n["id"]: i for i, n in enumerate(nodes)}
        namespaces = [_namespace(h.metadata) for h in hints]
        self.hosts = {ns[:k] for ns in namespaces for k in range(1, len(ns))}
        self.namespaces = namespaces
        self.declared = {n["agent"] for n in nodes if n.get("agent")}
        self.agents: dict[int, str | None] = {}

    def parent(self, i: int) -> int | None:
        return self.index.get(self.nodes[i].get("parent_id"))

    def agent(self, i: int) -> str | None:
        """The agent of node `i`; raises ValueError where parent links form a cycle (read
        from a malformed trace), which no node's agent could be settled in."""
        chain: dict[int, None] = {}
        current: int | None = i
        while current is not None and current not in self.agents:
            if current in chain:
                raise ValueError(f"parent cycle through node {self.nodes[current]['id']!r}")
            chain[current] = None
            current = self.parent(current)
        for j in reversed(chain):
            above = self.parent(j)
            self.agents[j] = self._own(j) or (self.agents[above] if above is not None else None)
        return self.agents[i]

    def _own(self, i: int) -> str | None:
        """The agent a node names by itself (None: the parent's agent)."""
        node, hints = self.nodes[i], self.hints[i]
        named = node.get("agent") or hints.metadata.get("lc_agent_name")
        if named:
            return str(named)
        if self.namespaces[i]:
            return _namespace_agent(self.namespaces[i], self.hosts)
        graph_node = hints.metadata.get("langgraph_node")
        if isinstance(graph_node, str) and graph_node and graph_node not in _AGENT_STEPS:
            return graph_node
        return hints.agent_span or next((p for p in reversed(hints.path) if p in self.declared),
                                        None)


def _clear_control_flow(node: dict[str, Any], hints: Hints) -> None:
    """A node that ended by handing over control is not failed; what it raised is kept."""
    error = node.get("error")
    if node.get("status") == "error" and is_control_flow(hints.error_type, error):
        signal = (hints.error_type or str(error).split("(", 1)[0]).rsplit(".", 1)[-1]
        node["status"], node["error"] = "ok", None
        node["attributes"] = {**node.get("attributes", {}), "control_flow": signal}


def refine(nodes: Sequence[dict[str, Any]], hints: Sequence[Hints]) -> None:
    """Settle agents, agent nodes, handoffs and control flow of one trace's node fields in place.

    `nodes` are `CallNode` field dicts in call order, each with `id`, `parent_id`, `kind`,
    `name` and, where the client names one, `agent`; `hints[i]` belongs to `nodes[i]`.
    Raises ValueError where the parent links form a cycle.
    """
    nodes, hints = list(nodes), list(hints)
    for node, hint in zip(nodes, hints, strict=True):
        _clear_control_flow(node, hint)
    resolver = _Resolver(nodes, hints)
    agents = [resolver.agent(i) for i in range(len(nodes))]
    seen_agents = {a for a in agents if a}
    handed: set[tuple[int | None, str]] = set()
    for i, node in enumerate(nodes):
        above = resolver.parent(i)
        parent_agent = agents[above] if above is not None else None
        node["agent"] = agents[i]
        if node.get("kind") in ("chain", "agent"):
            node["kind"] = "agent" if agents[i] and agents[i] != parent_agent else "chain"
        _mark_handoff(node, hints[i], _activation(resolver, agents, i), handed, seen_agents)


def _activation(resolver: _Resolver, agents: list[str | None], i: int) -> int | None:
    """The outermost node of the agent activation node `i` belongs to."""
    current: int | None = i
    while current is not None:
        above = resolver.parent(current)
        if above is None or agents[above] != agents[current]:
            return current
        current = above
    return None


def _mark_handoff(node: dict[str, Any], hints: Hints, activation: int | None,
                  handed: set[tuple[int | None, str]], agents: set[str]) -> None:
    if node.get("kind") == "tool":
        target = _handoff_target(node)
    elif hints.goto and hints.goto in agents:
        target = hints.goto
    else:
        return
    if target is None or (hints.goto and (activation, target) in handed):
        return
    handed.add((activation, target))
    node["kind"] = "handoff"
    node["attributes"] = {**node.get("attributes", {}), "to_agent": target}
