"""Vector index types looked up by name, so configs and the CLI can pick one with a string."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from coachgraph.errors import ConfigError, InputError
from coachgraph.retrieval.base import VectorIndex

__all__ = ["INDEXES", "create_index", "load_index", "register_index"]

IndexFactory = type[VectorIndex]
INDEXES: dict[str, IndexFactory] = {}
"""Index classes by name; each is built as ``cls(dim, **options)`` and read with ``cls.load``."""

F = TypeVar("F", bound=IndexFactory)


def register_index(name: str) -> Callable[[F], F]:
    """Register a `VectorIndex` subclass (built as ``cls(dim, **options)``) under `name`."""

    def decorate(factory: F) -> F:
        if name in INDEXES:
            raise ConfigError(f"index type {name!r} is already registered")
        INDEXES[name] = factory
        return factory

    return decorate


def _lookup(name: str) -> IndexFactory:
    try:
        return INDEXES[name]
    except KeyError:
        known = ", ".join(sorted(INDEXES))
        raise ConfigError(f"unknown index type {name!r}; known: {known}") from None


def create_index(name: str, dim: int, **options: Any) -> VectorIndex:
    """Build the index registered as `name`; raise `ConfigError` listing the known names."""
    return _lookup(name)(dim, **options)


def load_index(path: Path) -> VectorIndex:
    """Read a saved index of any registered type, found from its ``meta.json``."""
    meta_file = path / "meta.json"
    if not meta_file.is_file():
        raise InputError("no saved index here (meta.json missing)", source=str(path))
    kind = json.loads(meta_file.read_text(encoding="utf-8")).get("kind", "")
    return _lookup(str(kind)).load(path)
