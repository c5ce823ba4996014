"""Usage statistics in SQLite, kept beside the skill folders and never in `SKILL.md`.

Counts are stored per (skill, student, task kind), so utility can be read for one student, one
task kind, or pooled. Utility is the Laplace-smoothed success rate ``(s + 1) / (n + 2)``: an
unused skill reads 0.5 rather than a division by zero.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydantic import BaseModel

from coachgraph.errors import InputError

__all__ = ["SCHEMA_VERSION", "SkillStats", "Usage"]

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS usage (
    skill TEXT NOT NULL, student TEXT NOT NULL, task_kind TEXT NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0, successes INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (skill, student, task_kind)
);
"""


class Usage(BaseModel):
    """Counts for one slice of the statistics."""

    uses: int = 0
    successes: int = 0

    @property
    def utility(self) -> float:
        return (self.successes + 1) / (self.uses + 2)

    @property
    def failures(self) -> int:
        return self.uses - self.successes


class SkillStats:
    """Per-skill uses and successes in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.executescript(_SCHEMA)
        self._check_version()

    def _check_version(self) -> None:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            self._db.commit()
        elif row[0] != str(SCHEMA_VERSION):
            raise InputError(f"unsupported schema_version {row[0]!r}", source=str(self.path))

    def record(self, skill: str, success: bool, student: str = "", task_kind: str = "") -> None:
        """Count one use of `skill` and whether it succeeded."""
        self._db.execute(
            "INSERT INTO usage VALUES (?, ?, ?, 1, ?) ON CONFLICT (skill, student, task_kind) "
            "DO UPDATE SET uses = uses + 1, successes = successes + excluded.successes",
            (skill, student, task_kind, int(success)),
        )
        self._db.commit()

    def usage(self, skill: str, student: str | None = None, task_kind: str | None = None) -> Usage:
        """Counts for `skill`, pooled over any of `student` and `task_kind` left as ``None``."""
        query = "SELECT COALESCE(SUM(uses), 0), COALESCE(SUM(successes), 0) FROM usage WHERE skill = ?"
        args: list[str] = [skill]
        for column, value in (("student", student), ("task_kind", task_kind)):
            if value is not None:
                query += f" AND {column} = ?"
                args.append(value)
        uses, successes = self._db.execute(query, args).fetchone()
        return Usage(uses=uses, successes=successes)

    def utility(self, skill: str, student: str | None = None, task_kind: str | None = None) -> float:
        """Smoothed success rate of `skill` for the slice."""
        return self.usage(skill, student, task_kind).utility

    def skills(self) -> list[str]:
        """Every skill with recorded uses."""
        return [r[0] for r in self._db.execute("SELECT DISTINCT skill FROM usage ORDER BY skill")]

    def close(self) -> None:
        self._db.close()
