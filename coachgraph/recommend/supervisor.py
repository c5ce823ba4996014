"""A recommended team as a LangGraph supervisor graph, ready to compile.

The supervisor routes among the team members: by default it gives each member one turn in the
order of the team's call structure (members the team's caller calls first, then those they
call; likelier calls first), then ends; a caller may pass its own router (for instance an LLM that reads the
messages). Members are the caller's runnables or callables taking and returning state updates.
"""

from __future__ import annotations

import operator
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypedDict

from langchain_core.runnables import Runnable
from langgraph.graph import END, START, StateGraph

from coachgraph.recommend.team import Team

__all__ = ["SUPERVISOR", "TeamState", "build_supervisor", "call_order", "node_name", "round_robin"]

SUPERVISOR = "supervisor"
"""Name of the routing node."""

Member = Runnable[Any, Any] | Callable[[Any], Any]


class TeamState(TypedDict, total=False):
    """State shared by the supervisor and the members (JSON values only)."""

    task: str
    messages: Annotated[list[Any], operator.add]
    visited: Annotated[list[str], operator.add]
    next: str


def node_name(member: str) -> str:
    """The graph node of a member: LangGraph reserves ``:`` and ``|`` in node names.

    >>> node_name("code_action:bash")
    'code_action_bash'
    """
    return member.replace(":", "_").replace("|", "_")


def call_order(team: Team) -> list[str]:
    """The members breadth-first along the team's call edges from its caller, likelier calls first;
    members no edge reaches follow, likeliest first.

    >>> from coachgraph.recommend.team import TeamEdge, TeamMember
    >>> t = Team(nodes=[TeamMember(name=n, probability=p) for n, p in (("w", 0.9), ("s", 0.8))],
    ...          edges=[TeamEdge(source="<entry>", target="s", probability=0.9),
    ...                 TeamEdge(source="s", target="w", probability=0.7)], score=0.0, connected=True)
    >>> call_order(t)
    ['s', 'w']
    """
    callees: defaultdict[str, list[tuple[float, str]]] = defaultdict(list)
    for edge in team.edges:
        callees[edge.source].append((edge.probability, edge.target))
    order: list[str] = []
    queue = deque([team.entry])
    while queue:
        for _, callee in sorted(callees[queue.popleft()], key=lambda pc: -pc[0]):
            if callee not in order and callee in team.names:
                order.append(callee)
                queue.append(callee)
    rest = sorted((m for m in team.nodes if m.name not in order), key=lambda m: -m.probability)
    return order + [m.name for m in rest]


def round_robin(team: Team) -> Callable[[TeamState], str]:
    """A router giving each member one turn in `call_order`, then `END`."""
    order = call_order(team)

    def route(state: TeamState) -> str:
        done = set(state.get("visited", []))
        return next((name for name in order if name not in done), END)

    return route


def _member_node(name: str, member: Member) -> Callable[[TeamState], dict[str, Any]]:
    call = member.invoke if isinstance(member, Runnable) else member

    def node(state: TeamState) -> dict[str, Any]:
        update = dict(call(state) or {})
        return {**update, "visited": [name]}

    return node


def build_supervisor(team: Team, members: Mapping[str, Member],
                     router: Callable[[TeamState], str] | None = None) -> StateGraph:
    """An uncompiled `StateGraph`: ``supervisor`` routes to members, each member returns to it.

    The router returns a member's name (or `END`); `visited` records member names.

    Raises:
        KeyError: a team member has no runnable in `members`.
    """
    route = router or round_robin(team)
    nodes = {name: node_name(name) for name in team.names}
    graph = StateGraph(TeamState)
    graph.add_node(SUPERVISOR, lambda state: {"next": route(state)})
    for name, node in nodes.items():
        graph.add_node(node, _member_node(name, members[name]))
        graph.add_edge(node, SUPERVISOR)
    graph.add_edge(START, SUPERVISOR)
    graph.add_conditional_edges(SUPERVISOR, lambda state: nodes.get(state["next"], END), [*nodes.values(), END])
    return graph
