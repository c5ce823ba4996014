"""A curriculum run's settings, declared once: `RunConfig` holds the run's own settings and the
agents' `AgentConfig`, and is saved as ``run.json`` in the run folder.

Schedule knobs (how many steps, when to evaluate, reflect and save) are run settings that the
driver copies into graph state, where the routing functions and nodes read them; the agents'
config holds only what nodes need at every step. ``run.json`` carries a `schema_version`; a file
with an unknown field or version is refused naming it, and a resume with settings that differ
from the saved ones is refused naming each of them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from coachgraph.agents import Objective
from coachgraph.errors import ConfigError, InputError

__all__ = ["DEFAULT_SKILLS", "RUN_SCHEMA_VERSION", "AgentConfig", "RunConfig",            "read_run_file", "write_run_file"]

RUN_SCHEMA_VERSION = 2
"""Version of ``run.json``; version 1 (no `schema_version` field) was a flat config."""

DEFAULT_SKILLS = ("add-1d", "sub-1d", "mul-1d", "add-2d", "sub-2d", "add-2d-carry", "mul-2x2", "word-2step")
"""Skills of a default run: the embedded student nearly masters the one-digit ones, can learn the
two-digit ones within a few dozen steps, and stays far from `mul-2x2` and `word-2step`."""

ProcessReward = Literal["none", "clip", "delta", "clip+delta"]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AgentConfig(_Settings):
    """What the nodes of a curriculum run read at every step."""

    batch_size: int = Field(default=8, ge=1)
    """Problems per training step (curriculum decisions sampled by the planner)."""
    samples: int = Field(default=4, ge=1)
    """Answers sampled per problem (G); GRPO needs at least 2 to see any advantage."""
    objective: Objective = "sft"
    """Training objective of the learn node (a key of `OBJECTIVES`): ``sft``, ``grpo``, ``nsr``,
    ``w-reinforce`` or ``redi``."""
    positive_weight: float = Field(default=0.1, ge=0.0)
    """lambda of ``w-reinforce``: the weight of correct answers (wrong ones weigh -1)."""
    negative_weight: float = Field(default=0.8, ge=0.0)
    """alpha of ``redi``: the weight of each pair's wrong answer (its positive weighs 1)."""
    eval_size: int = Field(default=16, ge=1)
    """Held-out problems per skill in each evaluation (a prefix of the fixed set)."""
    eval_skills: tuple[str, ...] = ()
    """Skills evaluated on their held-out sets; empty evaluates the run's skills. A run can
    practise every skill and be scored on the ones it can learn."""
    max_tokens: int = Field(default=48, ge=1)
    """Longest student answer, in tokens."""
    temperature: float = Field(default=1.0, ge=0.0)
    """Sampling temperature of the student's training answers (evaluation is greedy)."""
    skills_k: int = Field(default=1, ge=0)
    """Library skills retrieved into each student prompt (0: none)."""
    reformulate: int = Field(default=0, ge=0)
    """Failed problems the teacher model rewrites per step (0 turns reformulation off)."""
    synthesize: int = Field(default=0, ge=0)
    """Missing skills the teacher model writes a new problem for per step (STAT-Syn; 0: off)."""
    process_reward: ProcessReward = "none"
    """Process reward added to the outcome reward (card 13)."""
    crew: bool = True
    """CRew scores for correct answers, when the student can score tokens."""
    initial_accuracy: dict[str, float] | None = None
    """Held-out accuracy of the untrained student measured by an earlier run with the same student,
    skills, held-out set and prompts (the benchmark measures it once for all its runs); None
    measures it at step 0."""


