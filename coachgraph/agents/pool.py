"""Agent pools: the agents and tools a team can be made of, declared in a YAML file a user can replace.

A member is named by what it is: a LangChain tool (``tool: module:attribute``), a LangGraph graph
(``graph: module:attribute``, a compiled graph or a function that builds one), or a chat model by
spec (``model: smollm2``) that coachgraph turns into an agent. Each has a description, a cost and
the kinds of task it serves. The file carries a `schema_version`; it is read with a safe YAML
loader, and an import path is resolved only when a team uses the member that declares it, so
loading a pool never imports or runs anything. A bad file is refused with one line naming the
file, the line and the field.

Members are told apart only by their descriptions and by what their calling trees show: nothing
in a pool marks a member as good or bad.
"""

from __future__ import annotations

import functools
import importlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coachgraph.calltree.schema import PoolEntry
from coachgraph.errors import ConfigError, InputError

__all__ = [
    "BUILTIN_POOL",
    "POOL_SCHEMA_VERSION",
    "MemberSpec",
    "PoolFile",
    "load_pool",
    "pool_entries",
    "resolve_import",
]

POOL_SCHEMA_VERSION = 1
"""Version of the pool file format."""
BUILTIN_POOL = Path(__file__).parent / "pools" / "arithmetic.yaml"
"""The built-in pool for the embedded default: solvers, tools, a checker, the skill router, and
the faulty members a real marketplace has."""
MAX_POOL_BYTES = 1_000_000
"""Largest pool file read."""

_IMPORT_PATH = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
Scalar = str | int | float | bool | None


class MemberSpec(BaseModel):
    """One agent or tool of a pool."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    """Unique name (lowercase letters, digits, ``-`` and ``_``): what a team and a trace call it."""
    description: str = Field(min_length=1, max_length=1024)
    """What it does, as its author states it; the recommender reads it."""
    cost: float = Field(default=1.0, ge=0.0)
    """Price of one call, in the pool's own unit."""
    serves: tuple[str, ...] = ("*",)
    """Task kinds it is for: a domain (``arithmetic``), a skill (``arithmetic.add-2d``) or ``*``."""
    tool: str | None = None
    """Import path of a LangChain `BaseTool`."""
    graph: str | None = None
    """Import path of a LangGraph graph over ``messages``, or of a function building one (called
    with `model` when the member names one, `library` when it takes one, and `options`)."""
    model: str | None = None
    """Chat model spec; alone, coachgraph makes an agent of it (`instructions`, `skills`, `tools`)."""
    instructions: str = ""
    """System prompt of a model agent."""
    skills: int = Field(default=0, ge=0, le=8)
    """Library skills retrieved into a model agent's prompt."""
    tools: tuple[str, ...] = ()
    """Tool members a model agent may call, by name; ``team`` means the tools of its team."""
    max_tokens: int = Field(default=64, ge=1, le=4096)
    """Longest reply of a model agent."""
    options: dict[str, Scalar] = Field(default_factory=dict)
    """Keyword arguments of a graph-building function."""

    @field_validator("tool", "graph")
    @classmethod
    def _import_path(cls, value: str | None) -> str | None:
        if value is not None and not _IMPORT_PATH.match(value):
            raise ValueError(f"{value!r} is not an import path of the form package.module:attribute")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> MemberSpec:
        if sum(x is not None for x in (self.tool, self.graph, self.model)) == 0:
            raise ValueError("a member needs one of tool, graph or model")
        if self.tool is not None and (self.graph or self.model):
            raise ValueError("a tool member takes neither graph nor model")
        agent_fields = self.instructions or self.skills or self.tools
        if agent_fields and (self.tool is not None or self.graph is not None):
            raise ValueError("instructions, skills and tools belong to model agents (model without graph)")
        if self.options and self.graph is None:
            raise ValueError("options are the keyword arguments of a graph-building function (graph)")
        return self

    @property
    def kind(self) -> Literal["agent", "tool"]:
        """``tool`` for a LangChain tool, ``agent`` for everything else."""
        return "tool" if self.tool is not None else "agent"

    def serves_kind(self, task_kind: str) -> bool:
        """Whether it serves a task kind ``domain.skill``.

        >>> m = MemberSpec(name="c", description="d", tool="m:t", serves=("arithmetic",))
        >>> m.serves_kind("arithmetic.add-2d"), m.serves_kind("gsm8k.word")
        (True, False)
        """
        domain = task_kind.split(".", 1)[0]
        return any(s in ("*", task_kind, domain) for s in self.serves)


