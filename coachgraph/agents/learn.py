"""Learning from a step: the student's training objectives and the curriculum's outcomes.

An objective turns a step's graded items into one optimiser step of the student: SFT imitates
its correct answers (and the verified reference solution where every sample failed), GRPO
weighs each sampled answer's tokens by its group-normalised advantage. The curriculum algorithm
learns from the same items as `Outcome`s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

from coachgraph.models.training import GroupRollout, SFTExample, StudentTrainer
from coachgraph.tasks.answers import option_letter
from coachgraph.types import Outcome, StepItem, Task, group_advantages

__all__ = ["OBJECTIVES", "Objective", "graded_outcome", "reference_solution"]

Objective = Literal["sft", "grpo"]


def reference_solution(task: Task) -> str:
    """The verified worked solution of `task`, ending in the answer line the student must give.

    >>> t = Task(id="t", skill="s", category="s", question="What is 2 + 3?", answer="5",
    ...          steps=["2 + 3 = 5"])
    >>> reference_solution(t)
    '2 + 3 = 5\\n#### 5'
    """
    final = option_letter(task.correct_option) if task.correct_option is not None else task.answer
    return "\n".join([*task.steps, f"#### {final}"])


def _sft(trainer: StudentTrainer, items: Sequence[StepItem]) -> dict[str, Any]:
    """Imitate correct answers, and the reference solution where every sample failed."""
    examples = []
    for item in items:
        right = list(dict.fromkeys(a.text for a in item.attempts if a.correct))
        examples += [SFTExample(item.prompt, text) for text in right or [reference_solution(item.task)]]
    return trainer.sft_step(examples)


def _grpo(trainer: StudentTrainer, items: Sequence[StepItem]) -> dict[str, Any]:
    """Group-normalised policy gradient over the sampled answers."""
    groups = [GroupRollout(item.prompt, [a.token_ids for a in item.attempts], item.rewards) for item in items]
    return trainer.grpo_step(groups)


OBJECTIVES: dict[str, Callable[[StudentTrainer, Sequence[StepItem]], dict[str, Any]]] = {"sft": _sft, "grpo": _grpo}
"""Training objectives by name (`AgentConfig.objective`)."""


def graded_outcome(item: StepItem) -> Outcome:
    """What the curriculum algorithm learns from one problem's graded samples: rewards, group
    advantages, and the problem's skill as missing when no sample solved it."""
    missing = [] if any(a.correct for a in item.attempts) else [item.task.skill]
    outcome = Outcome.from_attempts(item.task, item.attempts, missing)
    return outcome.model_copy(update={"advantages": group_advantages(outcome.rewards)})
