"""Small hand-built calling trees with known answers, shared by the recommender tests."""

from __future__ import annotations

import random
from pathlib import Path

from coachgraph.calltree.schema import CallNode, CallTree, PoolEntry
from coachgraph.calltree.sqlite import SQLiteCallTreeStore
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.teammodel import MemberTrainConfig, TeamModelConfig
from coachgraph.recommend.train import ScorerTrainConfig

POOL = [
    PoolEntry(name="geocode", kind="tool", description="Find coordinates of a city name"),
    PoolEntry(name="weather_api", kind="tool", description="Weather forecast for coordinates"),
    PoolEntry(name="detect_language", kind="tool", description="Detect the language of a text"),
    PoolEntry(name="translator", kind="tool", description="Translate text between languages"),
    PoolEntry(name="calculator", kind="tool", description="Evaluate arithmetic expressions"),
]
FAST = RecommenderConfig(train=ScorerTrainConfig(epochs=2, min_steps=20), arch_choices=("mlp", "linear"), folds=2,
                         seeds=2, team=TeamModelConfig(arch_choices=("linear",), arch="linear", folds=3,
                                                       train=MemberTrainConfig(epochs=15)))
"""Trains in seconds on these trees; two architectures and two seeds, so an ensemble is chosen and
saved; the team recommender's member scorer is linear."""
EMB = "hash"
"""The embeddings name under which models trained with `tests.fakes.HashEmbeddings` are saved."""
PLANS = {
    "weather": ("What is the weather in {x} tomorrow?", ["geocode", "weather_api"]),
    "translate": ("Translate this note into {x}", ["detect_language", "translator"]),
    "math": ("Compute {x} times seven", ["calculator"]),
}


def make_tree(i: int, plan: str, rng: random.Random, success: bool = True) -> CallTree:
    """Planner root calling the plan's tools in order; the second tool nests under the first."""
    text, tools = PLANS[plan]
    trace = f"t{i:03d}"
    nodes = [CallNode(id="r", trace_id=trace, kind="agent", name="planner", agent="planner",
                      inputs={"task": text.format(x=rng.choice(["Paris", "Rome", "Oslo", "Lima"]))})]
    for j, tool in enumerate(tools):
        parent = "r" if j == 0 else f"c{j - 1}"
        nodes.append(CallNode(id=f"c{j}", parent_id=parent, trace_id=trace, kind="tool", name=tool,
                              agent="planner", tool=tool, inputs={"step": j}))
    labels = {} if success else {"mistake_agent": tools[-1]}
    return CallTree(trace_id=trace, source="test", task=str(nodes[0].inputs["task"]), success=success,
                    nodes=nodes, pool=list(POOL), labels=labels)


def make_trees(n: int = 60, seed: int = 0) -> list[CallTree]:
    rng = random.Random(seed)
    plans = list(PLANS)
    return [make_tree(i, plans[i % len(plans)], rng, success=i % 7 != 0) for i in range(n)]


def make_store(path: Path, n: int = 60) -> SQLiteCallTreeStore:
    store = SQLiteCallTreeStore(path)
    store.put_trees(make_trees(n))
    return store
