"""Process-wide settings read from the environment, as a frozen dataclass.

There is no global mutable config object: callers build a `Settings` (or use `Settings.from_env()`)
and pass it down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_cache_dir

__all__ = ["Settings", "cache_dir"]


def cache_dir() -> Path:
    """The user cache directory, overridable with ``COACHGRAPH_CACHE_DIR``."""
    root = os.environ.get("COACHGRAPH_CACHE_DIR") or user_cache_dir("coachgraph")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True, slots=True)
class Settings:
    """Settings of one process."""

    cache: Path = field(default_factory=cache_dir)
    """Where converted weights and embedding caches are kept."""
    default_model: str = "smollm2"
    """Model spec used when a command is given none."""
    default_embeddings: str = "minilm"
    """Embedding spec used when a command is given none."""
    threads: int = 0
    """Torch intra-op threads; 0 keeps torch's default (all cores)."""

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``COACHGRAPH_MODEL``, ``COACHGRAPH_EMBEDDINGS`` and ``COACHGRAPH_THREADS``."""
        return cls(
            default_model=os.environ.get("COACHGRAPH_MODEL", "smollm2"),
            default_embeddings=os.environ.get("COACHGRAPH_EMBEDDINGS", "minilm"),
            threads=int(os.environ.get("COACHGRAPH_THREADS", "0")),
        )
