"""Fitting the team recommender on training traces, every setting chosen on folds of them.

Training traces fall into `TeamModelConfig.folds` folds by a hash of their id. The candidates of
a fold's traces are featurised with the statistics and teams of the other folds only, as a new
query is with those of every training trace, so no feature has seen its own trace's team. Then:

1. the member scorer of each architecture in `arch_choices` is trained on all folds but one and
   predicts the one left out; the architecture with the lower held-out log-loss is kept, then
   so is the `unread_choices` setting (which agent-level feature groups it leaves unread) of the
   lower held-out log-loss, and the held-out probabilities of the pair kept feed the next steps
   (stacking);
2. the edge model learns from every (caller, callee) pair of each true team;
3. the edge threshold is the one whose call structures of the true teams best match their
   edges (directed edge F1);
4. the team scorer ranks, for every training trace, candidate teams drawn from its held-out
   member probabilities, the true team and perturbations of it (a member replaced, dropped or
   added, as the reference method perturbs the true subtree), each scored by how well its
   members and edges match the truth; the decoding rule (`mbr` at one of three sharpnesses, or
   `argmax`) that picks the better teams on these traces, each scored by a team scorer fitted on
   the other folds, is kept (`teamsets`).

No test trace is read: pass training trace ids only.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.schema import CallTree
from coachgraph.errors import InputError
from coachgraph.recommend.context import task_text
from coachgraph.recommend.features import FeatureEnv, group_slices
from coachgraph.recommend.recommender import Recommender
from coachgraph.recommend.scorer import Scorer, ScorerConfig
from coachgraph.recommend.stats import build_stats
from coachgraph.recommend.structure import ENTRY, TeamStructure, team_structure
from coachgraph.recommend.teamfeatures import (
    EDGE_FEATURES,
    SET_FEATURES,
    EdgePriors,
    Neighbours,
    edge_features,
    set_features,
)
from coachgraph.recommend.teammodel import (
    StandardLinear,
    TeamModelConfig,
    fit_edges,
    fit_members,
    fit_sets,
)
from coachgraph.recommend.teamrec import (
    TeamModel,
    TeamQuery,
    call_structure,
    edge_probabilities,
    encode_queries,
    member_probabilities,
    without_groups,
)
from coachgraph.recommend.teamsets import SetRows, choose_decode, training_candidates
from coachgraph.recommend.teamstats import TeamHistory, build_team_stats, trace_root
from coachgraph.recommend.train import Encoded, batch_tensors, concat, trace_bucket

__all__ = ["MIN_TEAMS", "THRESHOLDS", "fit_team_model", "history_of", "learns_teams", "structure_f1", "team_examples",
           "team_query"]

logger = logging.getLogger(__name__)

THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
"""Edge thresholds compared on folds of training traces."""
MIN_TEAMS = 10
"""Fewest training traces with a team that a team recommender is learned from."""


def team_examples(trees: Iterable[CallTree]) -> list[CallTree]:
    """The traces of `trees` with a team to recommend: less those that failed, if any succeeded.

    A failed team is no example of the team to pick where successes are recorded too; a corpus
    of failures only (annotated failure logs) still shows which teams its tasks got.

    >>> from coachgraph.calltree.schema import CallNode
    >>> def run(i, ok):
    ...     return CallTree(trace_id=str(i), success=ok, nodes=[CallNode(id="r", trace_id=str(i), kind="chain"),
    ...                     CallNode(id="a", parent_id="r", trace_id=str(i), kind="agent", agent="a")])
    >>> [t.trace_id for t in team_examples([run(1, True), run(2, False), run(3, None)])]
    ['1', '3']
    >>> [t.trace_id for t in team_examples([run(1, False), run(2, False)])]
    ['1', '2']
    """
    teams = [t for t in trees if team_structure(t).members]
    if not any(t.success for t in teams):
        return teams
    return [t for t in teams if t.success is not False]


def learns_teams(trees: Sequence[CallTree]) -> bool:
    """Whether `trees` hold teams enough to learn from: `MIN_TEAMS` traces with a team, and a team
    of two or more members among them.

    >>> learns_teams([])
    False
    """
    teams = [team_structure(t).members for t in team_examples(trees)]
    return sum(bool(m) for m in teams) >= MIN_TEAMS and any(len(m) >= 2 for m in teams)


def team_query(store: CallTreeStore, tree: CallTree, names: Sequence[str]) -> TeamQuery:
    """The query a trace answers: its task, its root's label and the pool it states (else `names`).

    The pool is stated by the source before the run, so it carries no label.
    """
    shared = store.get_pool(tree.pool_ref) if tree.pool_ref else None
    pool = {e.name for e in tree.pool} | {e.name for e in (shared.entries if shared else ())}
    return TeamQuery(tree.trace_id, task_text(tree), trace_root(tree),
                     tuple(sorted(pool)) if len(pool) > 1 else tuple(names))


def history_of(rec: Recommender, trees: Sequence[CallTree]) -> TeamHistory:
    """The teams of `trees` with their task vectors."""
    stats = build_team_stats(trees)
    vectors = rec.catalog.embed_queries(stats.tasks) if stats.tasks else np.zeros((0, rec.catalog.vectors.shape[1]), np.float32)
    return TeamHistory(stats, vectors)


def structure_f1(pred: TeamStructure | tuple[Collection[str], Collection[tuple[str, str]]],
                 true: TeamStructure) -> tuple[float, float]:
    """Member F1 and directed edge F1 of a predicted team against the true one (1 where both are empty).

    >>> t = TeamStructure(frozenset({"a", "b"}), frozenset({(ENTRY, "a"), ("a", "b")}))
    >>> structure_f1((["a"], [(ENTRY, "a")]), t)
    (0.6666666666666666, 0.6666666666666666)
    """
    members, edges = (pred.members, pred.edges) if isinstance(pred, TeamStructure) else pred

    def f1(a: set, b: set) -> float:
        return 2 * len(a & b) / (len(a) + len(b)) if a or b else 1.0

    return f1(set(members), set(true.members)), f1(set(edges), set(true.edges))


@dataclass(slots=True)
class _Fold:
    """Training traces of one fold, featurised with the other folds' history."""

    trees: list[CallTree]
    data: Encoded
    near: list[Neighbours]
    history: TeamHistory