class RunConfig(_Settings):
    """Everything a curriculum run depends on (saved as ``run.json`` in the run folder)."""

    teacher: str = "sec"
    """Curriculum algorithm spec for `make_teacher`, e.g. ``"prereq-gate+sec"``."""
    teacher_options: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Config fields per curriculum algorithm, over the run defaults (`curriculum_configs`),
    e.g. ``{"alp-gmm": {"fit_rate": 32}}``."""
    steps: int = Field(default=30, ge=1)
    """Training steps."""
    seed: int = 0
    """Run seed (curriculum algorithm, problem draws, student samples, trainer)."""
    domain: str = "arithmetic"
    """Task domain spec: ``arithmetic`` or ``jsonl:<path>`` (a GSM8K-style file)."""
    skills: tuple[str, ...] = DEFAULT_SKILLS
    """Skills to practise and evaluate; empty means every skill of the domain."""
    student: str = "smollm2"
    """Chat model spec of the student; it must be trainable (``smollm2``, ``hf:<path>``)."""
    precision: Literal["fp32", "bf16", "int8"] = "bf16"
    """Decoder precision of the student's sampling and evaluation (``fp32``, ``bf16``, ``int8``).
    After every weight update the fp32 and bf16 decoders copy the new weights in place; int8 is
    rebuilt with a calibration pass. bf16 samples about 1.4 times as fast as fp32 on CPUs with
    bf16 units; the weights that train stay float32 whatever it is."""
    train_precision: Literal["fp32", "bf16"] = "bf16"
    """Arithmetic of the student's training step (`TrainConfig.precision`): ``bf16`` runs the
    matrix products in bfloat16 on float32 weights, gradients and optimiser state (about 1.5
    times as fast as ``fp32`` on CPUs with bf16 units)."""
    teacher_model: str | None = None
    """Chat model spec that rewrites failed problems and writes new ones."""
    lr: float = Field(default=5e-5, gt=0.0)
    """Learning rate of the student."""
    lora_rank: int = Field(default=0, ge=0)
    """0 trains all weights; > 0 trains LoRA adapters of that rank."""
    library: str | None = None
    """Shared skill library folder; None keeps one in the run folder, seeded with the starter skills."""
    eval_every: int = Field(default=10, ge=0)
    """Steps between held-out evaluations (and at the start and the end; 0: only there)."""
    reflect_every: int = Field(default=25, ge=0)
    """Steps between reflections that write skills back into the library (0: never)."""
    save_every: int = Field(default=10, ge=1)
    """Steps between saved student states (a resume replays at most this many steps)."""
    export: bool = True
    """Export the trained student as a transformers checkpoint when the run ends."""
    threads: int = Field(default=0, ge=0)
    """Torch threads the command line sets for the run (0: torch's default). The library never
    changes thread counts; a resume uses the saved value, since it changes float results."""
    agents: AgentConfig = Field(default_factory=AgentConfig)
    """What the nodes read at every step."""

    @field_validator("skills", mode="before")
    @classmethod
    def _skills_as_tuple(cls, value: Any) -> Any:
        return tuple(value) if isinstance(value, list) else value


def write_run_file(path: Path, run_id: str, config: RunConfig) -> None:
    """Write ``run.json``: schema version, run id and the whole config."""
    data = {"schema_version": RUN_SCHEMA_VERSION, "run_id": run_id, "config": config.model_dump(mode="json")}
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def _field_path(error: Mapping[str, Any]) -> str:
    return ".".join(str(part) for part in ("config", *error["loc"]))


def read_run_file(path: Path) -> tuple[RunConfig, str]:
    """The config and run id in ``run.json``; anything unreadable is refused naming the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read the run file: {err}", source=str(path)) from err
    if not isinstance(data, dict):
        raise InputError("the run file is not a JSON object", source=str(path))
    version = data.get("schema_version")
    if version != RUN_SCHEMA_VERSION:
        said = "no schema_version (an older coachgraph wrote it)" if version is None else f"schema_version {version!r}"
        raise ConfigError(f"{path}: {said}; this coachgraph reads run files of version {RUN_SCHEMA_VERSION}")
    unknown = sorted(set(data) - {"schema_version", "run_id", "config"})
    if unknown:
        raise ConfigError(f"{path}: unknown field {unknown[0]!r}")
    config = data.get("config")
    if isinstance(config, dict):  # written before training had a precision setting: it trained in float32
        config = {"train_precision": "fp32", **config}
    try:
        return RunConfig.model_validate(config), str(data["run_id"])
    except KeyError as err:
        raise ConfigError(f"{path}: missing field 'run_id'") from err
    except ValidationError as err:
        first = err.errors()[0]
        raise ConfigError(f"{path}: field {_field_path(first)!r}: {first['msg']}") from err
