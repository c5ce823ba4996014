"""What the curriculum graph's nodes receive through LangGraph's runtime context.

`CurriculumContext.from_run` builds it from a `RunConfig` (the run driver does). A LangGraph
server, which passes the context of a run as JSON, builds the same thing from
``{"run": {...RunConfig fields...}, "run_dir": "..."}``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from coachgraph.agents import BaseContext
from coachgraph.agents.context import ChatModelField
from coachgraph.curriculum import GateConfig, TaskSpace, Teacher, make_teacher
from coachgraph.errors import InputError
from coachgraph.graphs.curriculum.config import AgentConfig, RunConfig
from coachgraph.graphs.runs import plain_run_fields
from coachgraph.models import load_chat_model, load_student
from coachgraph.models.training import StudentTrainer, TrainConfig
from coachgraph.skills import SkillLibrary, install_starter, prerequisites_within
from coachgraph.tasks import TaskDomain, load_domain

__all__ = ["CurriculumContext", "check_run", "curriculum_configs"]


class CurriculumContext(BaseContext):
    """Dependencies of the curriculum nodes, injected as `Runtime[CurriculumContext].context`."""

    student: ChatModelField
    """The student's chat model (a trainable one when `trainer` is set)."""
    trainer: StudentTrainer | None = None
    """Updates the student's weights; None evaluates without training."""
    curriculum: Teacher
    """The curriculum algorithm the planner drives; its state is reloaded from graph state
    before each use."""
    run_dir: Path
    """Run folder: student states go to `run_dir/student/`, reflection markers to `run_dir/reflections/`."""
    agents: AgentConfig = Field(default_factory=AgentConfig)
    """Per-step knobs of the nodes."""
    skills: tuple[str, ...]
    """Skills practised and evaluated."""
    teacher_model: ChatModelField | None = None
    """A chat model that rewrites failed problems and writes new ones (when the agents' config
    asks for it) and writes skills by reflection; None uses the student."""

    @model_validator(mode="before")
    @classmethod
    def _from_plain_settings(cls, data: Any) -> Any:
        return plain_run_fields(data, RunConfig, _fields)

    @classmethod
    def from_run(cls, config: RunConfig, run_dir: Path) -> CurriculumContext:
        """The live dependencies of a run: models, trainer, domain, curriculum algorithm, library."""
        return cls(**_fields(config, run_dir))


def curriculum_configs(config: RunConfig, domain: TaskDomain, arms: tuple[str, ...]) -> dict[str, Any]:
    """Per-algorithm configs of a run: the run defaults, then `config.teacher_options` over them.

    Gating uses the domain's prerequisite graph within the run's skills; goal-directed practice
    uses it too, with the skills the run holds out for evaluation as its goals (what the run is
    measured on is what it aims at; all skills when none are named). ALP-GMM models the skill
    axis only (the domain's `level` knob indexes the same skill list, so it would add noise), and
    refits its mixture every two steps on the last two steps' episodes after two steps of uniform
    warm-up: its original schedule (250 episodes) is longer than a whole default run.

    >>> from coachgraph.tasks import ArithmeticDomain
    >>> run = RunConfig(agents=AgentConfig(batch_size=4))
    >>> curriculum_configs(run, ArithmeticDomain(), ("add-1d",))["alp-gmm"]
    {'nb_random': 8, 'fit_rate': 8, 'knobs': ()}
    """
    episodes = 2 * config.agents.batch_size
    gate = GateConfig(prerequisites=prerequisites_within(domain.prerequisites, arms))
    configs: dict[str, Any] = {"prereq-gate": asdict(gate), "goal": {**asdict(gate), "goals": config.agents.eval_skills},
                               "alp-gmm": {"nb_random": episodes, "fit_rate": episodes, "knobs": ()}}
    for name, options in config.teacher_options.items():
        configs[name] = {**configs.get(name, {}), **options}
    return configs


def check_run(config: RunConfig) -> None:
    """Check what a run names (domain, skills, curriculum algorithm and its options) without
    loading any model, so that a benchmark refuses a bad setting before its first run."""
    domain = load_domain(config.domain)
    _curriculum(config, domain, _skills(config, domain))


def _curriculum(config: RunConfig, domain: TaskDomain, skills: tuple[str, ...]) -> Teacher:
    space = TaskSpace.of(skills, domain.box())
    try:
        return make_teacher(config.teacher, space, seed=config.seed,
                            configs=curriculum_configs(config, domain, space.arms))
    except (KeyError, TypeError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        raise InputError(f"teacher {config.teacher!r}: {message}", source="teacher") from exc


def _skills(config: RunConfig, domain: TaskDomain) -> tuple[str, ...]:
    for source, names in (("skills", config.skills), ("agents.eval_skills", config.agents.eval_skills)):
        unknown = [s for s in names if s not in domain.skills]
        if unknown:
            raise InputError(f"unknown skill {unknown[0]!r} in domain {domain.name}; known: "
                             f"{', '.join(domain.skills)}", source=source)
    return config.skills or domain.skills


def _library(config: RunConfig, run_dir: Path) -> SkillLibrary | None:
    """The run's skill library, or None when nothing reads or writes it."""
    if config.agents.skills_k <= 0 and config.reflect_every <= 0:
        return None
    if config.library is not None:
        return SkillLibrary(Path(config.library), embeddings=None)
    library = SkillLibrary(run_dir / "skills", embeddings=None)
    if not library.names():
        install_starter(library)
    return library


def _fields(config: RunConfig, run_dir: Path) -> dict[str, Any]:
    domain = load_domain(config.domain)
    skills = _skills(config, domain)
    curriculum = _curriculum(config, domain, skills)
    teacher_model = load_chat_model(config.teacher_model) if config.teacher_model else None
    student = load_student(config.student, TrainConfig(lr=config.lr, lora_rank=config.lora_rank, seed=config.seed,
                                                            precision=config.train_precision),
                           precision=config.precision)
    return {"domain": domain, "seed": config.seed, "student": student.model, "trainer": student.trainer,
            "curriculum": curriculum, "run_dir": run_dir, "agents": config.agents, "skills": skills,
            "teacher_model": teacher_model, "library": _library(config, run_dir)}
