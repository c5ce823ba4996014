"""No feature reads a label: shuffling the test split's ground truth changes no feature."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import numpy as np

from coachgraph.calltree.analysis import decision_points
from coachgraph.recommend.catalog import Catalog, CatalogItem
from coachgraph.recommend.context import Example, contexts_from_tree
from coachgraph.recommend.evaluate import split_traces
from coachgraph.recommend.recommender import Recommender, RecommenderConfig
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import build_stats
from tests.fakes import HashEmbeddings
from tests.recommend._trees import POOL, make_trees


def _features(train_trees, test_examples: list[Example]) -> np.ndarray:
    catalog = Catalog([CatalogItem(e.name, e.kind, e.description) for e in POOL], HashEmbeddings(dims=32))
    stats = build_stats(train_trees)
    rec = Recommender(catalog, stats, Scorer(ScorerConfig(n_features=1)), {}, RecommenderConfig())
    data = rec.encode(test_examples)
    return data.feats, data.names


def test_shuffled_test_labels_leave_features_unchanged(tmp_path: Path) -> None:
    trees = {t.trace_id: t for t in make_trees(60)}
    train_ids, test_ids = split_traces(list(trees), seed=0)
    train = [trees[i] for i in train_ids]
    examples = [e for i in test_ids for e in contexts_from_tree(trees[i], decision_points(trees[i]))]
    before, names = _features(train, examples)

    rng = random.Random(1)
    answers = [e.chosen for e in examples]
    rng.shuffle(answers)
    shuffled = [replace(e, chosen=a) for e, a in zip(examples, answers, strict=True)]
    assert [e.chosen for e in shuffled] != [e.chosen for e in examples]
    after, names_after = _features(train, shuffled)
    np.testing.assert_array_equal(before, after)
    assert names == names_after


def test_chosen_node_and_test_outcomes_are_never_read() -> None:
    trees = {t.trace_id: t for t in make_trees(60)}
    train_ids, test_ids = split_traces(list(trees), seed=0)
    train = [trees[i] for i in train_ids]
    for trace_id in test_ids:
        tree = trees[trace_id]
        for d in decision_points(tree):
            mutated = tree.model_copy(deep=True)
            mutated.success, mutated.labels = not tree.success, {"mistake_agent": "ground_truth"}
            node = mutated.node(d.chosen_node)
            node.inputs, node.outputs, node.name = {"ground_truth": d.chosen}, d.chosen, "ground_truth"
            original = [e for e in contexts_from_tree(tree, decision_points(tree)) if e.chosen == d.chosen][:1]
            changed = [e for e in contexts_from_tree(mutated, decision_points(tree)) if e.chosen == d.chosen][:1]
            assert original[0].context == changed[0].context
            np.testing.assert_array_equal(_features(train, original)[0], _features(train, changed)[0])
