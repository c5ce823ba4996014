"""An orchestrate run's settings, declared once and saved as ``run.json`` in the run folder.

The file carries a `schema_version`; a file with an unknown field or version is refused naming
it, and a resume with settings that differ from the saved ones is refused naming each of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coachgraph.errors import ConfigError, InputError

__all__ = ["DEFAULT_TASK_SKILLS", "ORCHESTRATE_SCHEMA_VERSION", "OrchestrateConfig", "read_run_file",
           "run_id_of", "write_run_file"]

ORCHESTRATE_SCHEMA_VERSION = 1
"""Version of an orchestrate run's ``run.json``."""

DEFAULT_TASK_SKILLS = ("add-1d", "add-2d-carry", "sub-2d-borrow", "mul-2x1", "order-ops", "word-2step")
"""The task mix of a default run: one-digit facts, carries, borrows, a product, operator
precedence and two-step word problems, on which the built-in pool's members differ."""

OutputMode = Literal["last_message", "full_history"]


class OrchestrateConfig(BaseModel):
    """Everything an orchestrate run depends on (saved as ``run.json`` in the run folder)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pool: str | None = None
    """Pool file (YAML); None is the built-in arithmetic pool."""
    policy: str = "learned"
    """How teams are chosen: a key of `POLICIES` (``learned``, ``random``, ``fixed``)."""
    rounds: int = Field(default=4, ge=1)
    """Rounds of tasks."""
    tasks_per_round: int = Field(default=8, ge=1)
    """Tasks per round; a round's teams are chosen together and run side by side."""
    team_size: int = Field(default=3, ge=1)
    """Members per team (the same budget for every policy)."""
    retrain_every: int = Field(default=8, ge=0)
    """Retrain the recommender after at least this many new tasks (checked after each round, and
    once more at the end); 0 never retrains."""
    corpora: tuple[str, ...] = ()
    """Calling-tree stores whose traces the recommender also learns from (copied in at the start)."""
    seed: int = 0
    """Run seed: task draws, team draws, the recommender's weights."""
    domain: str = "arithmetic"
    """Where tasks come from (a task domain spec)."""
    skills: tuple[str, ...] = DEFAULT_TASK_SKILLS
    """Skills tasks are drawn from (uniformly); empty: every skill of the domain."""
    library: str | None = None
    """Skill library the pool's skill users read; None keeps one in the run folder with the starter skills."""
    supervisor: str | None = None
    """Chat model spec of a tool-calling supervisor; None follows the recommended call structure."""
    output_mode: OutputMode = "last_message"
    """What of a member's exchange joins the team's shared history."""
    fixed_team: tuple[str, ...] = ()
    """The `fixed` policy's team; empty: the members whose descriptions best match the pool's
    description (what retrieval alone, with no trace, would pick)."""
    prior_strength: float = Field(default=2.0, ge=0.0)
    """Pseudo-trials the recommender's belief is worth in a member's overall success rate."""
    kind_strength: float = Field(default=2.0, gt=0.0)
    """Pseudo-trials a member's overall success rate is worth on a kind of task it has not met."""
    recommender_arch: str = "mlp"
    """Scorer architecture retrained during the run."""
    recommender_steps: int = Field(default=200, ge=1)
    """Fewest optimiser steps of each retraining."""
    concurrency: int = Field(default=8, ge=1)
    """Tasks of a round run side by side (their model calls share batches)."""
    threads: int = Field(default=0, ge=0)
    """Torch threads the command line sets for the run (0: torch's default)."""

    @field_validator("skills", "corpora", "fixed_team", mode="before")
    @classmethod
    def _as_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


def run_id_of(config: OrchestrateConfig) -> str:
    """The run id of a run with these settings: policy, seed and a digest of the whole config, in
    which a pool file counts by its contents, not by where it lies.

    The teams' trace ids derive from it, and the recommender reads traces in trace-id order, so
    two runs with the same settings choose the same teams and train the same models, also when
    each reads its own copy of one pool file.

    >>> run_id_of(OrchestrateConfig(seed=3)) == run_id_of(OrchestrateConfig(seed=3)) != run_id_of(OrchestrateConfig())
    True
    >>> run_id_of(OrchestrateConfig()).startswith("orchestrate-learned-s0-")
    True
    """
    settings = config.model_dump(mode="json")
    if config.pool is not None and Path(config.pool).is_file():
        settings["pool"] = hashlib.sha256(Path(config.pool).read_bytes()).hexdigest()
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()
    return f"orchestrate-{config.policy}-s{config.seed}-{digest[:8]}"


def write_run_file(path: Path, run_id: str, config: OrchestrateConfig) -> None:
    """Write ``run.json``: schema version, kind, run id and the whole config."""
    data = {"schema_version": ORCHESTRATE_SCHEMA_VERSION, "kind": "orchestrate", "run_id": run_id,
            "config": config.model_dump(mode="json")}
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _field_path(error: Mapping[str, Any]) -> str:
    return ".".join(str(part) for part in ("config", *error["loc"]))


def read_run_file(path: Path) -> tuple[OrchestrateConfig, str]:
    """The config and run id in ``run.json``; anything unreadable is refused naming the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read the run file: {err}", source=str(path)) from err
    if not isinstance(data, dict) or data.get("kind") != "orchestrate":
        raise InputError("not the run file of an orchestrate run", source=str(path))
    if data.get("schema_version") != ORCHESTRATE_SCHEMA_VERSION:
        raise ConfigError(f"{path}: schema_version {data.get('schema_version')!r}; this coachgraph reads "
                          f"orchestrate run files of version {ORCHESTRATE_SCHEMA_VERSION}")
    unknown = sorted(set(data) - {"schema_version", "kind", "run_id", "config"})
    if unknown:
        raise ConfigError(f"{path}: unknown field {unknown[0]!r}")
    try:
        return OrchestrateConfig.model_validate(data.get("config")), str(data["run_id"])
    except KeyError as err:
        raise ConfigError(f"{path}: missing field 'run_id'") from err
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigError(f"{path}: field {_field_path(first)!r}: {first['msg']}") from err
