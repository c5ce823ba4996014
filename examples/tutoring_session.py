"""A tutoring session driven from your own Python program, stopped, and resumed by a new process.

1. The `tutor` graph compiled with LangGraph's SQLite checkpointer and store: the session is a
   thread, the learner model lives in the store under the learner's name, so both outlive the
   program.
2. A simulated learner (the parametric learner of `coachgraph bench tutor`) answers: each turn the
   graph stops at `interrupt()` with the tutor's message, and `Command(resume=answer)` goes on.
3. The program stops halfway; a second graph on the same file (as a new process would) finds the
   same message, plan and mastery, and the session continues where it stopped.

The hints come from templates here; `TutorContext(teacher_model="smollm2")` has the embedded
model write them (behind the guard that never lets a hint state the answer).

Run: python examples/tutoring_session.py [FOLDER]
"""

from __future__ import annotations

import sqlite3
import sys
import tempfile
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.store.sqlite import SqliteStore
from langgraph.types import Command

from coachgraph.agents import sample_learner
from coachgraph.graphs.tutor import TutorContext, build_tutor_graph
from coachgraph.types import Task

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="coachgraph-tutor-"))
folder.mkdir(parents=True, exist_ok=True)
DB = folder / "tutor.sqlite"
SESSION = {"configurable": {"thread_id": "ada-monday"}}
context = TutorContext(seed=0)


def open_graph() -> tuple[Any, list[sqlite3.Connection]]:
    """The tutor graph on the SQLite file (what every process of your program does at start):
    checkpoints and store each on a connection of their own."""
    saver = sqlite3.connect(DB, check_same_thread=False)
    store = SqliteStore(sqlite3.connect(DB, check_same_thread=False, isolation_level=None))
    store.setup()
    return build_tutor_graph(checkpointer=SqliteSaver(saver), store=store), [saver, store.conn]


def tutor_says(graph: Any) -> str:
    """The message the session is waiting on (the payload of its interrupt)."""
    return graph.get_state(SESSION).interrupts[0].value["message"]


def play(graph: Any, learner: Any, turns: int) -> None:
    """The learner answers `turns` times; each answer resumes the graph until its next interrupt."""
    for _ in range(turns):
        problem = graph.get_state(SESSION).values.get("problem")
        answer = learner.reply(tutor_says(graph), Task.model_validate(problem) if problem else None)
        if problem:
            learner.practise(problem["skill"])
        graph.invoke(Command(resume=answer), SESSION, context=context)
        print(f"learner> {answer}\ntutor> {tutor_says(graph)}")


def mastery(graph: Any) -> dict[str, float]:
    """The learner model's mastery of the skills practised so far and those still on the plan."""
    values = graph.get_state(SESSION).values
    return {s: round(k["mastery"], 2) for s, k in values["learner_model"]["skills"].items()
            if k["answers"] or s in values["plan"]["order"]}


graph, conns = open_graph()
learner = sample_learner(context.domain.prerequisites, seed=3)
graph.invoke({"learner": "ada", "targets": ["add-2d-carry"]}, SESSION, context=context)
print(f"tutor> {tutor_says(graph)}")
play(graph, learner, turns=4)
before = (tutor_says(graph), graph.get_state(SESSION).values["plan"], mastery(graph))
for conn in conns:
    conn.close()
print("-- the program stops; a new one opens the same file --")

graph, conns = open_graph()
after = (tutor_says(graph), graph.get_state(SESSION).values["plan"], mastery(graph))
print("same message, plan and mastery after the restart:", after == before)
play(graph, learner, turns=4)
print("mastery per skill of the plan:", mastery(graph))
for conn in conns:
    conn.close()
