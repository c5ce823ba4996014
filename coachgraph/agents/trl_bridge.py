"""Our curricula inside TRL's trainers: a prompt stream chosen by the teacher, and a reward that feeds it back.

`GRPOTrainer(train_dataset=CurriculumPrompts(...), reward_funcs=CurriculumReward(...))` trains with
any curriculum algorithm: the dataset asks the teacher for the next problems, and the reward
function grades each completion, groups them per problem and calls `teacher.update`, so the
teacher sees the same outcomes (and group advantages) it sees in our own loop. Rows carry the
task as JSON in the ``task`` column, which TRL passes back to reward functions as a keyword.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from torch.utils.data import IterableDataset

from coachgraph.agents.learn import graded_outcome
from coachgraph.agents.student import student_messages
from coachgraph.curriculum import Teacher
from coachgraph.tasks import TaskDomain, check_answer
from coachgraph.types import Attempt, StepItem, Task

__all__ = ["CurriculumPrompts", "CurriculumReward"]


class CurriculumPrompts(IterableDataset):
    """An endless stream of ``{"prompt": chat, "task": json}`` rows drawn where the teacher points.

    Args:
        teacher: the curriculum algorithm (its state moves as `CurriculumReward` updates it).
        domain: where problems come from.
        seed: seeds the problem draws.
        batch: curriculum decisions asked from the teacher at a time.
    """

    def __init__(self, teacher: Teacher, domain: TaskDomain, seed: int = 0, batch: int = 8) -> None:
        self.teacher, self.domain, self.batch = teacher, domain, batch
        self.rng = random.Random(seed)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            for step in self.teacher.sample(self.batch):
                task = self.domain.task_for(step, self.rng)
                yield {"prompt": student_messages(task), "task": task.model_dump_json()}


def _text(completion: Any) -> str:
    """A completion as text: TRL gives strings for plain prompts, message lists for chats."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content", "") for m in completion if m.get("role", "assistant") == "assistant")


class CurriculumReward:
    """A TRL reward function: 1 for a verified answer, 0 otherwise; outcomes go to the teacher."""

    __name__ = "curriculum_reward"

    def __init__(self, teacher: Teacher) -> None:
        self.teacher = teacher
        self.graded = 0
        """Completions graded so far."""

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], task: Sequence[str],
                 **_: Any) -> list[float]:
        rewards: list[float] = []
        groups: defaultdict[str, list[Attempt]] = defaultdict(list)
        parsed: dict[str, Task] = {}
        for text, raw in zip((_text(c) for c in completions), task, strict=True):
            if raw not in parsed:  # G completions share a problem: read its JSON once
                parsed[raw] = Task.model_validate_json(raw)
            problem = parsed[raw]
            extracted, ok = check_answer(problem, text)
            rewards.append(1.0 if ok else 0.0)
            groups[raw].append(Attempt(task_id=problem.id, text=text, sample=len(groups[raw]),
                                       extracted=extracted, correct=ok))
        self.teacher.update([graded_outcome(StepItem(task=parsed[raw], attempts=attempts))
                             for raw, attempts in groups.items()])
        self.graded += len(rewards)
        return rewards
