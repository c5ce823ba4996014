"""Progress of the recommender's long steps, reported through a callback.

Training on a large store takes minutes (embedding every task text, featurising every decision,
fitting scorers), so each step reports how far it is. The library only calls the callback and
logs; the CLI draws the bars.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

__all__ = ["CHOOSE", "EMBED_ITEMS", "EMBED_QUERIES", "FEATURES", "FINGERPRINT", "Progress", "TRAIN", "report"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""Called as ``(stage, done, total)``: `done` of `total` units of a stage are finished. A stage
is reported at least once at its start (``done=0``) and once at its end (``done=total``)."""

FINGERPRINT = "reading the store"
EMBED_ITEMS = "embedding catalogue items"
EMBED_QUERIES = "embedding task texts"
FEATURES = "featurising decisions"
CHOOSE = "choosing the scorer on held-out traces"
TRAIN = "training the scorer (epochs)"


def report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    """Pass one step to `progress` (when given), and log the start and end of every stage."""
    if progress is not None:
        progress(stage, done, total)
    if done == 0 or done == total:
        logger.info("%s: %d of %d", stage, done, total)