def _folds(rec: Recommender, store: CallTreeStore, trees: list[CallTree], every: list[CallTree],
           config: TeamModelConfig) -> list[_Fold]:
    """The folds of `trees` (the team examples), each featurised with the teams of the others and
    the agent-level statistics of `every` training trace in the others, failed runs included, as
    the recommender's own statistics count them: else a success rate would read higher on
    training traces than on a query."""
    n = max(config.folds, 2)
    names = rec.catalog.names()
    out = []
    for k in range(n):
        inside = [t for t in trees if trace_bucket(t.trace_id, n) == k]
        outside = [t for t in trees if trace_bucket(t.trace_id, n) != k]
        if not inside or not outside:
            continue
        history = history_of(rec, outside)
        stats = build_stats(t for t in every if trace_bucket(t.trace_id, n) != k)
        vocab = {label: i for label, i in rec.vocab.items() if stats.calls.get(label) or stats.parent_calls.get(label)}
        queries = [team_query(store, t, names) for t in inside]
        data, near = encode_queries(rec, history, queries, config.neighbours, FeatureEnv(rec.catalog, stats), vocab)
        out.append(_Fold(inside, data, near, history))
    return out


def _labels(data: Encoded, trees: Sequence[CallTree]) -> np.ndarray:
    y = np.zeros(data.mask.shape, np.float32)
    for i, tree in enumerate(trees):
        members = team_structure(tree).members
        y[i, :len(data.names[i])] = [n in members for n in data.names[i]]
    return y


def _new_scorer(data: Encoded, arch: str, seed: int, n_items: int) -> Scorer:
    flat = data.feats[data.mask] if data.mask.any() else np.zeros((1, data.feats.shape[-1]), np.float32)
    std = flat.std(0)
    n_agent = max(s.stop for s in group_slices().values())
    groups = (*((g, s.start, s.stop) for g, s in group_slices().items()), ("team", n_agent, data.feats.shape[-1]))
    return Scorer(ScorerConfig(n_features=data.feats.shape[-1], arch=arch, n_items=n_items, groups=groups, seed=seed,
                               mean=tuple(flat.mean(0).tolist()), std=tuple(np.where(std < 1e-3, 1.0, std).tolist())))


def _train_members(data: Encoded, labels: np.ndarray, arch: str, config: TeamModelConfig, n_items: int) -> Scorer:
    model = _new_scorer(data, arch, config.train.seed, n_items)
    fit_members(model, batch_tensors(data, slice(None)), labels, data.traces, config.train)
    return model


