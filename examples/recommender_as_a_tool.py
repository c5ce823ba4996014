"""The recommender as a tool of your own LangGraph supervisor.

1. Your help-desk graph routes each ticket to one agent with a hand-written rule, and
   coachgraph's tracer records every run as a calling tree (with its outcome).
2. The recommender learns from those calling trees.
3. Your supervisor now asks the ``recommend_next_agent`` tool where to route instead of the rule.

Run: python examples/recommender_as_a_tool.py [FOLDER]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TypedDict

from langgraph.graph import END, START, StateGraph

from coachgraph.calltree.schema import Pool, PoolEntry
from coachgraph.calltree.stores import open_store
from coachgraph.calltree.tracer import CallTreeTracer
from coachgraph.recommend import recommend_next_agent_tool, train_store
from coachgraph.recommend.service import RecommendService

AGENTS = {
    "billing": "Refunds, invoices, charges and payment methods.",
    "shipping": "Where a package is, delivery dates, lost or damaged parcels.",
    "tech-support": "Crashes, error messages, passwords and app problems.",
}
HISTORY = [
    ("I was charged twice for my order, please refund one payment", "billing"),
    ("Can I get an invoice with my company address?", "billing"),
    ("My card was declined although it works elsewhere", "billing"),
    ("The refund for my return has not arrived", "billing"),
    ("Where is my package? Tracking has not moved for a week", "shipping"),
    ("The parcel arrived damaged, the box was crushed", "shipping"),
    ("Can you deliver on Saturday instead?", "shipping"),
    ("My delivery went to the wrong address", "shipping"),
    ("The app crashes when I open my orders", "tech-support"),
    ("I get error 502 when I log in", "tech-support"),
    ("I forgot my password and the reset mail never comes", "tech-support"),
    ("The website shows a blank page on my phone", "tech-support"),
]


class Ticket(TypedDict, total=False):
    text: str
    handled_by: str
    reply: str


def agent(name: str):
    def handle(ticket: Ticket) -> Ticket:
        return {"handled_by": name, "reply": f"{name} takes care of: {ticket['text']}"}
    return handle


def build(route) -> object:
    """Your help desk: a routing edge picks the agent, the agent answers."""
    builder = StateGraph(Ticket)
    for name in AGENTS:
        builder.add_node(name, agent(name))
        builder.add_edge(name, END)
    builder.add_conditional_edges(START, route, list(AGENTS))
    return builder.compile(name="help-desk")


folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="coachgraph-desk-"))
store_path = str(folder / "desk.sqlite")

# 1. Run the desk with a hand-written rule; every run becomes a calling tree.
with open_store(store_path) as store:
    store.put_pool(Pool(name="desk", entries=[PoolEntry(name=n, kind="agent", description=d) for n, d in AGENTS.items()]))
    for text, right in HISTORY:
        tracer = CallTreeTracer(store, session_id="history", success=lambda out, right=right: out["handled_by"] == right)
        build(lambda ticket, right=right: right).invoke({"text": text}, {"callbacks": [tracer]})
    print("traces stored:", len(store.trace_ids()))

# 2. Learn from them (the model file is written beside the store).
info = train_store(store_path)
print(f"recommender trained on {info.traces} traces")

# 3. Your supervisor routes with the recommender as a tool.
tool = recommend_next_agent_tool(RecommendService(store_path))


def ask_recommender(ticket: Ticket) -> str:
    ranked = tool.invoke({"task": ticket["text"], "k": 1, "kind": "agent"})
    return str(ranked[0]["name"])


desk = build(ask_recommender)
for text in ["Please refund the second charge on my card", "My parcel is late", "The app shows error 500"]:
    out = desk.invoke({"text": text})
    print(f"{text!r} -> {out['handled_by']}")