class PoolFile(BaseModel):
    """A pool file: its members and what it is for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: int
    name: str = Field(pattern=_NAME)
    description: str = ""
    members: tuple[MemberSpec, ...] = Field(min_length=1)

    @field_validator("schema_version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != POOL_SCHEMA_VERSION:
            raise ValueError(f"version {value} is not supported (this coachgraph reads version {POOL_SCHEMA_VERSION})")
        return value

    @model_validator(mode="after")
    def _references(self) -> PoolFile:
        names = [m.name for m in self.members]
        duplicate = next((n for n in names if names.count(n) > 1), None)
        if duplicate is not None:
            raise ValueError(f"member name {duplicate!r} is used twice")
        tools = {m.name for m in self.members if m.kind == "tool"}
        for member in self.members:
            unknown = [t for t in member.tools if t != "team" and t not in tools]
            if unknown:
                raise ValueError(f"member {member.name!r} calls {unknown[0]!r}, which is no tool member of the pool")
        return self

    def member(self, name: str) -> MemberSpec:
        """The member called `name`."""
        for member in self.members:
            if member.name == name:
                return member
        raise InputError(f"no member {name!r} in pool {self.name!r}; members: {', '.join(self.names)}", source="pool")

    @property
    def names(self) -> list[str]:
        """Member names in file order."""
        return [m.name for m in self.members]


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc` (as deep as the document goes)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def _no_aliases(node: yaml.Node | None, source: str) -> None:
    """Refuse YAML aliases: one anchor reused many times expands into a document far larger than
    its file (and validating it would take as long)."""
    seen: set[int] = set()
    stack = [node] if node is not None else []
    while stack:
        current = stack.pop()
        if id(current) in seen:
            raise InputError(f"line {current.start_mark.line + 1}: YAML anchors and aliases are not allowed",
                             source=source)
        seen.add(id(current))
        if isinstance(current, yaml.MappingNode):
            stack += [part for pair in current.value for part in pair]
        elif isinstance(current, yaml.SequenceNode):
            stack += current.value


def _field(loc: tuple[Any, ...]) -> str:
    """A validation location as a field path, e.g. ``members[2].cost``.

    >>> _field(("members", 2, "cost"))
    'members[2].cost'
    """
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def load_pool(path: str | Path | None = None) -> PoolFile:
    """Read and check a pool file (the built-in pool when `path` is None).

    Raises:
        InputError: the file is missing, too large, not YAML, or a field is wrong; the message
            names the file, the line and the field.
    """
    path = Path(path) if path is not None else BUILTIN_POOL
    try:
        if path.stat().st_size > MAX_POOL_BYTES:
            raise InputError(f"larger than {MAX_POOL_BYTES} bytes", source=str(path))
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        _no_aliases(node, str(path))
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read the pool file: {err}", source=str(path)) from err
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise InputError(f"not valid YAML: {getattr(err, 'problem', err)}", source=where) from err
    if not isinstance(data, dict):
        raise InputError("a pool file is a mapping with schema_version, name and members", source=str(path))
    try:
        return PoolFile.model_validate(data)
    except ValidationError as err:
        first = err.errors()[0]
        line = _line_of(node, first["loc"])
        where = f"{path}:{line}" if line else str(path)
        field = _field(first["loc"]) or "pool"
        raise InputError(f"{field}: {first['msg']}", source=where) from None


@functools.cache
def resolve_import(path: str) -> Any:
    """The object an import path ``package.module:attribute`` names (imported once per process).

    Only paths a pool file declares are resolved, and only when a team uses their member.

    >>> resolve_import("coachgraph.agents.calculators:evaluate").__name__
    'evaluate'

    Raises:
        ConfigError: the path is malformed, the module cannot be imported or lacks the attribute.
    """
    if not _IMPORT_PATH.match(path):
        raise ConfigError(f"{path!r} is not an import path of the form package.module:attribute")
    module_name, _, attribute = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
    except ImportError as err:
        raise ConfigError(f"{path}: cannot import {module_name}: {err}") from err
    for part in attribute.split("."):
        if not hasattr(target, part):
            raise ConfigError(f"{path}: {module_name} has no attribute {attribute!r}")
        target = getattr(target, part)
    return target


def pool_entries(pool: PoolFile) -> list[PoolEntry]:
    """The pool as calling-tree candidates (name, kind, description): what the recommender reads."""
    return [PoolEntry(name=m.name, kind=m.kind, description=m.description) for m in pool.members]
