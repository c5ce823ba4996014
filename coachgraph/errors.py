"""One error hierarchy for the whole package.

Every error that reaches a user names what was wrong and where (the spec, file, line or field),
so that the message alone is enough to fix the input.
"""

from __future__ import annotations

__all__ = [
    "CoachgraphError",
    "ConfigError",
    "InputError",
    "InputLimitError",
    "MissingDependencyError",
    "ModelSpecError",
    "PrerequisiteCycleError",
    "SaveError",
    "SkillError",
    "SkillNotFoundError",
    "SkillValidationError",
    "StoreError",
    "WeightsNotFoundError",
]


class CoachgraphError(Exception):
    """Base class of every error raised on purpose by coachgraph."""


class ConfigError(CoachgraphError):
    """A setting or option has a value that cannot be used."""


class InputError(CoachgraphError, ValueError):
    """User input (a prompt, a record, a request field) is malformed.

    Args:
        message: what is wrong.
        source: where it is, e.g. ``"traces.json:12"`` or ``"request.body.task"``.
    """

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class InputLimitError(InputError):
    """Input goes past a reader limit (nesting depth, record size, memory held).

    Args:
        message: what is over which limit, e.g. ``"nested deeper than 128 levels"``.
        source: where it is.
        limit: the setting that bounds it, e.g. ``"max_depth"``.
    """

    def __init__(self, message: str, *, source: str | None = None, limit: str) -> None:
        self.limit = limit
        super().__init__(message, source=source)


class ModelSpecError(CoachgraphError, ValueError):
    """A model spec string names no registered backend or is malformed."""


class MissingDependencyError(CoachgraphError, ImportError):
    """An optional package is needed; the message names the pip command that installs it."""


class WeightsNotFoundError(CoachgraphError, FileNotFoundError):
    """Model weights are not on disk; the message names the pip command or path to fix it."""


class SkillError(CoachgraphError):
    """A skill library operation cannot be carried out."""


class SkillValidationError(SkillError, InputError):
    """A `SKILL.md` file or skill folder breaks the Agent Skills spec or our `metadata` fields.

    Args:
        message: what is wrong.
        source: the file, e.g. ``"skills/add-fractions/SKILL.md"``.
        field: the front-matter field at fault, e.g. ``"name"`` or ``"metadata.coachgraph.kind"``.
    """

    def __init__(self, message: str, *, source: str | None = None, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message, source=source)


class SkillNotFoundError(SkillError, KeyError):
    """No skill (or no such version of it) exists in the library."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "skill not found"


class PrerequisiteCycleError(SkillError):
    """The skills' prerequisites form a cycle; the message lists it, e.g. ``a -> b -> a``."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("prerequisite cycle: " + " -> ".join([*cycle, cycle[0]]))


class StoreError(CoachgraphError):
    """A calling-tree store cannot be opened or holds records this version cannot read."""


class SaveError(CoachgraphError, OSError):
    """A run's state could not be written (a full disk, a folder without write access); what was
    saved before stays as it was."""
