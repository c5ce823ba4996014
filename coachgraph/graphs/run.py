"""`train_run`: wire models, domain, curriculum teacher, trainer and tracer, run the graph, write outputs.

A run folder holds everything needed to resume: ``run.json`` (config and run id), the LangGraph
checkpoints (``checkpoints.sqlite``, thread id = run id) and the trainer states
(``student/step-<n>/``). `train_run(None, run_dir, resume=True)` continues where the run stopped
and ends with the same result as an uninterrupted run.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver

from coachgraph.agents import AgentConfig, AgentContext, saved_steps, trainer_folder
from coachgraph.calltree.stores import open_store
from coachgraph.calltree.tracer import CallTreeTracer
from coachgraph.curriculum import GateConfig, TaskSpace, make_teacher
from coachgraph.errors import InputError
from coachgraph.graphs.curriculum import build_curriculum_graph
from coachgraph.graphs.outputs import curriculum_of, final_accuracy, write_report
from coachgraph.models import load_chat_model
from coachgraph.models.training import StudentTrainer, TrainConfig
from coachgraph.skills import SkillLibrary, install_starter
from coachgraph.tasks import PREREQUISITES, ArithmeticDomain
from coachgraph.types import Curriculum

__all__ = ["DEFAULT_SKILLS", "RunConfig", "RunResult", "load_run", "prerequisites_within", "teacher_configs",
           "train_run"]

logger = logging.getLogger(__name__)

Progress = Callable[[str, Mapping[str, Any]], None]
"""Called with (node name, its state update) after every node; the CLI draws bars from it."""


DEFAULT_SKILLS = ("add-1d", "sub-1d", "mul-1d", "add-2d", "sub-2d", "add-2d-carry", "mul-2x2", "word-2step")
"""Skills of a default run: the embedded student nearly masters the one-digit ones, can learn the
two-digit ones within a few dozen steps, and stays far from `mul-2x2` and `word-2step`."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    """Everything a curriculum run depends on (saved as ``run.json`` in the run folder)."""

    teacher: str = "sec"
    """Curriculum algorithm spec for `make_teacher`, e.g. ``"prereq-gate+sec"``."""
    teacher_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Config fields per teacher name, over the run defaults (`teacher_configs`), e.g.
    ``{"alp-gmm": {"fit_rate": 32}}``."""
    steps: int = 30
    """Training steps."""
    seed: int = 0
    """Run seed (teacher, problem draws, student samples, trainer)."""
    student: str = "smollm2"
    """Chat model spec of the student; it must be local (``smollm2``, ``hf:<path>``) to train."""
    precision: str = "fp32"
    """Decoder precision of the local student (``fp32``, ``bf16``, ``int8``). The decoder is rebuilt
    after every weight update: fp32 rebuilds in about 3 s, int8 needs a calibration pass (about 20 s)."""
    teacher_model: str | None = None
    """Chat model spec that rewrites failed problems (with `reformulate` > 0)."""
    reformulate: int = 0
    """Failed problems rewritten per step by the teacher model."""
    objective: str = "sft"
    """``sft`` or ``grpo``."""
    batch_size: int = 8
    """Problems per step."""
    samples: int = 4
    """Answers per problem (G)."""
    eval_every: int = 10
    """Steps between held-out evaluations."""
    eval_size: int = 16
    """Held-out problems per skill in each evaluation."""
    skills: tuple[str, ...] = DEFAULT_SKILLS
    """Skills to practise and evaluate; empty means all skills of the domain."""
    max_tokens: int = 48
    """Longest student answer in tokens."""
    temperature: float = 1.0
    """Sampling temperature of training answers."""
    lr: float = 5e-5
    """Learning rate of the student."""
    lora_rank: int = 0
    """0 trains all weights; > 0 trains LoRA adapters of that rank."""
    library: str | None = None
    """Shared skill library folder; None keeps one in the run folder, seeded with the starter skills."""
    skills_k: int = 1
    """Library skills retrieved into each student prompt (0: none)."""
    reflect_every: int = 25
    """Steps between reflections that write skills back into the library (0: never)."""
    save_every: int = 10
    """Steps between saved student states (a resume replays at most this many steps)."""
    export: bool = True
    """Export the trained student as a transformers checkpoint when the run ends."""
    process_reward: str = "none"
    """Process reward added to the outcome reward: ``none``, ``clip``, ``delta``, ``clip+delta``."""
    synthesize: int = 0
    """New problems the teacher model writes per step for the student's missing skills (STAT-Syn)."""
    crew: bool = True
    """CRew scores for correct answers (local student only)."""
    threads: int = 0
    """Torch threads of the local student (0: torch's default)."""
    initial_accuracy: dict[str, float] | None = None
    """Held-out accuracy of the untrained student measured by an earlier run with the same student,
    skills, held-out set and prompts (the benchmark measures it once for all its runs); None
    measures it at step 0."""

    def to_json(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {**asdict(self), "skills": list(self.skills)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunConfig:
        """Read what `to_json` wrote."""
        return cls(**{**data, "skills": tuple(data.get("skills", ()))})


def teacher_configs(config: RunConfig, arms: tuple[str, ...]) -> dict[str, Any]:
    """Per-teacher configs of a run: the run defaults, then `config.teacher_options` over them.

    Gating uses the prerequisite graph within the run's skills. ALP-GMM models the skill axis
    only (the domain's `level` knob indexes the same skill list, so it would add noise), and
    refits its mixture every two steps on the last two steps' episodes after two steps of uniform
    warm-up: its original schedule (250 episodes) is longer than a whole default run.

    >>> teacher_configs(RunConfig(batch_size=4), ("add-1d",))["alp-gmm"]
    {'nb_random': 8, 'fit_rate': 8, 'knobs': ()}
    """
    episodes = 2 * config.batch_size
    configs: dict[str, Any] = {"prereq-gate": asdict(GateConfig(prerequisites=prerequisites_within(arms))),
                               "alp-gmm": {"nb_random": episodes, "fit_rate": episodes, "knobs": ()}}
    for name, options in config.teacher_options.items():
        configs[name] = {**configs.get(name, {}), **options}
    return configs


@dataclass(slots=True)
class RunResult:
    """What `train_run` returns."""

    run_dir: Path
    run_id: str
    steps_done: int
    finished: bool
    """False when the run stopped early (`stop_after`); resume it with ``resume=True``."""
    curriculum: Curriculum
    history: list[dict[str, Any]]
    """Held-out evaluations ``{"step", "accuracy": {skill: float}}`` in order."""
    final_accuracy: dict[str, float]
    outputs: dict[str, Path] = field(default_factory=dict)
    """Output name -> path (curriculum, mastery, curves, report, checkpoint); empty if unfinished."""


def load_run(run_dir: str | Path) -> tuple[RunConfig, str]:
    """The config and run id saved in `run_dir`."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        raise InputError(f"{path}: not a run folder (no run.json)", source=str(path))
    data = json.loads(path.read_text(encoding="utf-8"))
    return RunConfig.from_json(data["config"]), str(data["run_id"])


def _start_run(config: RunConfig, run_dir: Path) -> str:
    run_id = f"{config.teacher}-s{config.seed}-{uuid.uuid4().hex[:8]}"
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "run.json").write_text(json.dumps({"run_id": run_id, "config": config.to_json()}, indent=2),
                                      encoding="utf-8")
    return run_id


def _agent_config(config: RunConfig) -> AgentConfig:
    return AgentConfig(batch_size=config.batch_size, samples=config.samples, objective=config.objective,
                       eval_every=config.eval_every, eval_size=config.eval_size, eval_skills=config.skills,
                       max_tokens=config.max_tokens, temperature=config.temperature,
                       skills_k=config.skills_k, reformulate=config.reformulate, crew=config.crew,
                       reflect_every=config.reflect_every, process_reward=config.process_reward,
                       synthesize=config.synthesize, save_every=config.save_every, seed=config.seed,
                       initial_accuracy=config.initial_accuracy)


def prerequisites_within(skills: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The domain's prerequisite graph restricted to `skills`: a prerequisite outside the set is
    replaced by its own nearest prerequisites inside it, so gating never waits on a skill the run
    does not practise.

    >>> prerequisites_within(("add-1d", "add-2d-carry", "mul-2x2"))["mul-2x2"]
    ('add-2d-carry',)
    """
    inside = set(skills)

    def nearest(skill: str) -> set[str]:
        found: set[str] = set()
        for pre in PREREQUISITES.get(skill, ()):
            found |= {pre} if pre in inside else nearest(pre)
        return found

    return {s: tuple(sorted(nearest(s))) for s in skills}


def build_context(config: RunConfig, run_dir: Path) -> AgentContext:
    """The live dependencies of a run: models, trainer, domain, teacher, library."""
    student = load_chat_model(config.student, precision=config.precision, threads=config.threads)
    trainer = StudentTrainer(student.lm, TrainConfig(lr=config.lr, lora_rank=config.lora_rank, seed=config.seed))
    domain = ArithmeticDomain()
    space = TaskSpace.of(config.skills or domain.skills, domain.box())
    try:
        teacher = make_teacher(config.teacher, space, seed=config.seed, configs=teacher_configs(config, space.arms))
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"teacher {config.teacher!r}: {exc}", source="teacher_options") from exc
    return AgentContext(
        student=student, trainer=trainer, domain=domain, teacher=teacher, run_dir=run_dir,
        config=_agent_config(config),
        teacher_model=load_chat_model(config.teacher_model) if config.teacher_model else None,
        library=_library(config, run_dir))


def _library(config: RunConfig, run_dir: Path) -> SkillLibrary | None:
    """The run's skill library, or None when nothing reads or writes it."""
    if config.skills_k <= 0 and config.reflect_every <= 0:
        return None
    if config.library is not None:
        return SkillLibrary(Path(config.library), embeddings=None)
    library = SkillLibrary(run_dir / "skills", embeddings=None)
    if not library.names():
        install_starter(library)
    return library


@contextmanager
def _tracer(run_dir: Path, run_id: str) -> Iterator[CallTreeTracer]:
    """The calling-tree tracer of a run, writing to ``calltrees.sqlite`` in the run folder."""
    store = open_store(run_dir / "calltrees.sqlite")
    try:
        yield CallTreeTracer(store, session_id=run_id)
    finally:
        store.close()


@contextmanager
def _checkpointer(run_dir: Path) -> Iterator[SqliteSaver]:
    conn = sqlite3.connect(run_dir / "checkpoints.sqlite", check_same_thread=False)
    try:
        yield SqliteSaver(conn)
    finally:
        conn.close()


def _drive(graph: Any, inputs: Mapping[str, Any] | None, invoke: dict[str, Any], ctx: AgentContext,
           stop_after: int | None, progress: Progress | None) -> None:
    """Stream the graph to its end, or stop once `stop_after` steps are done (as a kill would)."""
    for update in graph.stream(inputs, invoke, context=ctx, stream_mode="updates", durability="sync"):
        for node, values in update.items():
            if progress is not None and isinstance(values, Mapping):
                progress(node, values)
            if stop_after is not None and node == "learn" and values["step"] >= stop_after:
                logger.info("stopping after step %d as asked", values["step"])
                return


def _resume_config(graph: Any, invoke: dict[str, Any], ctx: AgentContext) -> dict[str, Any]:
    """Where a resumed run continues: its last checkpoint, or the one of its newest saved student.

    The trainer state is saved every `save_every` steps, so the graph may be ahead of it. Then the
    run forks from the checkpoint right after the learn node that ended the saved step (the
    oldest one holding that step) and replays the steps after it, which repeat exactly.
    """
    step = int(graph.get_state(invoke).values.get("step", 0))
    if ctx.trainer is None:
        return invoke
    saved = max((s for s in saved_steps(ctx.run_dir) if s <= step), default=0)
    if saved:
        ctx.trainer.load(trainer_folder(ctx.run_dir, saved))
    if saved == step:
        return invoke
    at = [s for s in graph.get_state_history(invoke) if s.values.get("step") == saved]
    logger.info("replaying steps %d-%d from the checkpoint of step %d", saved + 1, step, saved)
    return at[-1].config | {"callbacks": invoke["callbacks"], "recursion_limit": invoke["recursion_limit"]}


def train_run(config: RunConfig | None, run_dir: str | Path, resume: bool = False, *,
              stop_after: int | None = None, progress: Progress | None = None) -> RunResult:
    """Run (or resume) a curriculum run in `run_dir` and write its outputs when it finishes.

    Args:
        config: the run's settings; with `resume`, None reads them from ``run.json``.
        run_dir: the run folder (created when new).
        resume: continue the run saved in `run_dir` from its last checkpoint.
        stop_after: stop once this many steps are done, leaving a resumable run.
        progress: called after every node with its name and state update.
    """
    run_dir = Path(run_dir)
    if resume:
        saved, run_id = load_run(run_dir)
        config = config or saved
    elif config is None:
        raise InputError("a new run needs a config", source="config")
    else:
        run_id = _start_run(config, run_dir)
    ctx = build_context(config, run_dir)
    with _tracer(run_dir, run_id) as tracer, _checkpointer(run_dir) as saver:
        invoke = {"configurable": {"thread_id": run_id}, "callbacks": [tracer], "recursion_limit": 10**6}
        graph = build_curriculum_graph(checkpointer=saver)
        start = _resume_config(graph, invoke, ctx) if resume else invoke
        inputs = None if resume else {"run_id": run_id, "max_steps": config.steps, "step": 0,
                                      "eval_every": config.eval_every, "reflect_every": config.reflect_every,
                                      "teacher_state": json.dumps(ctx.teacher.state_dict())}
        _drive(graph, inputs, start, ctx, stop_after, progress)
        snapshot = graph.get_state(invoke)
    return _result(config, run_dir, run_id, snapshot.values, not snapshot.next, ctx)


def _result(config: RunConfig, run_dir: Path, run_id: str, values: Mapping[str, Any], finished: bool,
            ctx: AgentContext) -> RunResult:
    curriculum = curriculum_of(values, config.teacher, config.seed)
    history = list(values.get("history", []))
    outputs: dict[str, Path] = {}
    if finished:
        outputs = write_report(run_dir, values, curriculum, config.to_json())
        if ctx.trainer is not None and config.export:
            outputs["checkpoint"] = ctx.trainer.export(run_dir / "checkpoint")
    return RunResult(run_dir=run_dir, run_id=run_id, steps_done=int(values.get("step", 0)),
                     finished=finished, curriculum=curriculum, history=history,
                     final_accuracy=final_accuracy(history), outputs=outputs)
