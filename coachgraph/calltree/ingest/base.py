"""The ingest-format interface and its registry, keyed by the name the CLI takes."""

from __future__ import annotations

import dataclasses
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from coachgraph.calltree.ingest.limits import Limits
from coachgraph.calltree.schema import CallTree, Pool
from coachgraph.errors import ConfigError

__all__ = [
    "FORMATS",
    "STRICT",
    "Item",
    "Layout",
    "Rejected",
    "Sample",
    "TraceFormat",
    "FieldError",
    "check",
    "describe_error",
    "excerpt",
    "get_format",
    "record_path",
    "register_format",
    "unreadable",
    "wrong",
]


class Rejected(BaseModel):
    """A record that could not be read: where it is (`file:line` or `file:$.json.path`), why,
    and the record itself (cut to `Limits.kept_record_bytes`), so that nothing is lost."""

    source: str
    reason: str
    record: str | None = None
    """The rejected input as text (JSON), cut short when longer than the kept size."""
    record_bytes: int | None = None
    """The rejected input's full size in bytes, where known."""
    partial: Any = Field(default=None, exclude=True, repr=False)
    """What could be read of a record over the depth limit: its top levels, deeper values
    null (readers that group records by trace read its trace id there)."""


_T = TypeVar("_T")

STRICT = ConfigDict(strict=True)
"""The config of every record shape (`with_config(STRICT)` on its TypedDicts): types are
checked, never coerced, so nothing is stored with a value the input did not have."""

Item = CallTree | Pool | Rejected
"""What a reader yields: a whole trace, a shared pool, or a record it had to reject."""

Layout = Literal["array", "object", "lines", "spans", "traces"]
"""How a file holds its records: a JSON array, one JSON object, JSON Lines, OTLP/JSON envelopes
(`spans`, sampled at their first span) or the agent-rec `{"traces": [...]}` object."""


@dataclass(frozen=True, slots=True)
class Sample:
    """The first record of a file and how the file holds its records: what detection reads."""

    path: Path
    layout: Layout
    record: Any


def excerpt(record: Any, limits: Limits, size: int | None = None) -> dict[str, Any]:
    """The `record` and `record_bytes` fields of a `Rejected` for raw bytes or a parsed value."""
    if isinstance(record, bytes | bytearray):
        data = bytes(record)
    else:
        data = json.dumps(record, default=_plain, ensure_ascii=False,
                          separators=(",", ":")).encode()
    kept = data[: limits.kept_record_bytes].decode("utf-8", errors="replace")
    return {"record": kept, "record_bytes": len(data) if size is None else size}


def _plain(value: Any) -> Any:
    """What the quarantine writes for a value JSON has no form for (a decoded span: its fields)."""
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else str(value)


class TraceFormat(ABC):
    """Reads one trace format into calling trees, streaming, one whole trace at a time.

    A reader never raises on a malformed record: it yields `Rejected` and goes on (or stops
    reading that file when the rest of it cannot be parsed), so the caller decides between
    quarantining and `--strict`. Every record is read within `limits`.
    """

    name: ClassVar[str]
    title: ClassVar[str]
    """What the format is called in messages, e.g. `OTLP/JSON (OpenTelemetry GenAI spans)`."""
    patterns: ClassVar[tuple[str, ...]] = ("*.json", "*.jsonl")
    """Glob patterns of the files read when a folder is given."""
    companions: ClassVar[tuple[str, ...]] = ()
    """Patterns of files read along with the inputs (shared pools), never as inputs."""
    joins_files: ClassVar[bool] = False
    """Whether a trace's records may lie in several files of one input (as where an exporter
    writes one request per file): the files of an input are then read together (`read_files`),
    else one by one."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()

    def files(self, path: Path) -> list[Path]:
        """The files to read for an input path: itself, or the matching files under a folder.

        By default, a folder gives every file matching `patterns`, recursively, sorted,
        leaving out companions.
        """
        if not path.is_dir():
            return [path]
        found = {f for pattern in self.patterns for f in path.rglob(pattern) if f.is_file()}
        return sorted(f for f in found if not any(f.match(c) for c in self.companions))

    def read(self, path: Path) -> Iterator[Item]:
        """Yield the items of an input path (a file or a folder)."""
        return self.read_files(self.files(path))

    def read_files(self, files: Sequence[Path]) -> Iterator[Item]:
        """Yield the items of files of one input, within `limits`.

        By default, each file's items in turn (`read_file`); a format that `joins_files`
        overrides this to join each trace's records across the files.
        """
        for file in files:
            yield from self.read_file(file)

    @abstractmethod
    def read_file(self, path: Path) -> Iterator[Item]:
        """Yield the traces, pools and rejected records of one file, in file order."""

    @classmethod
    @abstractmethod
    def recognises(cls, sample: Sample) -> bool:
        """Whether a file's first record has this format's telltale shape (its keys, not their
        types): what `--format auto` goes by, and what names the format of a misread file."""

    @classmethod
    def accepts(cls, sample: Sample) -> bool:
        """Whether this reader can read a file sampled so; by default, when it recognises it.
        A reader also reads shapes it does not recognise unless another format does."""
        return cls.recognises(sample)

    def convert(self, source: str, build: Callable[[], _T], record: Any) -> _T | Rejected:
        """Run `build` for one record; a malformed one becomes `Rejected` naming `source`, the
        field (by JSON path) and what it should be, and keeping the record."""
        try:
            return build()
        except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError,
                RecursionError, ValidationError) as exc:
            return Rejected(source=source, reason=describe_error(exc, record_path(source)),
                            **excerpt(record, self.limits))


def unreadable(path: Path, exc: OSError) -> Rejected:
    """The rejection of a file that cannot be read (gone, not permitted, a disk error)."""
    return Rejected(source=str(path), reason=f"cannot read the file: {exc.strerror or exc}")


FORMATS: dict[str, type[TraceFormat]] = {}


def register_format(name: str) -> Callable[[type[TraceFormat]], type[TraceFormat]]:
    """Class decorator that registers a format under `name`."""

    def decorate(cls: type[TraceFormat]) -> type[TraceFormat]:
        cls.name = name
        FORMATS[name] = cls
        return cls

    return decorate


def get_format(name: str, limits: Limits | None = None) -> TraceFormat:
    """A reader for format `name`; raises `ConfigError` listing the known names otherwise."""
    try:
        return FORMATS[name](limits)
    except KeyError:
        raise ConfigError(f"unknown trace format {name!r}; known: {', '.join(sorted(FORMATS))}") \
            from None


class FieldError(ValueError):
    """Fields of a record are missing or of the wrong type, each named by its JSON path under
    the record (`$`), with the type it should have and the value it has."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)

    def under(self, prefix: str) -> FieldError:
        """The same problems one level down: `prefix` (e.g. `.attributes[3]`) goes after `$`."""
        return FieldError([f"${prefix}{p[1:]}" for p in self.problems])


