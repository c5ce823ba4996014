"""A team recommended from calling trees, compiled into a supervisor and run inside your own LangGraph program.

1. A pool file of your members (here: tools and graph agents of the built-in pool, no chat model).
2. An orchestrate run tries teams on arithmetic tasks, traces every call and retrains the
   recommender on those traces between rounds.
3. The trained recommender proposes a team for a new task; `compile_team` turns it into a
   supervisor that hands off through tools; your graph calls it as one node.

Run: python examples/recommended_team_in_your_graph.py [FOLDER]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TypedDict

from langgraph.graph import END, START, StateGraph

from coachgraph.agents.members import build_team
from coachgraph.agents.pool import load_pool
from coachgraph.agents.team_critic import stated_answer
from coachgraph.agents.team_graph import compile_team, team_input, team_turns
from coachgraph.config import Settings
from coachgraph.graphs.orchestrate import OrchestrateConfig, orchestrate_run
from coachgraph.recommend import RecommendService

POOL = """schema_version: 1
name: my-calculators
description: Tools and agents for arithmetic questions and word problems.
members:
  - name: word-parser
    tool: coachgraph.agents.marketplace:word_parser
    description: Turns a story problem into the arithmetic expression that answers it.
    cost: 0.2
  - name: calculator
    tool: coachgraph.agents.marketplace:calculator
    description: Exact calculator for + - * / and parentheses.
    cost: 0.3
  - name: quick-calculator
    tool: coachgraph.agents.marketplace:quick_calculator
    description: Quick calculator at a fraction of the price of others.
    cost: 0.05
  - name: column-solver
    graph: coachgraph.agents.marketplace:column_solver
    description: Adds, subtracts and multiplies numbers digit by digit, instantly.
    cost: 0.1
  - name: checker
    graph: coachgraph.agents.marketplace:checker
    description: Verifies the latest answer and recomputes every equation it states.
    cost: 0.3
"""

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="coachgraph-team-"))
folder.mkdir(parents=True, exist_ok=True)
(folder / "pool.yaml").write_text(POOL, encoding="utf-8")

# 2. Learn from traces: six rounds of eight tasks, teams of two, retrained after every round.
config = OrchestrateConfig(pool=str(folder / "pool.yaml"), rounds=6, tasks_per_round=8, team_size=2,
                           retrain_every=8, recommender_steps=100)
run = orchestrate_run(config, folder / "run")
print("solved per round:", [f"{r.solved}/{r.tasks}" for r in run.rounds])

# 3. The recommender's team for a new task, compiled into a supervisor.
pool = load_pool(folder / "pool.yaml")
service = RecommendService(run.store, Settings.from_env())
task = "Leo had 52 marbles and gave 17 of them to a friend. Later Leo found 9 more marbles. How many marbles does Leo have now?"
team = service.team(task, max_size=2, candidates=pool.names, costs={m.name: m.cost for m in pool.members})
order = [m.name for m in team.nodes]
print("recommended team:", order)
supervisor = compile_team(build_team(pool, order), name="arithmetic-team")


class MyState(TypedDict, total=False):
    question: str
    answer: str | None
    log: list[str]


def ask_team(state: MyState) -> MyState:
    """Your node: hand the question to the recommended team, keep its answer."""
    out = supervisor.invoke(team_input(state["question"], order))
    turns = team_turns(out)
    answers = [a for a in (stated_answer(t.text) for t in turns) if a is not None]
    return {"answer": answers[-1] if answers else None, "log": [f"{t.member}: {t.text}" for t in turns]}


builder = StateGraph(MyState)
builder.add_node("ask_team", ask_team)
builder.add_edge(START, "ask_team")
builder.add_edge("ask_team", END)
result = builder.compile().invoke({"question": task})
print("\n".join(result["log"]))
print("answer:", result["answer"], "(expected 44)")
