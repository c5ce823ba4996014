"""Graph-first analysis of calling trees: the statistics the recommender's features come from.

Every function takes a `networkx.DiGraph` as built by `CallTree.graph()` (vertex attributes
`kind`, `name`, `agent`, `tool`, optional `node`; graph attributes `pool`, `decisions`,
`success`) and returns plain Python values, never numpy scalars.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from itertools import combinations
from typing import Any

import networkx as nx

from coachgraph.calltree.schema import CallNode, DecisionPoint, PoolEntry

__all__ = [
    "agent_reliability",
    "beta_mean",
    "decision_points",
    "handoff_targets",
    "latency_stats",
    "node_label",
    "quantile",
    "sibling_cooccurrence",
    "transition_counts",
]

_TARGET_KINDS = {"tool": "tool", "skill": "skill"}


def node_label(data: Mapping[str, Any]) -> str:
    """The label a vertex is counted under: its tool, else its agent, else `kind:name`.

    >>> node_label({"kind": "tool", "tool": "search", "agent": "planner"})
    'search'
    >>> node_label({"kind": "agent", "agent": "critic", "name": "critic turn"})
    'critic'
    >>> node_label({"kind": "chain", "name": "LangGraph"})
    'chain:LangGraph'
    """
    kind = data.get("kind", "other")
    target = data.get("tool") if kind in ("tool", "skill") else data.get("agent")
    return str(target) if target else f"{kind}:{data.get('name', '')}"


def beta_mean(successes: int, trials: int, alpha: float = 1.0, beta: float = 1.0) -> float:
    """Posterior mean success rate under a Beta(`alpha`, `beta`) prior.

    The prior keeps agents seen only once or twice from ranking at 0 % or 100 %.

    >>> beta_mean(0, 0)
    0.5
    >>> beta_mean(9, 10)
    0.8333333333333334
    """
    return (successes + alpha) / (trials + alpha + beta)


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear-interpolated quantile of an ascending, non-empty list.

    >>> quantile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    >>> quantile([5.0], 0.95)
    5.0
    """
    position = (len(sorted_values) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    fraction = position - low
    return sorted_values[low] * (1 - fraction) + sorted_values[high] * fraction


def transition_counts(G: nx.DiGraph) -> dict[tuple[str, str], int]:
    """Count parent→child label transitions (who calls whom) in one calling tree.

    >>> G = nx.DiGraph()
    >>> G.add_node("r", kind="agent", agent="planner")
    >>> G.add_node("a", kind="tool", tool="search")
    >>> G.add_node("b", kind="tool", tool="search")
    >>> G.add_edges_from([("r", "a"), ("r", "b")])
    >>> transition_counts(G)
    {('planner', 'search'): 2}
    """
    counts: Counter[tuple[str, str]] = Counter()
    for parent, child in G.edges:
        counts[(node_label(G.nodes[parent]), node_label(G.nodes[child]))] += 1
    return dict(counts)


def sibling_cooccurrence(G: nx.DiGraph) -> dict[tuple[str, str], int]:
    """Count pairs of distinct labels called under the same parent (once per parent).

    >>> G = nx.DiGraph()
    >>> for v, tool in [("a", "x"), ("b", "y"), ("c", "x")]:
    ...     G.add_node(v, kind="tool", tool=tool)
    >>> G.add_node("r", kind="agent", agent="p")
    >>> G.add_edges_from([("r", "a"), ("r", "b"), ("r", "c")])
    >>> sibling_cooccurrence(G)
    {('x', 'y'): 1}
    """
    counts: Counter[tuple[str, str]] = Counter()
    for parent in G:
        labels = sorted({node_label(G.nodes[c]) for c in G.successors(parent)})
        counts.update(combinations(labels, 2))
    return dict(counts)


def agent_reliability(
    graphs: Iterable[nx.DiGraph], alpha: float = 1.0, beta: float = 1.0
) -> dict[str, dict[str, float]]:
    """Per agent: trials, successes and Beta-posterior success rate over labelled traces.

    An agent counts once per trace it acts in; traces without a success label are skipped.
    """
    successes: Counter[str] = Counter()
    trials: Counter[str] = Counter()
    for G in graphs:
        success = G.graph.get("success")
        if success is None:
            continue
        for agent in {d["agent"] for _, d in G.nodes(data=True) if d.get("agent")}:
            trials[agent] += 1
            successes[agent] += int(bool(success))
    return {
        agent: {"trials": float(n), "successes": float(successes[agent]),
                "mean": beta_mean(successes[agent], n, alpha, beta)}
        for agent, n in sorted(trials.items())
    }


def latency_stats(G: nx.DiGraph) -> dict[str, dict[str, float]]:
    """Per label: count, mean, p50, p95 and max of call durations in seconds (timed calls only)."""
    durations: defaultdict[str, list[float]] = defaultdict(list)
    for _, data in G.nodes(data=True):
        node = data.get("node")
        seconds = node.duration_s if node is not None else None
        if seconds is not None:
            durations[node_label(data)].append(seconds)
    return {label: _summary(sorted(values)) for label, values in sorted(durations.items())}


def _summary(values: list[float]) -> dict[str, float]:
    return {"count": float(len(values)), "mean": sum(values) / len(values),
            "p50": quantile(values, 0.5), "p95": quantile(values, 0.95), "max": values[-1]}


def decision_points(
    G: nx.DiGraph | Any, extra_pool: Iterable[PoolEntry] = ()
) -> list[DecisionPoint]:
    """Decision points of a tree: each agent/tool call with its parent and candidate set.

    `G` is a graph from `CallTree.graph()` or a `CallTree`. Decisions stated by the source
    (`G.graph["decisions"]`) are returned as they are; otherwise each child whose target is an
    agent or tool gives one decision at its parent, the candidates being every pool entry (the
    tree's pool plus `extra_pool`) of the same kind, and the chosen target itself. A handoff
    node naming its target (`attributes["to_agent"]`) with no call under it gives the decision
    of which agent it hands to, at the handoff; the graph's later call of that agent is its
    realisation, not a second decision.
    """
    G = G if isinstance(G, nx.DiGraph) else G.graph()
    if G.graph.get("decisions"):
        return list(G.graph["decisions"])
    pool = _candidates([*G.graph.get("pool", ()), *extra_pool])
    ordered = sorted(G.edges, key=lambda edge: G.nodes[edge[1]].get("order", 0))
    handoffs = handoff_targets(data["node"] for _, data in G.nodes(data=True) if "node" in data)
    out: list[DecisionPoint] = []
    handed_to: str | None = None
    for parent, child in ordered:
        target = handoffs.get(child)
        if target is not None:
            out.append(DecisionPoint(node=child, candidates=_choices(pool, "agent", target), chosen=target, kind="agent"))
            handed_to = target
            continue
        decision = _decision(parent, child, G.nodes[child], pool)
        if decision is None:
            continue
        if decision.kind == "agent" and decision.chosen == handed_to:
            handed_to = None  # the graph running the agent a handoff named: that handoff's decision
            continue
        out.append(decision)
    return out


def handoff_targets(nodes: Iterable[CallNode]) -> dict[str, str]:
    """Handoff node id -> the agent it hands to, for handoffs with no call under them.

    Tracing clients of LangGraph record a handoff as the supervisor's `transfer_to_*` tool call
    (`attributes["to_agent"]` names the target) and the agent it names as a later node of the
    graph; sources such as Who&When hang the agent under the handoff, where the call under it
    already is the decision.

    >>> handoff_targets([CallNode(id="h", trace_id="t", kind="handoff", name="transfer_to_b",
    ...                           agent="a", attributes={"to_agent": "b"})])
    {'h': 'b'}
    """
    listed = list(nodes)
    calling = {n.parent_id for n in listed if n.kind in ("agent", "tool", "skill")}
    return {n.id: target for n in listed
            if n.kind == "handoff" and n.id not in calling
            and isinstance(target := n.attributes.get("to_agent"), str) and target}


def _choices(pool: dict[str, list[str]], kind: str, chosen: str) -> list[str]:
    """The pool's entries of `kind` with the chosen one among them (only it, without a pool)."""
    candidates = pool.get(kind) or [chosen]
    return candidates if chosen in candidates else sorted([*candidates, chosen])


def _candidates(entries: Iterable[PoolEntry]) -> dict[str, list[str]]:
    by_kind: defaultdict[str, set[str]] = defaultdict(set)
    for entry in entries:
        by_kind[entry.kind].add(entry.name)
    return {kind: sorted(names) for kind, names in by_kind.items()}


def _decision(
    parent: str, child: str, data: Mapping[str, Any], pool: dict[str, list[str]]
) -> DecisionPoint | None:
    if data.get("kind") not in ("agent", "tool", "skill"):
        return None
    kind = _TARGET_KINDS.get(data["kind"], "agent")
    chosen = data.get("agent") if kind == "agent" else data.get("tool")
    if not chosen:
        return None
    return DecisionPoint(node=parent, candidates=_choices(pool, kind, chosen), chosen=chosen, chosen_node=child,
                         kind=kind)
