"""Process-wide settings read from the environment, as a frozen dataclass.

There is no global mutable config object: callers build a `Settings` (or use `Settings.from_env()`)
and pass it down.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field
from pathlib import Path

from platformdirs import user_cache_dir

__all__ = ["Settings", "cache_dir", "default_inference_model"]


def cache_dir() -> Path:
    """The user cache directory, overridable with ``COACHGRAPH_CACHE_DIR``."""
    root = os.environ.get("COACHGRAPH_CACHE_DIR") or user_cache_dir("coachgraph")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_inference_model() -> str:
    """The spec for roles that only generate: llama.cpp on the embedded GGUF where
    llama-cpp-python is installed (the fastest on a CPU), else the local transformers backend."""
    return "llamacpp" if importlib.util.find_spec("llama_cpp") is not None else "smollm2"


@dataclass(frozen=True, slots=True)
class Settings:
    """Settings of one process."""

    cache: Path = field(default_factory=cache_dir)
    """Where converted weights and embedding caches are kept."""
    default_model: str = "smollm2"
    """Model spec used when a command is given none (and for a student, which trains)."""
    inference_model: str = field(default_factory=default_inference_model)
    """Model spec for roles that generate and never train (teacher, critic, planner, tutor,
    pool agents, `coachgraph generate` and `chat`)."""
    default_embeddings: str = "minilm"
    """Embedding spec used when a command is given none."""
    threads: int = 0
    """Torch intra-op threads; 0 keeps torch's default (all cores)."""

    @classmethod
    def from_env(cls) -> Settings:
        """Read ``COACHGRAPH_MODEL``, ``COACHGRAPH_INFERENCE_MODEL``, ``COACHGRAPH_EMBEDDINGS`` and
        ``COACHGRAPH_THREADS``."""
        return cls(
            default_model=os.environ.get("COACHGRAPH_MODEL", "smollm2"),
            inference_model=os.environ.get("COACHGRAPH_INFERENCE_MODEL") or default_inference_model(),
            default_embeddings=os.environ.get("COACHGRAPH_EMBEDDINGS", "minilm"),
            threads=int(os.environ.get("COACHGRAPH_THREADS", "0")),
        )
