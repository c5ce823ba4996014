"""A team run's calling tree, completed with what the recommender learns from: the outcome, the
member the critic blames, the decisions the supervisor made and the pool they were made from.

The tracer records every node, model and tool call of the run; the decisions are stated
explicitly (at the team's root, one of the pool's members was chosen, realised by that member's
node), so the recommender learns member choices rather than the supervisor's own bookkeeping
nodes. The task's kind, the team and the run are kept in the trace's ``orchestrate`` attributes,
where the learned policy reads a member's record.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from coachgraph.agents.team_critic import TeamVerdict
from coachgraph.calltree.schema import CallTree, DecisionPoint

__all__ = ["SOURCE", "team_trace"]

SOURCE = "coachgraph-orchestrate"
"""The `source` of team traces."""


def _decisions(tree: CallTree, candidates: Sequence[str], team: Sequence[str]) -> list[DecisionPoint]:
    roots = tree.roots()
    if not roots:
        return []
    root = roots[0]
    members = [n for n in tree.children(root.id) if n.kind == "agent" and n.name in team]
    return [DecisionPoint(node=root.id, candidates=list(candidates), chosen=n.name, chosen_node=n.id, kind="agent")
            for n in members]


def team_trace(tree: CallTree, *, question: str, verdict: TeamVerdict, candidates: Sequence[str],
               pool: str, info: dict[str, Any]) -> CallTree:
    """`tree` (as the tracer wrote it) with task, outcome, blame, decisions, pool and run details.

    The root is the team's graph; the tracer names it after the node of the run that called it,
    which belongs to the run, not to the team, so it is renamed ``team``.

    Args:
        tree: the traced team run.
        question: the task's question.
        verdict: the critic's judgement.
        candidates: the members the team was chosen from (those serving the task's kind).
        pool: the pool's name (its entries are stored as a shared pool of that name).
        info: what the learned policy and the reports read back: task kind, team, round, policy.
    """
    outcome = "solved" if verdict.correct else ("no answer" if verdict.answer is None else "wrong answer")
    labels: dict[str, Any] = {}
    if verdict.mistake_member is not None:
        labels = {"mistake_agent": verdict.mistake_member, "mistake_reason": verdict.reason}
    team = list(info.get("team", []))
    nodes = [n.model_copy(update={"agent": None, "name": "team"}) if n.parent_id is None else n for n in tree.nodes]
    return tree.model_copy(update={"nodes": nodes,
        "source": SOURCE, "task": question, "success": verdict.correct, "outcome": outcome, "labels": labels,
        "decisions": _decisions(tree, candidates, team), "pool_ref": pool,
        "attributes": {**tree.attributes, "orchestrate": {**info, "pool": pool, "answer": verdict.answer}}})
