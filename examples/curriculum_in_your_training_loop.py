"""A coachgraph curriculum feeding your own training loop.

Your loop owns the model and the optimiser; the teacher decides what to practise next and learns
from how it went. Here the "model" is a stand-in learner whose skill at each arithmetic skill
grows with practice (and only once its prerequisites are half mastered); swap in your trainer's
step and grader. Run: python examples/curriculum_in_your_training_loop.py
"""

from __future__ import annotations

import random
from collections import Counter

from coachgraph.curriculum import GateConfig, TaskSpace, make_teacher
from coachgraph.skills import prerequisites_within
from coachgraph.tasks import ArithmeticDomain, check_answer
from coachgraph.types import Attempt, Outcome

SKILLS = ("add-1d", "add-2d", "add-2d-carry", "add-3d")
domain = ArithmeticDomain()
space = TaskSpace.of(SKILLS, domain.box())
gate = GateConfig(prerequisites=prerequisites_within(domain.prerequisites, SKILLS))
teacher = make_teacher("prereq-gate+sec", space, seed=0, configs={"prereq-gate": gate})

skill = dict.fromkeys(SKILLS, 0.05)  # your model's chance of solving each skill
rng = random.Random(0)


def your_model_answers(task, rng: random.Random) -> str:
    """Your model's answer: right with its current skill, else off by one."""
    right = rng.random() < skill[task.skill]
    return f"#### {int(task.answer) + (0 if right else 1)}"


def your_training_step(tasks) -> None:
    """Your optimiser step: practice raises skill, faster once the prerequisites are half mastered."""
    for task in tasks:
        ready = all(skill[p] >= 0.5 for p in domain.prerequisites[task.skill] if p in skill)
        skill[task.skill] = min(1.0, skill[task.skill] + (0.02 if ready else 0.002))


practised: Counter[str] = Counter()
for step in range(60):
    decisions = teacher.sample(8)                       # what to practise next
    tasks = [domain.task_for(d, rng) for d in decisions]
    outcomes = []
    for task in tasks:
        answers = [your_model_answers(task, rng) for _ in range(4)]
        attempts = [Attempt(task_id=task.id, text=a, sample=i, correct=check_answer(task, a)[1])
                    for i, a in enumerate(answers)]
        outcomes.append(Outcome.from_attempts(task, attempts))
    your_training_step(tasks)
    teacher.update(outcomes)                            # the teacher learns from how it went
    practised.update(t.skill for t in tasks)
    if step % 20 == 19:
        print(f"step {step + 1}: skill " + ", ".join(f"{s} {v:.2f}" for s, v in skill.items()))

print("practised:", dict(practised))
print("teacher state keys:", sorted(teacher.state_dict())[:4])
