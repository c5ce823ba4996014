"""What every agent node receives through LangGraph's runtime context.

Models, the trainer, the domain and the curriculum teacher are live objects, so they travel in
the runtime context (`context_schema`) rather than in the checkpointed state, which holds only
JSON primitives.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from langchain_core.language_models import BaseChatModel

from coachgraph.curriculum import Teacher
from coachgraph.models.training import StudentTrainer
from coachgraph.skills import SkillLibrary
from coachgraph.tasks import ArithmeticDomain

__all__ = ["AgentConfig", "AgentContext", "Objective"]

Objective = Literal["sft", "grpo"]


@dataclass(frozen=True, slots=True)
class AgentConfig:
    """Per-run knobs shared by the nodes."""

    batch_size: int = 8
    """Problems per training step (curriculum decisions sampled by the planner)."""
    samples: int = 4
    """Answers sampled per problem (G); GRPO needs at least 2 to see any advantage."""
    objective: Objective = "sft"
    """Training objective of the learn node (a key of `OBJECTIVES`)."""
    eval_every: int = 10
    """Held-out evaluation after every this many training steps (and at the start and end)."""
    eval_size: int = 20
    """Held-out problems per skill used by each evaluation (a prefix of the fixed set)."""
    eval_skills: tuple[str, ...] = ()
    """Skills evaluated; empty means every skill of the domain."""
    max_tokens: int = 64
    """Longest student answer, in tokens."""
    temperature: float = 1.0
    """Sampling temperature of the student's training answers (evaluation is greedy)."""
    skills_k: int = 1
    """Skills retrieved into the student's prompt when a library is configured."""
    reformulate: int = 0
    """Failed problems the teacher model rewrites per step (0 turns reformulation off)."""
    synthesize: int = 0
    """Missing skills the teacher model writes a new problem for per step (STAT-Syn; 0: off)."""
    process_reward: str = "none"
    """Process reward added to the outcome: ``none``, ``clip``, ``delta`` or ``clip+delta`` (card 13)."""
    crew: bool = True
    """Score correct answers by CRew when the student is a local model."""
    reflect_every: int = 0
    """Reflection into the skill library after every this many steps (0: never)."""
    save_every: int = 10
    """Trainer state saved after every this many steps (and after the last); a resume replays the rest."""
    seed: int = 0
    """Run seed: problem draws and student samples derive from it and the step number."""
    initial_accuracy: Mapping[str, float] | None = None
    """Held-out accuracy of the untrained student, when it was already measured with the same
    student, held-out set and prompts; the step-0 evaluation then reuses it."""


@dataclass(frozen=True, slots=True)
class AgentContext:
    """Dependencies of the curriculum nodes, injected as `Runtime[AgentContext].context`."""

    student: BaseChatModel
    """The student's chat model (a local one when it trains)."""
    trainer: StudentTrainer | None
    """Updates the student's weights; None evaluates without training."""
    domain: ArithmeticDomain
    """Where problems and held-out sets come from."""
    teacher: Teacher
    """The curriculum algorithm; its state is reloaded from graph state before each use."""
    run_dir: Path
    """Run folder: trainer states go to `run_dir/student/`."""
    config: AgentConfig = AgentConfig()
    """Per-run knobs."""
    teacher_model: BaseChatModel | None = None
    """A chat model that rewrites failed problems (used only when `config.reformulate` > 0)."""
    library: SkillLibrary | None = None
    """Skills retrieved into the student's prompt; None leaves them out."""
