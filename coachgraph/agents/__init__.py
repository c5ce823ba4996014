"""The four roles as behaviour that any graph's nodes call: teacher, student, critic, planner
(with the reflector that writes skills and the objectives the student learns by), plus the
context every graph's nodes share. Each graph's own nodes, typed with its state, live in its
package under `coachgraph.graphs`."""

from __future__ import annotations

from coachgraph.agents.context import BaseContext, shared_chat_model, shared_domain, shared_library
from coachgraph.agents.critic import first_wrong_step, grade_items, judge
from coachgraph.agents.learn import (
    OBJECTIVES,
    Objective,
    ObjectiveWeights,
    graded_outcome,
    reference_solution,
)
from coachgraph.agents.planner import plan_practice, restore_curriculum
from coachgraph.agents.prompts import load_prompts, render_prompt
from coachgraph.agents.reflector import (
    SkillOutcome,
    count_outcomes,
    reflect_due,
    skill_outcomes,
    step_trajectories,
    write_skill,
)
from coachgraph.agents.student import answer_items, answerer, retrieved_skills, student_messages
from coachgraph.agents.teacher import (
    missing_skill_problems,
    planned_problems,
    reformulate,
    reformulations,
    synthesize,
)

__all__ = (
    "OBJECTIVES",
    "BaseContext",
    "Objective",
    "ObjectiveWeights",
    "SkillOutcome",
    "answer_items",
    "answerer",
    "count_outcomes",
    "first_wrong_step",
    "grade_items",
    "graded_outcome",
    "judge",
    "load_prompts",
    "missing_skill_problems",
    "plan_practice",
    "planned_problems",
    "reference_solution",
    "reflect_due",
    "reformulate",
    "reformulations",
    "render_prompt",
    "restore_curriculum",
    "retrieved_skills",
    "shared_chat_model",
    "shared_domain",
    "shared_library",
    "skill_outcomes",
    "step_trajectories",
    "student_messages",
    "synthesize",
    "write_skill",
)
