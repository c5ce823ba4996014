"""The orchestrate graph's nodes: each reads the graph's state, acts, and returns an update.

Every random draw is derived from the run seed and where it happens (`coachgraph.seeding`): the
tasks of a round from the round, a team from the task's place in the run. The tasks are the same
whatever the policy, so policies compare on the same tasks. A node that LangGraph re-runs after
a kill repeats what it did: a team's trace is stored under an id derived from the run and the
task, so running a task again replaces its trace.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.runtime import Runtime

from coachgraph.agents.members import build_team
from coachgraph.agents.pool import pool_entries
from coachgraph.agents.team_critic import judge_team
from coachgraph.agents.team_graph import compile_team, team_input, team_turns
from coachgraph.calltree.schema import Pool
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.calltree.stores import open_store
from coachgraph.calltree.tracer import CallTreeTracer
from coachgraph.graphs.orchestrate.context import OrchestrateContext
from coachgraph.graphs.orchestrate.corpora import copy_corpus
from coachgraph.graphs.orchestrate.policy import POLICIES, MemberOutcomes, PolicyInputs
from coachgraph.graphs.orchestrate.state import Assignment, OrchestrateState
from coachgraph.graphs.orchestrate.traces import SOURCE, team_trace
from coachgraph.seeding import derive_rng
from coachgraph.tasks import task_kind
from coachgraph.types import Task

__all__ = ["choose_node", "prepare_node", "retrain_node", "review_node", "run_team_node", "trace_id_of"]

logger = logging.getLogger(__name__)

RECURSION_LIMIT = 200
"""Steps a team run may take (a team of k members takes about 2k + 2)."""


def trace_id_of(run_id: str, index: int) -> str:
    """The trace id of the run's `index`-th task (the same when the task runs again).

    >>> trace_id_of("r", 0) == trace_id_of("r", 0) != trace_id_of("r", 1)
    True
    """
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"coachgraph:orchestrate:{run_id}:{index}"))


def prepare_node(state: OrchestrateState, runtime: Runtime[OrchestrateContext]) -> OrchestrateState:
    """Store the pool, copy the corpora in, and train a first model when there are traces to learn from."""
    ctx = runtime.context
    with open_store(ctx.store) as store:
        store.put_pool(Pool(name=ctx.pool.name, entries=pool_entries(ctx.pool)))
        copied = sum(copy_corpus(corpus, store) for corpus in ctx.config.corpora)
        has_traces = bool(store.trace_ids())
    logger.info("copied %d corpus traces into %s", copied, ctx.store)
    if state.get("retrain_every", 0) <= 0 or not has_traces or ctx.recommender.service is not None:
        return {}
    return _retrain(ctx, state)


def _inputs(ctx: OrchestrateContext) -> PolicyInputs:
    with open_store(ctx.store) as store:
        outcomes = MemberOutcomes.from_trees(store.iter_trees(store.trace_ids(source=SOURCE)), ctx.pool.name)
    learned = ctx.config.policy == "learned"
    return PolicyInputs(pool=ctx.pool, team_size=ctx.config.team_size, outcomes=outcomes,
                        scores=ctx.recommender.scores if learned else None,
                        compatibility=ctx.recommender.compatibility() if learned else None,
                        prior_strength=ctx.config.prior_strength, kind_strength=ctx.config.kind_strength,
                        fixed=ctx.fixed)


def choose_node(state: OrchestrateState, runtime: Runtime[OrchestrateContext]) -> OrchestrateState:
    """Draw the round's tasks and choose a team (and its call order) for each."""
    ctx, round_, start = runtime.context, state.get("round", 0), state.get("tasks_done", 0)
    rng = derive_rng(ctx.seed, "tasks", round_)
    tasks = [ctx.domain.draw(rng.choice(ctx.skills), rng) for _ in range(ctx.config.tasks_per_round)]
    inputs, policy = _inputs(ctx), POLICIES[ctx.config.policy]
    batch: list[Assignment] = []
    for i, task in enumerate(tasks):
        kind = task_kind(ctx.domain, task)
        choice = policy(inputs, task.question, kind, derive_rng(ctx.seed, "team", start + i))
        batch.append({"round": round_, "index": start + i, "task": task.model_dump(mode="json"), "task_kind": kind,
                      "team": choice.team, "why": choice.why, "model_version": state.get("model_version", 0),
                      "run_id": state.get("run_id", ""), "trace_id": trace_id_of(state.get("run_id", ""), start + i)})
    logger.info("round %d teams: %s", round_, [a["team"] for a in batch])
    return {"batch": batch}


