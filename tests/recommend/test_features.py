"""Statistics and features on hand-built trees, where every count is known."""

from __future__ import annotations

import random

import numpy as np

from coachgraph.calltree.analysis import decision_points
from coachgraph.recommend.candidates import Constraints, retrieve
from coachgraph.recommend.catalog import Catalog, CatalogItem
from coachgraph.recommend.context import DecisionContext, contexts_from_tree, next_context
from coachgraph.recommend.features import FeatureEnv, feature_names, featurize
from coachgraph.recommend.stats import build_stats
from tests.fakes import HashEmbeddings
from tests.recommend._trees import POOL, make_tree, make_trees


def _catalog() -> Catalog:
    return Catalog([CatalogItem(e.name, e.kind, e.description) for e in POOL], HashEmbeddings(dims=32))


def test_stats_count_transitions_outcomes_and_blame() -> None:
    trees = make_trees(21)
    stats = build_stats(trees)
    assert stats.n_traces == 21
    assert stats.calls["geocode"] == 7 and stats.calls["calculator"] == 7
    assert stats.transitions[("planner", "geocode")] == 7
    assert stats.transitions[("geocode", "weather_api")] == 7
    failed = [t for t in trees if not t.success]
    assert sum(stats.blamed.values()) == len(failed) == 3
    assert stats.pmi("geocode", "weather_api") > stats.pmi("geocode", "translator")


def test_context_holds_only_the_past() -> None:
    tree = make_tree(0, "weather", random.Random(0))
    examples = contexts_from_tree(tree, decision_points(tree))
    second = next(e for e in examples if e.chosen == "weather_api")
    assert second.context.parent == "geocode"
    assert second.context.path == ("planner", "geocode")
    assert second.context.depth == 2
    first = next(e for e in examples if e.chosen == "geocode")
    assert first.context.path == ("planner",) and "geocode" not in first.context.local_text


def test_interaction_features_prefer_the_learned_transition() -> None:
    stats = build_stats(make_trees(30))
    env = FeatureEnv(_catalog(), stats)
    ctx = next_context(make_tree(99, "weather", random.Random(1)), "c0", "tool", [e.name for e in POOL])
    cands = retrieve(ctx, env.catalog, stats, 10)
    x = featurize(env, ctx, cands)
    col = feature_names().index("interaction.logp_parent")
    by_name = dict(zip(cands.names, x[:, col], strict=True))
    assert max(by_name, key=by_name.get) == "weather_api"
    assert x.shape == (len(POOL), len(feature_names())) and np.isfinite(x).all()


def test_constraints_filter_before_scoring() -> None:
    stats = build_stats(make_trees(30))
    ctx = next_context(make_tree(99, "weather", random.Random(1)), "r", "tool", [e.name for e in POOL])
    allowed = retrieve(ctx, _catalog(), stats, 10, Constraints(allowed=frozenset({"geocode", "calculator"})))
    assert sorted(allowed.names) == ["calculator", "geocode"]
    compatible = retrieve(ctx, _catalog(), stats, 10, Constraints(parent_compatible=True))
    assert set(compatible.names) == {"geocode", "detect_language", "calculator"}
    cheap = retrieve(ctx, _catalog(), stats, 10, Constraints(costs={"geocode": 5.0}, max_cost=1.0))
    assert "geocode" not in cheap.names and len(cheap.names) == 4


def test_counts_cover_names_the_catalogue_lacks() -> None:
    stats = build_stats(make_trees(30))
    partial = Catalog([CatalogItem(e.name, e.kind, e.description) for e in POOL if e.name != "calculator"],
                      HashEmbeddings(dims=32))
    ctx = next_context(make_tree(99, "weather", random.Random(1)), "r", "tool", [e.name for e in POOL])
    cands = retrieve(ctx, partial, stats, 10)
    env = FeatureEnv(partial, stats)
    assert env.counts("calls", cands).tolist() == [stats.calls[n] for n in cands.names]
    assert env.counts("transitions", cands, "planner").tolist() == [stats.transitions[("planner", n)] for n in cands.names]
    assert np.isfinite(featurize(env, ctx, cands)).all()


def test_recency_reads_the_order_of_the_past() -> None:
    stats = build_stats(make_trees(30))
    env = FeatureEnv(_catalog(), stats)
    ctx = DecisionContext(trace_id="t", task="weather in Oslo", kind="tool", candidates=tuple(e.name for e in POOL),
                          parent="planner", siblings=("translator", "geocode", "calculator"),
                          path=("geocode", "translator", "geocode", "calculator"))
    cands = retrieve(ctx, env.catalog, stats, 10)
    x = featurize(env, ctx, cands)
    names = feature_names()

    def column(name: str) -> dict[str, float]:
        return {n: round(float(v), 4) for n, v in zip(cands.names, x[:, names.index(f"recency.{name}")], strict=True)}

    assert column("last_seen") == {"calculator": 1.0, "geocode": 0.5, "translator": 0.3333, "weather_api": 0.0, "detect_language": 0.0}
    assert column("path_share")["geocode"] == 0.5 and column("path_share")["weather_api"] == 0.0
    assert column("is_prev2") == {"geocode": 1.0, "calculator": 0.0, "translator": 0.0, "weather_api": 0.0, "detect_language": 0.0}
    assert column("sibling_share")["translator"] == 0.3333 and column("sibling_share")["detect_language"] == 0.0
