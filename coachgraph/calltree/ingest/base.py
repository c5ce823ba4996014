"""The ingest-format interface and its registry, keyed by the name the CLI takes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ValidationError

from coachgraph.calltree.schema import CallTree, Pool
from coachgraph.errors import ConfigError

__all__ = [
    "FORMATS",
    "Item",
    "Rejected",
    "TraceFormat",
    "describe_error",
    "get_format",
    "register_format",
]


class Rejected(BaseModel):
    """A record that could not be read: where it is (`file:line` or `file:$.json.path`) and why."""

    source: str
    reason: str


Item = CallTree | Pool | Rejected
"""What a reader yields: a whole trace, a shared pool, or a record it had to reject."""


class TraceFormat(ABC):
    """Reads one trace format into calling trees, streaming, one whole trace at a time.

    A reader never raises on a malformed record: it yields `Rejected` and goes on (or stops
    reading that file when the rest of it cannot be parsed), so the caller decides between
    quarantining and `--strict`.
    """

    name: ClassVar[str]
    patterns: ClassVar[tuple[str, ...]] = ("*.json", "*.jsonl")
    """Glob patterns of the files read when a folder is given."""

    def files(self, path: Path) -> list[Path]:
        """The files to read for an input path: itself, or the matching files under a folder.

        By default, a folder gives every file matching `patterns`, recursively, sorted.
        """
        if not path.is_dir():
            return [path]
        return sorted({f for pattern in self.patterns for f in path.rglob(pattern)})

    def read(self, path: Path) -> Iterator[Item]:
        """Yield the items of an input path (a file or a folder)."""
        for file in self.files(path):
            yield from self.read_file(file)

    @abstractmethod
    def read_file(self, path: Path) -> Iterator[Item]:
        """Yield the traces, pools and rejected records of one file, in file order."""


FORMATS: dict[str, type[TraceFormat]] = {}


def register_format(name: str) -> Callable[[type[TraceFormat]], type[TraceFormat]]:
    """Class decorator that registers a format under `name`."""

    def decorate(cls: type[TraceFormat]) -> type[TraceFormat]:
        cls.name = name
        FORMATS[name] = cls
        return cls

    return decorate


def get_format(name: str) -> TraceFormat:
    """A reader for format `name`; raises `ConfigError` listing the known names otherwise."""
    try:
        return FORMATS[name]()
    except KeyError:
        raise ConfigError(f"unknown trace format {name!r}; known: {', '.join(sorted(FORMATS))}") \
            from None


def describe_error(exc: Exception) -> str:
    """A one-line reason for a rejected record, naming the field for validation errors."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "record"
        return f"{where}: {first['msg']}" + (f" ({exc.error_count()} errors)"
                                              if exc.error_count() > 1 else "")
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    return f"{type(exc).__name__}: {exc}"