def wrong(path: str, expected: str, value: Any) -> FieldError:
    """A `FieldError` for one field: `wrong("$.name", "a string", None)`."""
    return FieldError([f"{path}: expected {expected}, got {_kind(value)}"])


def check(shape: TypeAdapter[Any], record: Any, path: str = "$") -> None:
    """Validate `record` against a strict shape; raise `FieldError` naming every bad field."""
    try:
        shape.validate_python(record)
    except ValidationError as exc:
        raise FieldError([path + p[1:] for p in _problems(exc)]) from None


def record_path(source: str) -> str:
    """The JSON path of a record from its source (`$` for a whole file or a line).

    >>> record_path("a.json:$.traces[2]"), record_path("a.jsonl:7"), record_path("a.json")
    ('$.traces[2]', '$', '$')
    """
    at = source.rfind(":$")
    return source[at + 1:] if at >= 0 else "$"


def describe_error(exc: BaseException, at: str = "$") -> str:
    """A one-line reason for a rejected record; for validation errors, the field's JSON path
    (under the record's own path `at`), the type it should have and the one it has."""
    if isinstance(exc, ValidationError):
        exc = FieldError(_problems(exc))
    if isinstance(exc, FieldError):
        return at + str(exc)[1:]
    if isinstance(exc, KeyError):
        return f"missing field {exc.args[0]!r}"
    if isinstance(exc, RecursionError):
        return "nested too deep to read"
    return f"{type(exc).__name__}: {exc}"


_EXPECTED = {
    "string_type": "a string", "string_too_short": "a non-empty string",
    "int_type": "an integer", "int_parsing": "an integer", "int_from_float": "an integer",
    "float_type": "a number", "float_parsing": "a number", "bool_type": "true or false",
    "bool_parsing": "true or false", "list_type": "an array", "tuple_type": "an array",
    "dict_type": "an object", "model_type": "an object", "model_attributes_type": "an object",
    "none_required": "null", "datetime_type": "a time", "datetime_parsing": "an ISO 8601 time",
    "datetime_from_date_parsing": "an ISO 8601 time",
}
_TAGS = {"str", "int", "float", "bool", "list", "dict", "none", "tuple"}


def _problems(exc: ValidationError) -> list[str]:
    """One line per field; the alternatives of a union are joined (`a string or null`)."""
    merged: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        if loc and loc[-1] in _TAGS or (len(loc) > 1 and str(loc[-1]).startswith(("function-",
                                                                                  "literal["))):
            loc = loc[:-1]
        merged.setdefault(loc, []).append(error)
    return [_problem(loc, errors) for loc, errors in merged.items()]


def _problem(loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> str:
    where = _json_path(loc)
    if any(e["type"] == "missing" for e in errors):
        return f"{where}: required field is missing"
    if errors[0]["type"] in ("too_short", "too_long"):
        ctx = errors[0]["ctx"]
        bound = ("at least", ctx["min_length"]) if errors[0]["type"] == "too_short" else (
            "at most", ctx["max_length"])
        return f"{where}: expected {bound[0]} {bound[1]} items, got {ctx['actual_length']}"
    wanted = " or ".join(dict.fromkeys(_expected(e) for e in errors))
    return f"{where}: expected {wanted}, got {_kind(errors[0].get('input'))}"


def _expected(error: dict[str, Any]) -> str:
    if error["type"] == "literal_error":
        return f"one of {error['ctx']['expected']}"
    return _EXPECTED.get(error["type"], error["msg"].removeprefix("Input should be ")
                         .removeprefix("Value error, "))


def _json_path(loc: tuple[Any, ...]) -> str:
    """`("history", 3, "role")` as `$.history[3].role`; keys that are not names are quoted.

    >>> _json_path(("history", 3, "role")), _json_path(("tools", "my tool"))
    ('$.history[3].role', '$.tools["my tool"]')
    """
    parts = ["$"]
    for step in loc:
        if isinstance(step, int):
            parts.append(f"[{step}]")
        elif str(step).isidentifier():
            parts.append(f".{step}")
        else:
            parts.append(f"[{json.dumps(str(step), ensure_ascii=False)}]")
    return "".join(parts)


def _kind(value: Any) -> str:
    """How a JSON value is named in messages (strings shown, cut to 40 characters)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "an array" if isinstance(value, list | tuple) else "an object"