def _held_out(data: list[Encoded], labels: list[np.ndarray], arch: str, config: TeamModelConfig,
              n_items: int) -> list[np.ndarray]:
    """Each fold's member probabilities from a scorer trained on the other folds."""
    out = []
    for k, fold in enumerate(data):
        rest = [d for j, d in enumerate(data) if j != k]
        y = _pad([lab for j, lab in enumerate(labels) if j != k], max(d.mask.shape[1] for d in rest))
        model = _train_members(concat(rest), y, arch, config, n_items)
        out.append(member_probabilities(model, fold))
    return out


def _pad(parts: list[np.ndarray], width: int) -> np.ndarray:
    return np.concatenate([np.pad(p, [(0, 0), (0, width - p.shape[1])]) for p in parts])


def _log_loss(probs: list[np.ndarray], labels: list[np.ndarray], folds: list[_Fold]) -> float:
    p = np.concatenate([pr[f.data.mask] for pr, f in zip(probs, folds, strict=True)]).clip(1e-6, 1 - 1e-6)
    y = np.concatenate([lab[f.data.mask] for lab, f in zip(labels, folds, strict=True)])
    return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())


def _is_tool(rec: Recommender) -> dict[str, bool]:
    return {item.name: item.kind == "tool" for item in rec.catalog.items}


def _edge_rows(folds: list[_Fold], is_tool: dict[str, bool]) -> tuple[np.ndarray, np.ndarray]:
    x, y = [], []
    for fold in folds:
        priors = EdgePriors.of(fold.history.stats)
        for tree, near in zip(fold.trees, fold.near, strict=True):
            team = team_structure(tree)
            for b in sorted(team.members):
                for a in (ENTRY, *sorted(team.members - {b})):
                    x.append(edge_features(fold.history.stats, priors, near, a, b, is_tool))
                    y.append(float((a, b) in team.edges))
    return (np.stack(x) if x else np.zeros((0, len(EDGE_FEATURES)), np.float32)), np.array(y, np.float32)


def _choose_members(folds: list[_Fold], labels: list[np.ndarray], config: TeamModelConfig,
                    n_items: int) -> tuple[str, tuple[str, ...], list[np.ndarray]]:
    """The member architecture, then the agent-level groups it leaves unread, each of lowest
    held-out log-loss, and the held-out probabilities of the pair kept."""
    rows = sum(int(f.data.mask.sum()) for f in folds)
    archs = config.arch_choices if len(config.arch_choices) > 1 and rows <= config.select_below else (config.arch,)
    tried: dict[tuple[str, tuple[str, ...]], tuple[float, list[np.ndarray]]] = {}

    def trial(arch: str, unread: tuple[str, ...]) -> None:
        probs = _held_out([without_groups(f.data, unread) for f in folds], labels, arch, config, n_items)
        tried[(arch, unread)] = (_log_loss(probs, labels, folds), probs)
        logger.info("team members, held-out training traces: %s without %s, log-loss %.4f",
                    arch, list(unread), tried[(arch, unread)][0])

    for arch in archs:
        trial(arch, config.unread)
    arch = min(archs, key=lambda a: tried[(a, config.unread)][0])
    for unread in config.unread_choices:
        if (arch, unread) not in tried:
            trial(arch, unread)
    (arch, unread), (_, probs) = min(tried.items(), key=lambda item: item[1][0])
    return arch, unread, probs


def _fold_models(folds: list[_Fold], members: Scorer, edges: StandardLinear, config: TeamModelConfig) -> list[TeamModel]:
    """One model per fold that reads the fold's history (the other folds' teams)."""
    blank = StandardLinear(len(SET_FEATURES))
    return [TeamModel(f.history, members, edges, blank, config) for f in folds]


def _edge_tables(models: list[TeamModel], folds: list[_Fold], probs: list[np.ndarray], pool: int,
                 is_tool: dict[str, bool]) -> list[list[dict[tuple[str, str], float]]]:
    """Edge probabilities among each training trace's likeliest candidates and its true members."""
    out = []
    for model, fold, prob in zip(models, folds, probs, strict=True):
        rows = []
        for i, (tree, near) in enumerate(zip(fold.trees, fold.near, strict=True)):
            ranked = _ranked(fold.data.names[i], prob[i])
            names = list(dict.fromkeys([*ranked[:pool + 2], *sorted(team_structure(tree).members)]))
            rows.append(edge_probabilities(model, near, names, is_tool))
        out.append(rows)
    return out


def _ranked(names: Sequence[str], prob: np.ndarray) -> list[str]:
    return [names[j] for j in np.argsort(-prob[:len(names)], kind="stable")]