def _run(ctx: OrchestrateContext, assignment: Assignment, run_id: str) -> tuple[dict[str, Any], Any]:
    """Run one team on its task with a tracer of its own; returns its final state and its trace.

    The team runs on its own (not as a checkpointed subgraph of this run): a task that runs again
    after a kill runs whole, and its trace replaces the earlier one. Its calls are also recorded
    under this node in the run's own trace, since LangGraph hands the node's callbacks down.
    """
    members = build_team(ctx.pool, assignment["team"], library=ctx.library)
    team = compile_team(members, model=ctx.supervisor, output_mode=ctx.config.output_mode, checkpointer=False)
    task = Task.model_validate(assignment["task"])
    memory = SQLiteCallTreeStore(":memory:")
    try:
        tracer = CallTreeTracer(memory, session_id=run_id)
        config: RunnableConfig = {"callbacks": [tracer], "run_id": uuid.UUID(assignment["trace_id"]), "run_name": "team",
                  "metadata": {"run_id": run_id}, "tags": [], "recursion_limit": RECURSION_LIMIT,
                                    # a thread of its own: nothing of this run's configuration (its
                                    # checkpointer, its durability) is handed down to the team
                                    "configurable": {"thread_id": assignment["trace_id"]}}
        final = team.invoke(team_input(task.question, assignment["team"]), config)
        return final, memory.get_tree(assignment["trace_id"])
    finally:
        memory.close()


def run_team_node(assignment: Assignment, runtime: Runtime[OrchestrateContext]) -> OrchestrateState:
    """Compile the team into a supervisor, run it, have the critic judge it, store its calling tree."""
    ctx = runtime.context
    started = time.perf_counter()
    final, tree = _run(ctx, assignment, assignment["run_id"])
    seconds = time.perf_counter() - started
    task = Task.model_validate(assignment["task"])
    turns = team_turns(final)
    verdict = judge_team(task, turns)
    info = {k: assignment[k] for k in ("round", "index", "task_kind", "team", "model_version")}
    info |= {"task_id": task.id, "policy": ctx.config.policy}
    candidates = [m.name for m in ctx.pool.members if m.serves_kind(assignment["task_kind"])]
    if tree is not None:
        stored = team_trace(tree, question=task.question, verdict=verdict, candidates=candidates, pool=ctx.pool.name,
                            info=info)
        with ctx.writing, open_store(ctx.store) as store:
            store.put_tree(stored)
    called = [t.member for t in turns]
    cost = sum(ctx.pool.member(m).cost for m in called)
    return {"results": [{**info, "trace_id": assignment["trace_id"], "success": verdict.correct,
                         "answer": verdict.answer, "expected": task.answer, "blamed": verdict.mistake_member,
                         "reason": verdict.reason, "called": called, "cost": cost, "seconds": round(seconds, 3)}]}


def review_node(state: OrchestrateState, runtime: Runtime[OrchestrateContext]) -> OrchestrateState:
    """Close the round: count its tasks and log its success rate."""
    batch = state.get("batch", [])
    round_ = state.get("round", 0)
    done = [r for r in state.get("results", []) if r["round"] == round_]
    solved = sum(bool(r["success"]) for r in done)
    logger.info("round %d: %d of %d tasks solved", round_, solved, len(done))
    return {"round": round_ + 1, "tasks_done": state.get("tasks_done", 0) + len(batch), "batch": []}


def _retrain(ctx: OrchestrateContext, state: OrchestrateState) -> OrchestrateState:
    started = time.perf_counter()
    info = ctx.recommender.retrain()
    version = state.get("model_version", 0) + 1
    record = {"version": version, "after_tasks": state.get("tasks_done", 0), "traces": info.traces,
              "seconds": round(time.perf_counter() - started, 3)}
    return {"model_version": version, "trained_at": state.get("tasks_done", 0), "retrains": [record]}


def retrain_node(state: OrchestrateState, runtime: Runtime[OrchestrateContext]) -> OrchestrateState:
    """Retrain the recommender on every trace of the store and serve the new model from now on."""
    return _retrain(runtime.context, state)
