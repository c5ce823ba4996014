"""The curriculum prompt stream and reward function that TRL trainers take."""

from __future__ import annotations

import itertools
import json

from coachgraph.agents.trl_bridge import CurriculumPrompts, CurriculumReward
from coachgraph.curriculum import TaskSpace, make_teacher
from coachgraph.tasks import ArithmeticDomain
from coachgraph.types import Task


def test_prompts_follow_the_teacher_and_rewards_update_it() -> None:
    domain = ArithmeticDomain()
    teacher = make_teacher("sec", TaskSpace.of(("add-1d", "sub-1d")), seed=0)
    rows = list(itertools.islice(iter(CurriculumPrompts(teacher, domain, seed=0, batch=2)), 2))
    tasks = [Task.model_validate_json(r["task"]) for r in rows]
    assert all(t.skill in {"add-1d", "sub-1d"} for t in tasks)
    assert rows[0]["prompt"][-1]["content"].startswith(tasks[0].question)
    before = json.dumps(teacher.state_dict())
    reward = CurriculumReward(teacher)
    # two completions per prompt, as GRPO samples them; chat-style completions for the first task
    completions = [[{"role": "assistant", "content": f"#### {tasks[0].answer}"}],
                   [{"role": "assistant", "content": "#### -7"}], "#### -7", f"#### {tasks[1].answer}"]
    task_column = [rows[0]["task"], rows[0]["task"], rows[1]["task"], rows[1]["task"]]
    got = reward([r["prompt"] for r in rows for _ in range(2)], completions, task=task_column)
    assert got == [1.0, 0.0, 0.0, 1.0]
    assert json.dumps(teacher.state_dict()) != before  # SEC learned from the group advantages