def _choose_threshold(folds: list[_Fold], tables: list[list[dict[tuple[str, str], float]]]) -> float:
    """The edge threshold whose structures of the true teams best match their true edges."""
    def score(threshold: float) -> float:
        values = []
        for fold, rows in zip(folds, tables, strict=True):
            for tree, table in zip(fold.trees, rows, strict=True):
                true = team_structure(tree)
                edges, _ = call_structure(table, sorted(true.members), threshold)
                values.append(structure_f1((true.members, edges), true)[1])
        return float(np.mean(values)) if values else 0.0

    scores = {t: score(t) for t in THRESHOLDS}
    logger.info("team edges, held-out training traces: edge F1 by threshold %s", scores)
    return max(THRESHOLDS, key=lambda t: (scores[t], -abs(t - 0.5)))


def _set_rows(folds: list[_Fold], probs: list[np.ndarray], tables: list[list[dict[tuple[str, str], float]]],
              threshold: float, pool: int, seed: int) -> SetRows:
    rng = random.Random(seed)
    rows: list[tuple[np.ndarray, np.ndarray]] = []
    decoded: list[list[tuple[str, ...]]] = []
    fold_of = np.concatenate([np.full(len(f.trees), k) for k, f in enumerate(folds)])
    for fold, prob, table in zip(folds, probs, tables, strict=True):
        for i, (tree, near) in enumerate(zip(fold.trees, fold.near, strict=True)):
            ranked = _ranked(fold.data.names[i], prob[i])
            teams, n_generated = training_candidates(tree, ranked, near, pool, fold.history.stats, rng)
            p = {n: float(v) for n, v in zip(fold.data.names[i], prob[i], strict=False)}
            shown = {n: p[n] for n in ranked[:pool]}
            true = team_structure(tree)
            feats, gains = [], []
            for team in teams:
                edges, fit = call_structure(table[i], team, threshold)
                feats.append(set_features(fold.history.stats, near, team, {**shown, **{m: p[m] for m in team}}, edges, fit))
                gains.append(float(np.mean(structure_f1((team, edges), true))))
            rows.append((np.stack(feats), np.array(gains, np.float32)))
            decoded.append(teams[:n_generated])
    width = max((len(g) for _, g in rows), default=1)
    x = np.zeros((len(rows), width, len(SET_FEATURES)), np.float32)
    mask, gain = np.zeros((len(rows), width), bool), np.zeros((len(rows), width), np.float32)
    for r, (f, g) in enumerate(rows):
        x[r, :len(g)], mask[r, :len(g)], gain[r, :len(g)] = f, True, g
    return SetRows(x, mask, gain, decoded, fold_of)


def fit_team_model(rec: Recommender, store: CallTreeStore, train_ids: Sequence[str],
                   config: TeamModelConfig | None = None) -> TeamModel:
    """The team recommender learned from the traces `train_ids` of `store` (see the module docstring);
    `rec` supplies the catalogue, retrieval and agent-level features.

    Raises:
        InputError: the traces hold too few teams (`learns_teams`).
    """
    config = config or TeamModelConfig()
    every = list(store.iter_trees(train_ids))
    trees = team_examples(every)
    folds = _folds(rec, store, trees, every, config) if learns_teams(trees) else []
    if not folds:
        raise InputError(f"{len(trees)} training traces with a team are too few to learn teams from "
                         f"(at least {MIN_TEAMS}, one team of two or more members)", source="team recommender")
    config = replace(config, pool=max(config.pool, max(len(team_structure(t).members) for t in trees) + 2))
    is_tool = _is_tool(rec)
    labels = [_labels(f.data, f.trees) for f in folds]
    n_items = len(rec.vocab) + 1
    arch, unread, probs = _choose_members(folds, labels, config, n_items)
    data = without_groups(concat([f.data for f in folds]), unread)
    members = _train_members(data, _pad(labels, data.mask.shape[1]), arch, config, n_items)
    edges = fit_edges(*_edge_rows(folds, is_tool))
    tables = _edge_tables(_fold_models(folds, members, edges, config), folds, probs, config.pool, is_tool)
    threshold = _choose_threshold(folds, tables)
    rows = _set_rows(folds, probs, tables, threshold, config.pool, config.train.seed)
    sets = fit_sets(rows.x, rows.mask, rows.gain)
    decode, sharpness = choose_decode(rows)
    chosen = replace(config, arch=arch, unread=unread, edge_threshold=threshold, decode=decode, sharpness=sharpness)
    return TeamModel(history_of(rec, trees), members, edges, sets, chosen)
