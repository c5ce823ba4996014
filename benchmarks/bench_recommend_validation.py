"""Methods and scorer settings compared on traces held out from the training split only.

`coachgraph bench recommend` reports on the 20% test split; choosing a feature, an architecture
or a setting by those figures would fit the test split. This script never reads it: it takes the
same 80% training split (seed 0), cuts it into `--folds` folds of traces, and for each fold learns
statistics and models from the other folds and ranks the fold's decisions, exactly as the
benchmark does for the test split. Figures are pooled over all folds' decisions.

Run: ``python benchmarks/bench_recommend_validation.py --store traces.sqlite coach paper-linear coach:seeds=1``

A method is a name from `baselines.METHODS`, optionally followed by ``:`` and ``;``-separated
`RecommenderConfig` fields (``coach:seeds=1``), `ScorerTrainConfig` fields after ``train.``
(``coach:train.min_val_traces=3``), tuples comma-separated (``coach:arch_choices=mlp,seq``); the
architecture is the method's own, so compare ``coach-seq`` for another.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import fields, replace

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.stores import open_store
from coachgraph.config import Settings
from coachgraph.models import load_embeddings
from coachgraph.recommend.baselines import LEARNED, METHODS, Method
from coachgraph.recommend.catalog import catalog_from_store
from coachgraph.recommend.checkpoint import model_dir
from coachgraph.recommend.evaluate import encode_split, rank_metrics, split_traces
from coachgraph.recommend.recommender import RecommenderConfig
from coachgraph.recommend.train import Encoded, ScorerTrainConfig


def fold_data(store: CallTreeStore, location: str, folds: int) -> list[tuple[Encoded, Encoded, int]]:
    """(training decisions, held-out decisions, vocabulary size) of each fold of the training split."""
    train_ids, _ = split_traces(store.trace_ids(), 0)
    ids = list(train_ids)
    random.Random(1).shuffle(ids)
    settings = Settings.from_env()
    catalog = catalog_from_store(store, store.iter_trees(), load_embeddings(settings.default_embeddings),
                                 model_dir(location, settings.cache))
    out = []
    for k in range(folds):
        held = sorted(ids[k::folds])
        rec, fit, val, _ = encode_split(store, catalog, sorted(set(ids) - set(held)), held, RecommenderConfig())
        out.append((fit, val, len(rec.vocab) + 1))
    return out


_PARSERS = {"str": str, "int": int, "float": float}


def _value(field_name: str, kind: str, text: str) -> object:
    """`text` as a value of the dataclass field `field_name`, whose annotation is `kind`."""
    if kind.startswith("tuple"):
        return tuple(part for part in text.split(",") if part)
    if kind not in _PARSERS:
        raise SystemExit(f"field {field_name} ({kind}) cannot be set from the command line")
    try:
        return _PARSERS[kind](text)
    except ValueError:
        raise SystemExit(f"field {field_name} must be {kind}, got {text!r}") from None


def _configured(cls: type, options: dict[str, str]) -> object:
    kinds = {f.name: str(f.type) for f in fields(cls)}
    unknown = sorted(set(options) - set(kinds))
    if unknown:
        raise SystemExit(f"unknown {cls.__name__} field(s): {', '.join(unknown)}")
    return cls(**{k: _value(k, kinds[k], v) for k, v in options.items()})


def method(spec: str) -> Method:
    """A method by name; ``coach:key=value;train.key=value;...`` sets fields of its config."""
    name, _, options = spec.partition(":")
    values = dict(pair.split("=", 1) for pair in options.split(";") if pair)
    trained = {k.removeprefix("train."): v for k, v in values.items() if k.startswith("train.")}
    own = {k: v for k, v in values.items() if not k.startswith("train.")}
    config = _configured(RecommenderConfig, own)
    config = replace(config, train=_configured(ScorerTrainConfig, trained))
    return METHODS[name](config)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("methods", nargs="*", default=[LEARNED, "paper-linear", "markov", "dense"])
    args = parser.parse_args()
    torch.set_num_threads(1)  # as `coachgraph bench recommend` trains: small batches, shared cores
    threadpool_limits(limits=1)
    with open_store(args.store) as store:
        folds = fold_data(store, args.store, args.folds)
    for spec in args.methods:
        top1, mrr = [], []
        for fit, val, n_items in folds:
            ranker = method(spec)
            ranker.fit(fit, n_items)
            per = rank_metrics(ranker.scores(val), val.targets)
            top1.append(per["top1"])
            mrr.append(per["mrr"])
        t, m = np.concatenate(top1), np.concatenate(mrr)
        print(f"{spec:28s} decisions {len(t):5d}  Top-1 {t.mean():.4f} ({t.sum():.1f})  MRR {m.mean():.4f}")


if __name__ == "__main__":
    main()
