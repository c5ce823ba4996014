"""Which traces a recommender was trained on, and whether its store has changed since.

A store keeps a content digest of every trace and shared pool (written with it, so reading them
touches no node). A fingerprint is one 64-bit key per trace (its id and content digest hashed
together), kept sorted, plus a SHA-256 over those keys and the pools' digests. Comparing two
fingerprints says whether anything changed, and comparing their keys how many traces were added
or changed and how many removed or changed. On a store of a million nodes this reads one row
per trace and takes a fraction of a second.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from coachgraph.calltree.base import CallTreeStore

__all__ = ["Freshness", "StoreFingerprint", "compare", "store_fingerprint"]


@dataclass(frozen=True, eq=False)
class StoreFingerprint:
    """The content of a store at one moment (two are the same content when their `digest` is)."""

    digest: str
    """SHA-256 (hex) over every trace's key and every pool's name and digest."""
    keys: np.ndarray
    """One key per trace, sorted, ``(n_traces,)`` int64."""
    pools: int
    """Shared pools counted in `digest`."""

    @property
    def traces(self) -> int:
        return len(self.keys)


def _key(trace_id: str, digest: str) -> int:
    raw = hashlib.sha256(f"{trace_id}\x1f{digest}".encode()).digest()
    return int.from_bytes(raw[:8], "little", signed=True)


def store_fingerprint(store: CallTreeStore) -> StoreFingerprint:
    """The fingerprint of everything a recommender trained on `store` reads: traces and pools."""
    traces = store.trace_digests()
    keys = np.sort(np.fromiter((_key(t, d) for t, d in traces.items()), np.int64, len(traces)))
    pools = store.pool_digests()
    h = hashlib.sha256(keys.tobytes())
    for name in sorted(pools):
        h.update(f"\x1e{name}\x1f{pools[name]}".encode())
    return StoreFingerprint(h.hexdigest(), keys, len(pools))


@dataclass(frozen=True)
class Freshness:
    """How a store compares with the one a recommender was trained on."""

    fresh: bool
    """Nothing changed (same traces, same content, same pools)."""
    trained_on: int
    """Traces the recommender was trained on."""
    now: int
    """Traces the store holds now."""
    added: int
    """Traces that are new or whose content changed since training."""
    removed: int
    """Traces trained on that are gone or whose content changed."""

    def describe(self) -> str:
        """One sentence for a user, e.g. "the store changed since training: ..."."""
        if self.fresh:
            return f"the recommender is up to date with the store ({self.now} traces)"
        if self.added == 0 and self.removed == 0:
            return "the store's shared pools changed since the recommender was trained"
        return (f"the store changed since the recommender was trained on {self.trained_on} traces: it now holds "
                f"{self.now} ({self.added} new or changed, {self.removed} removed or changed)")


def compare(trained: StoreFingerprint, current: StoreFingerprint) -> Freshness:
    """How `current` differs from the fingerprint `trained` a recommender was trained on.

    >>> a = StoreFingerprint("x", np.array([1, 2, 3]), 0)
    >>> compare(a, StoreFingerprint("y", np.array([2, 3, 4, 5]), 0)).describe()
    'the store changed since the recommender was trained on 3 traces: it now holds 4 (2 new or changed, 1 removed or changed)'
    """
    if trained.digest == current.digest:
        return Freshness(True, trained.traces, current.traces, 0, 0)
    added = int((~np.isin(current.keys, trained.keys, assume_unique=True)).sum())
    removed = int((~np.isin(trained.keys, current.keys, assume_unique=True)).sum())
    return Freshness(False, trained.traces, current.traces, added, removed)
