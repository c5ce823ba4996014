"""Counts learned from training trees only: popularity, transitions, co-occurrence, outcomes,
and which labels the words of a task go with.

Everything a feature knows about history lives here, and it is built from the training traces
alone, so statistics can never carry a test label. Outcome labels of training traces (success,
Who&When's ``mistake_agent``) are read here; test traces are never passed in. `stats_to_dict`
and `stats_from_dict` carry them through a recommender file as plain JSON, in their insertion
order (features sum some of them in that order).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from itertools import combinations
from typing import Any

from pydantic import BaseModel, ConfigDict, StrictInt, StrictStr, create_model

from coachgraph.calltree.analysis import handoff_targets
from coachgraph.calltree.schema import CallNode, CallTree
from coachgraph.recommend.context import context_label, task_text
from coachgraph.retrieval.text import tokenize

__all__ = ["InteractionStats", "build_stats", "stats_from_dict", "stats_to_dict", "task_words"]

CALL_KINDS = ("agent", "tool", "skill")
MAX_TASK_WORDS = 64
"""Distinct words of a task that are counted (a long task's first ones)."""
MIN_WORD_PAIR = 2
"""Fewest traces a (task word, label) pair is kept for: a pair seen once is no evidence, and
dropping those keeps the statistics of a large corpus small."""


@dataclass(slots=True)
class InteractionStats:
    """Sufficient statistics of the training trees (plain counters)."""

    n_traces: int = 0
    calls: Counter[str] = field(default_factory=Counter)
    """Calls of each label (popularity)."""
    traces: Counter[str] = field(default_factory=Counter)
    """Traces each label appears in."""
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(parent context label, called label) counts."""
    parent_calls: Counter[str] = field(default_factory=Counter)
    """Calls made under each parent context label."""
    follows: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(previous sibling label, next sibling label) counts."""
    prev_calls: Counter[str] = field(default_factory=Counter)
    """Times each label had a next sibling."""
    cooccur: Counter[tuple[str, str]] = field(default_factory=Counter)
    """Traces in which two labels (sorted pair) both appear."""
    success: Counter[str] = field(default_factory=Counter)
    labelled: Counter[str] = field(default_factory=Counter)
    """Traces with a success label that each label took part in, and the successful ones."""
    blamed: Counter[str] = field(default_factory=Counter)
    """Failed traces whose failure attribution names the label."""
    errors: Counter[str] = field(default_factory=Counter)
    """Calls of each label that ended in an error status."""
    depth_sum: Counter[str] = field(default_factory=Counter)
    position_sum: Counter[str] = field(default_factory=Counter)
    children_sum: Counter[str] = field(default_factory=Counter)
    leaves: Counter[str] = field(default_factory=Counter)
    """Sums over calls of depth, position among siblings and child count; calls with no child."""
    roots: Counter[str] = field(default_factory=Counter)
    """Context labels of root nodes (what a fresh trace starts from)."""
    children_of: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    """Per parent context label, the labels it called (for content centroids)."""
    words: Counter[str] = field(default_factory=Counter)
    """Traces whose task holds each word (`task_words`)."""
    word_calls: Counter[tuple[str, str]] = field(default_factory=Counter)
    """(task word, label) counts of traces whose task holds the word and that call the label, for
    pairs seen in `MIN_WORD_PAIR` traces or more: which agents a task's wording asks for."""

    def pmi(self, a: str, b: str) -> float:
        """Smoothed pointwise mutual information of two labels over training traces."""
        pair = self.cooccur.get((a, b) if a < b else (b, a), 0)
        n = self.n_traces + 1.0
        return math.log((pair + 0.1) * n / ((self.traces.get(a, 0) + 1.0) * (self.traces.get(b, 0) + 1.0)))


def _depths(tree: CallTree) -> dict[str, int]:
    index = {n.id: n for n in tree.nodes}
    depth: dict[str, int] = {}
    for node in tree.nodes:
        chain, current = 0, node.parent_id
        while current is not None:
            chain += 1
            current = index[current].parent_id
        depth[node.id] = chain
    return depth


def _add_tree(stats: InteractionStats, tree: CallTree) -> None:
    index = {n.id: n for n in tree.nodes}
    depth = _depths(tree)
    kids: Counter[str] = Counter(n.parent_id for n in tree.nodes if n.parent_id)
    last_under: dict[str | None, str] = {}
    position: Counter[str | None] = Counter()
    labels: set[str] = set()
    stats.roots.update(context_label(n) for n in tree.nodes if n.parent_id is None)
    for node in tree.nodes:
        if node.kind not in CALL_KINDS or not node.target:
            continue
        label = context_label(node)
        labels.add(label)
        parent = context_label(index[node.parent_id]) if node.parent_id else ""
        stats.calls[label] += 1
        stats.transitions[(parent, label)] += 1
        stats.parent_calls[parent] += 1
        stats.children_of[parent][label] += 1
        if node.parent_id in last_under:
            stats.follows[(last_under[node.parent_id], label)] += 1
            stats.prev_calls[last_under[node.parent_id]] += 1
        last_under[node.parent_id] = label
        stats.depth_sum[label] += depth[node.id]
        stats.position_sum[label] += position[node.parent_id]
        position[node.parent_id] += 1
        stats.children_sum[label] += kids.get(node.id, 0)
        stats.leaves[label] += int(kids.get(node.id, 0) == 0)
        stats.errors[label] += int(node.status == "error")
    _add_handoffs(stats, tree, index, labels)
    _add_trace_level(stats, tree, labels)


def _add_handoffs(stats: InteractionStats, tree: CallTree, index: dict[str, CallNode], labels: set[str]) -> None:
    """A handoff with no call under it calls the agent it names, under the handoff's label.

    The agent's own node (where the client records one) already counts as its call; a sub-team
    that a client records no node for is called by the handoff alone.
    """
    for node_id, target in handoff_targets(tree.nodes).items():
        parent = context_label(index[node_id])
        stats.transitions[(parent, target)] += 1
        stats.parent_calls[parent] += 1
        stats.children_of[parent][target] += 1
        if target not in labels:
            stats.calls[target] += 1
            labels.add(target)


def task_words(text: str) -> list[str]:
    """The distinct words of a task that its statistics keep (the first `MAX_TASK_WORDS`).

    >>> task_words("Translate the menu, then translate the invoice")
    ['translat', 'menu', 'invoic']
    """
    return list(dict.fromkeys(tokenize(text)))[:MAX_TASK_WORDS]


def _add_trace_level(stats: InteractionStats, tree: CallTree, labels: set[str]) -> None:
    stats.n_traces += 1
    stats.traces.update(labels)
    stats.cooccur.update(combinations(sorted(labels), 2))
    words = task_words(task_text(tree))
    stats.words.update(words)
    stats.word_calls.update((w, label) for w in words for label in labels)
    if tree.success is not None:
        stats.labelled.update(labels)
        if tree.success:
            stats.success.update(labels)
    blamed = tree.labels.get("mistake_agent")
    if tree.success is False and isinstance(blamed, str) and blamed:
        stats.blamed[blamed] += 1


def build_stats(trees: Iterable[CallTree]) -> InteractionStats:
    """Statistics of the training trees (pass only training traces)."""
    stats = InteractionStats()
    for tree in trees:
        _add_tree(stats, tree)
    stats.children_of = dict(stats.children_of)
    stats.word_calls = Counter({pair: n for pair, n in stats.word_calls.items() if n >= MIN_WORD_PAIR})
    return stats


PAIR_COUNTERS = ("transitions", "follows", "cooccur", "word_calls")
"""Counters keyed by a pair of labels; stored as ``[a, b, count]`` rows."""


def _json_type(name: str) -> Any:
    if name == "n_traces":
        return StrictInt
    if name == "children_of":
        return dict[StrictStr, dict[StrictStr, StrictInt]]
    return list[tuple[StrictStr, StrictStr, StrictInt]] if name in PAIR_COUNTERS else dict[StrictStr, StrictInt]


_StatsDoc = create_model(  # the JSON shape of `InteractionStats`, every field required
    "InteractionStatsDoc", __config__=ConfigDict(extra="forbid"),
    **{f.name: (_json_type(f.name), ...) for f in fields(InteractionStats)},
)


def stats_to_dict(stats: InteractionStats) -> dict[str, Any]:
    """Statistics as JSON-ready data, counts in insertion order.

    >>> stats_to_dict(build_stats([]))["n_traces"]
    0
    """
    out: dict[str, Any] = {}
    for f in fields(stats):
        value = getattr(stats, f.name)
        if f.name in PAIR_COUNTERS:
            out[f.name] = [[a, b, n] for (a, b), n in value.items()]
        elif f.name == "children_of":
            out[f.name] = {parent: dict(called) for parent, called in value.items()}
        else:
            out[f.name] = value if f.name == "n_traces" else dict(value)
    return out


def stats_from_dict(data: Any) -> InteractionStats:
    """Statistics read back from `stats_to_dict` output.

    Raises:
        pydantic.ValidationError: a field is missing, unknown or of the wrong type (its path is named).
    """
    doc: BaseModel = _StatsDoc.model_validate(data)
    values: dict[str, Any] = {}
    for f in fields(InteractionStats):
        value = getattr(doc, f.name)
        if f.name in PAIR_COUNTERS:
            values[f.name] = Counter({(a, b): n for a, b, n in value})
        elif f.name == "children_of":
            values[f.name] = {parent: Counter(called) for parent, called in value.items()}
        else:
            values[f.name] = value if f.name == "n_traces" else Counter(value)
    return InteractionStats(**values)
