"""Corpora a run's recommender also learns from: calling-tree stores copied into the run's store."""

from __future__ import annotations

import logging
from pathlib import Path

from coachgraph.calltree.base import CallTreeStore
from coachgraph.calltree.stores import open_store
from coachgraph.errors import InputError

__all__ = ["check_corpus", "copy_corpus"]

logger = logging.getLogger(__name__)

BATCH = 500
"""Traces written per transaction."""


def check_corpus(location: str) -> None:
    """Refuse a corpus path with no store (a corpus is a store made with ``coachgraph ingest``)."""
    if "://" not in location and not Path(location).is_file():
        raise InputError("no calling-tree store there; make one with: coachgraph ingest --format FORMAT "
                         f"--store {location} FILES", source=location)


def copy_corpus(location: str, target: CallTreeStore) -> int:
    """Copy every trace and shared pool of the store at `location` into `target`; returns how many
    traces changed `target` (none when they are there already, so copying again changes nothing).

    Raises:
        InputError: `location` is a file path that does not exist (see `check_corpus`).
    """
    check_corpus(location)
    changed = 0
    with open_store(location) as source:
        for name in source.pools():
            pool = source.get_pool(name)
            if pool is not None:
                target.put_pool(pool)
        batch = []
        for tree in source.iter_trees():
            batch.append(tree)
            if len(batch) >= BATCH:
                changed += target.put_trees(batch)
                batch = []
        changed += target.put_trees(batch)
    logger.info("corpus %s: %d traces changed the run's store", location, changed)
    return changed
